// Mermaid text as GitHub renders it in comments: the colours of added and removed items, and safe labels. Pure and
// free of imports, so the dashboard's browser bundle can use it without the trace analysis behind the diffs.

export const COLORS = { added: '#1a7f37', removed: '#cf222e', context: '#8c959f', addedFill: '#dafbe1', removedFill: '#ffebe9' } as const;

/** Text inside a quoted mermaid label: entity codes for what the grammar or the sanitiser would eat. */
export function mermaidText(s: string, max = 60): string {
  const clipped = s.length > max ? s.slice(0, max - 1) + '…' : s;
  return clipped
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/#/g, '#35;')
    .replace(/&/g, '#amp;')
    .replace(/"/g, '#quot;')
    .replace(/</g, '#lt;')
    .replace(/>/g, '#gt;')
    .replace(/`/g, '#96;')
    .replace(/\|/g, '#124;')
    .replace(/[{}[\]]/g, (c) => `#${c.charCodeAt(0)};`);
}
