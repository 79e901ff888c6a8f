// Go regular expressions (RE2 syntax and semantics), as Prow's job config (`trigger`, `run_if_changed`,
// `skip_if_only_changed`, `branches`), katabot's `tdx.jobs` and Prow's own command regexes are written.
// Backed by re2js, a port of Go's regexp package: matching is linear in the text, so a comment anyone can
// write cannot make a pattern backtrack. Pure: no I/O.
import { RE2JS, RE2JSException } from 're2js';
import { LruMap } from 'toad-cache';

export class GoRegExpError extends Error {
  override name = 'GoRegExpError';
}

/** One match: the whole match at [0], then each group (undefined when the group took no part). */
type GoMatch = ReadonlyArray<string | undefined> & { readonly index: number };

/** A compiled Go regexp. Stateless: one instance may be shared and used concurrently. */
export interface GoRegExp {
  /** The Go source it was compiled from. */
  readonly source: string;
  /** Go's MatchString: whether the pattern matches anywhere in `text` (unanchored). */
  test(text: string): boolean;
  /** Go's FindStringSubmatch: the leftmost match with its groups, or null. */
  exec(text: string): GoMatch | null;
  /** Go's FindAllStringSubmatch: every non-overlapping match, leftmost first. */
  execAll(text: string): GoMatch[];
}

// Sources repeat across calls (every job's trigger, every comment); compiling costs far more than a lookup.
const compiled = new LruMap<GoRegExp>(10_000);

/** Compiles a Go regexp. Throws GoRegExpError with Go's own message for syntax Go rejects. */
export function compileGoRegExp(source: string): GoRegExp {
  const hit = compiled.get(source);
  if (hit !== undefined) return hit;
  let re: RE2JS;
  try {
    re = RE2JS.compile(source);
  } catch (err) {
    if (!(err instanceof RE2JSException)) throw err;
    throw new GoRegExpError(`invalid regular expression ${JSON.stringify(source)}: ${goProblem(err)}`, { cause: err });
  }
  const out: GoRegExp = {
    source,
    test: (text) => re.test(text),
    // re2js always sets `index`; its declared types leave it optional.
    exec: (text) => re.exec(text) as GoMatch | null,
    // The DFA answers "no match" far faster than the capturing engines find none.
    execAll: (text) => (re.test(text) ? ([...re.matchAll(text)] as GoMatch[]) : []),
  };
  compiled.set(source, out);
  return out;
}

/** Go's message without its "error parsing regexp: " prefix, e.g. "missing closing ): `(a`". */
function goProblem(err: Error): string {
  return err.message.replace(/^error parsing regexp: /, '');
}

/** Why Go (and so Prow) would refuse this pattern, or undefined when it compiles. */
export function goRegExpProblem(source: string): string | undefined {
  try {
    compileGoRegExp(source);
    return undefined;
  } catch (err) {
    if (!(err instanceof GoRegExpError) || !(err.cause instanceof Error)) throw err;
    return goProblem(err.cause);
  }
}

/** Go's regexp.QuoteMeta: `text` as a pattern that matches exactly that text. */
export function quoteMeta(text: string): string {
  return RE2JS.quote(text);
}
