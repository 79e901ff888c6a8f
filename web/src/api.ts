// Reads the JSON API. A view keeps showing its last data while it refreshes (every minute while the tab is
// visible); data is only ever handed to the view of the URL it came from.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export interface ApiState<T> {
  data?: T;
  error?: string;
  status?: number;
  loading: boolean;
  /** When the data was received (ms). */
  at?: number;
  reload: () => void;
}

interface Held {
  url: string | undefined;
  data?: unknown;
  error?: string;
  status?: number;
  loading: boolean;
  at?: number;
}

const cache = new Map<string, { data: unknown; at: number }>();
const REFRESH_MS = 60_000;

async function getJson(url: string): Promise<{ data?: unknown; error?: string; status: number }> {
  let res: Response;
  try {
    res = await fetch(url, { headers: { accept: 'application/json' } });
  } catch {
    return { error: 'The dashboard cannot reach katabot.', status: 0 };
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    return { error: `katabot answered ${res.status} without JSON.`, status: res.status };
  }
  if (!res.ok) return { error: (body as { error?: string }).error ?? `katabot answered ${res.status}.`, status: res.status };
  return { data: body, status: res.status };
}

function initial(url: string | undefined): Held {
  const hit = url ? cache.get(url) : undefined;
  return hit ? { url, data: hit.data, at: hit.at, loading: true } : { url, loading: url !== undefined };
}

export function useApi<T>(url: string | undefined): ApiState<T> {
  const [held, setHeld] = useState<Held>(() => initial(url));
  const seq = useRef(0);

  const load = useCallback(async () => {
    if (!url) return;
    const n = ++seq.current;
    setHeld((s) => (s.url === url ? { ...s, loading: true } : initial(url)));
    const r = await getJson(url);
    if (n !== seq.current) return;
    if (r.data !== undefined) {
      const at = Date.now();
      cache.set(url, { data: r.data, at });
      setHeld({ url, data: r.data, at, loading: false, status: r.status });
    } else {
      setHeld((s) => ({ ...(s.url === url ? s : { url }), error: r.error!, status: r.status, loading: false }));
    }
  }, [url]);

  useEffect(() => {
    void load();
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') void load();
    }, REFRESH_MS);
    return () => {
      clearInterval(timer);
      seq.current++;
    };
  }, [load]);

  // Until the effect has run for a new URL, show what is known about that URL, never the previous URL's data.
  const s = held.url === url ? held : initial(url);
  const out: ApiState<T> = { loading: s.loading, reload: () => void load() };
  if (s.data !== undefined) out.data = s.data as T;
  if (s.error !== undefined) out.error = s.error;
  if (s.status !== undefined) out.status = s.status;
  if (s.at !== undefined) out.at = s.at;
  return out;
}
