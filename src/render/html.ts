// Text into HTML, for everything katabot renders as HTML (reports, the service graph, pages the server answers):
// element content and quoted attribute values alike. Dependency-free: the dashboard's browser bundle shares it.
export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
