// Prow's job config regexes (`trigger`, `run_if_changed`, `skip_if_only_changed`, `branches`) are Go RE2.
// One translator serves commands, policy and jobs: this module names it the way job code reads.
import { compileGoRegExp, GoRegExpError, quoteMeta, translateGoRegExp } from '../commands/go-regexp.ts';

export { GoRegExpError as GoRegexError };

/** Compiles a Go regular expression as the equivalent JavaScript RegExp. */
export function goRegex(source: string, extraFlags = ''): RegExp {
  // g and y make RegExp.test stateful, which would make a shared job regex match only every other time.
  return compileGoRegExp(source, extraFlags.replace(/[gy]/g, ''));
}

export function translateGoRegex(source: string): { source: string; flags: string } {
  return translateGoRegExp(source);
}

/** Why Go (and so Prow) would refuse this pattern, or undefined when it compiles. */
export function goRegexProblem(source: string): string | undefined {
  try {
    compileGoRegExp(source);
    return undefined;
  } catch (err) {
    // Callers quote the pattern themselves; keep the problem and its offset.
    return (err as Error).message.replace(/ in ".*"$/s, '');
  }
}

/** Escapes text so it matches literally, in both Go and JS syntax. */
export function escapeRegex(text: string): string {
  return quoteMeta(text);
}
