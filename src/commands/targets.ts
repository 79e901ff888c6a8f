// Helpers shared by the command parsers. Pure: no I/O.
import type { GoRegExp } from '../config/go-regexp.ts';
import { MAX_TARGETS } from './types.ts';

/** Capture group 1 of every match of `re` in `text` (Go's FindAllStringSubmatch). */
export function captures(re: GoRegExp, text: string): string[] {
  const out: string[] = [];
  for (const m of re.execAll(text)) if (m[1] !== undefined) out.push(m[1]);
  return out;
}

/**
 * Splits the rest of a command line into targets: separated by ASCII blanks (Go's `\s` without newlines)
 * and commas, so "/test a b", "/test a, b", "/test a,b" and "/test a," all work. Keeps the first
 * MAX_TARGETS distinct targets, in order.
 */
export function splitTargets(rests: readonly string[], skip: ReadonlySet<string> = new Set()): string[] {
  const seen = new Set<string>();
  for (const rest of rests) {
    for (const token of rest.split(/[\t\f\r ,]+/)) {
      if (token === '' || skip.has(token) || seen.has(token)) continue;
      seen.add(token);
      if (seen.size >= MAX_TARGETS) return [...seen];
    }
  }
  return [...seen];
}
