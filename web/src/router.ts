// The address bar is the page's state: view and filters live in the URL (src/dashboard/query.ts), so a link shows
// what its sender saw. Navigation inside the dashboard uses the History API; everything else is a normal link.
import { useEffect, useState } from 'preact/hooks';
import { BASE, parseQuery, type DashboardQuery } from '../../src/dashboard/query.ts';

const EVENT = 'katabot:navigate';

export function currentQuery(): DashboardQuery {
  return parseQuery(new URLSearchParams(location.search), location.pathname);
}

export function navigate(url: string, opts: { replace?: boolean } = {}): void {
  if (url === location.pathname + location.search) return;
  if (opts.replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  window.dispatchEvent(new Event(EVENT));
  if (!opts.replace) window.scrollTo(0, 0);
}

export function useQuery(): DashboardQuery {
  const [q, setQ] = useState(currentQuery);
  useEffect(() => {
    const on = () => setQ(currentQuery());
    window.addEventListener('popstate', on);
    window.addEventListener(EVENT, on);
    return () => {
      window.removeEventListener('popstate', on);
      window.removeEventListener(EVENT, on);
    };
  }, []);
  return q;
}

/** Sends clicks on same-origin dashboard links through navigate() (modified clicks open tabs as usual). */
export function interceptLinks(root: HTMLElement): void {
  root.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = (e.target as Element | null)?.closest?.('a');
    if (!a || a.target || a.hasAttribute('download')) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || !url.pathname.startsWith(BASE) || url.pathname.endsWith('/report')) return;
    e.preventDefault();
    navigate(url.pathname + url.search);
  });
}
