// Closest job names for an unknown `/test` target. Pure: no I/O.
import { distance } from 'fastest-levenshtein';

/** Longest names compared; longer inputs are not job names anyone typed on purpose. */
const MAX_NAME = 200;

/**
 * Up to `limit` known job names closest to `target`: names containing the target (or contained in it)
 * first, then by edit distance (case-insensitive) within max(2, length/4); ties by name.
 */
export function closestNames(target: string, known: readonly string[], limit = 3): string[] {
  if (target === '' || target.length > MAX_NAME) return [];
  const t = target.toLowerCase();
  const budget = Math.max(2, Math.floor(t.length / 4));
  const scored: Array<{ name: string; rank: number; d: number }> = [];
  for (const name of new Set(known)) {
    if (name === target || name.length > MAX_NAME) continue;
    const n = name.toLowerCase();
    const contains = t.length >= 3 && (n.includes(t) || t.includes(n));
    const d = Math.abs(n.length - t.length) > budget && !contains ? Infinity : distance(n, t);
    if (contains) scored.push({ name, rank: 0, d });
    else if (d <= budget) scored.push({ name, rank: 1, d });
  }
  scored.sort((a, b) => a.rank - b.rank || a.d - b.d || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return scored.slice(0, limit).map((s) => s.name);
}

/** closestNames for each unknown target. */
export function suggestTargets(unknown: readonly string[], known: readonly string[], limit = 3): Record<string, string[]> {
  const out: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  for (const u of unknown) out[u] = closestNames(u, known, limit);
  return out;
}
