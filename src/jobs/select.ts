// Which presubmits run: Prow's trigger filters (pkg/pjutil/filter.go) and Presubmit.ShouldRun
// (pkg/config/jobs.go), over katabot's job types. Pure.
import { distance } from 'fastest-levenshtein';
import type { JobConfig, Presubmit } from '../config/prow-types.ts';
import { compileGoRegExp, goRegExpProblem, quoteMeta, type GoRegExp } from '../config/go-regexp.ts';

export interface SelectedJob {
  presubmit: Presubmit;
  /** true when a `/test <job>` named the job: its change rules were ignored. */
  forced: boolean;
}

/** A context's latest result on a commit, from commit statuses and check runs (src/plan/head-results.ts). */
export type ResultState = 'success' | 'failure' | 'error' | 'pending';

/** A job's Go regex, compiled (and cached) by go-regexp.ts; an invalid one names the job and the key. */
function compiled(source: string, kind: string, job: string): GoRegExp {
  const problem = goRegExpProblem(source);
  if (problem !== undefined) throw new Error(`job ${job}: invalid ${kind} regex ${JSON.stringify(source)}: ${problem}`);
  return compileGoRegExp(source);
}

/** The presubmits configured for `org/repo` (an empty list when none). */
export function presubmitsFor(jobs: JobConfig, org: string, repo: string): Presubmit[] {
  return jobs.presubmits[`${org}/${repo}`] ?? [];
}

/**
 * Prow's Brancher.ShouldRun: no lists → every branch; `skip_branches` wins over `branches`. Each list is joined
 * with `|` and compiled as one Go regex matched *unanchored* (Go's MatchString), exactly as Prow does: an exact
 * branch name and a full-match regex both match, and so does any branch that merely contains a match (an entry
 * `main` also matches `maintenance`; write `^main$` to avoid that).
 */
export function branchMatches(p: Pick<Presubmit, 'name' | 'branches' | 'skip_branches'>, baseRef: string): boolean {
  const branches = p.branches ?? [];
  const skip = p.skip_branches ?? [];
  if (branches.length === 0 && skip.length === 0) return true;
  if (skip.length > 0 && compiled(skip.join('|'), 'skip_branches', p.name).test(baseRef)) return false;
  return branches.length === 0 || compiled(branches.join('|'), 'branches', p.name).test(baseRef);
}

/** Prow's NeedsExplicitTrigger: neither always_run nor a change rule, so only `/test <job>` runs it. */
export function needsExplicitTrigger(p: Presubmit): boolean {
  return !p.always_run && !p.run_if_changed && !p.skip_if_only_changed;
}

/** The GitHub status/check context: `context`, defaulting to the job name. */
export function contextOf(p: Presubmit): string {
  return p.context || p.name;
}

/** `rerun_command`, defaulting to `/test <name>` (Prow applies defaults only when trigger and rerun_command are both empty). */
export function rerunCommandOf(p: Presubmit): string {
  return p.trigger || p.rerun_command ? (p.rerun_command ?? '') : `/test ${p.name}`;
}

/**
 * Prow's DefaultTriggerFor: `(?m)^/test( | .* )<name>,?($|\s.*)`. Prow interpolates the raw name (so `.` in a
 * name matches any character); katabot escapes it (QuoteMeta).
 */
function defaultTriggerSource(name: string): string {
  return String.raw`(?m)^/test( | .* )` + quoteMeta(name) + String.raw`,?($|\s.*)`;
}

/** The Go source of the trigger regex: `trigger`, or Prow's default. */
export function triggerSourceOf(p: Presubmit): string {
  return p.trigger || defaultTriggerSource(p.name);
}

/** The trigger, compiled. */
export function triggerOf(p: Presubmit): GoRegExp {
  return compiled(triggerSourceOf(p), 'trigger', p.name);
}

/** Job names (config.go's jobNameRegex) contain no whitespace, so defaultTriggerWords decides their default trigger. */
const PLAIN_NAME = /^[A-Za-z0-9._-]+$/;

/**
 * Every name whose default trigger matches `text`, as a set: the default trigger of a job N (N a plain name)
 * matches `text` exactly when N is in it. The regex asks for a line starting "/test ", then N right after a
 * space (the one after "/test" or a later one), then an optional comma, then the end of the line or Go's `\s`.
 * So the candidates are the space-preceded words of such lines (words end at `\s`), each also without one
 * trailing comma. One pass over the text instead of one regex search per job: a comment costs the same
 * whether the repository has 20 jobs or 2,000 (the test suite checks the equivalence against the regex).
 */
export function defaultTriggerWords(text: string): Set<string> {
  const words = new Set<string>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('/test ')) continue;
    let start = -1;
    for (let i = 5; i <= line.length; i++) {
      const c = line.charCodeAt(i);
      // Go's \s within a line: \t \f \r and space (\n ends the line; \v is not \s in Go).
      const blank = i === line.length || c === 9 || c === 12 || c === 13 || c === 32;
      if (!blank) {
        if (start < 0) start = i;
        continue;
      }
      if (start > 0 && line.charCodeAt(start - 1) === 32) {
        const word = line.slice(start, i);
        words.add(word);
        if (word.length > 1 && word.endsWith(',')) words.add(word.slice(0, -1));
      }
      start = -1;
    }
  }
  return words;
}

/** Whether the job's trigger matches `text`; `words` is defaultTriggerWords(text). */
function triggerMatches(p: Presubmit, text: string, words: ReadonlySet<string>): boolean {
  if (!p.trigger && PLAIN_NAME.test(p.name)) return words.has(p.name);
  return triggerOf(p).test(text);
}

function hasChangeRule(p: Presubmit): boolean {
  return Boolean(p.run_if_changed || p.skip_if_only_changed);
}

/** true when any of the presubmits has run_if_changed or skip_if_only_changed, so the PR's files are needed. */
export function needsChangedFiles(presubmits: readonly Presubmit[]): boolean {
  return presubmits.some(hasChangeRule);
}

/**
 * Prow's RegexpChangeMatcher.RunsAgainstChanges: run_if_changed runs when any path matches; skip_if_only_changed
 * runs when any path does not match (skips when all match, and also when there are no changes).
 */
export function runsAgainstChanges(p: Pick<Presubmit, 'name' | 'run_if_changed' | 'skip_if_only_changed'>, changedFiles: readonly string[]): boolean {
  if (p.run_if_changed) {
    const re = compiled(p.run_if_changed, 'run_if_changed', p.name);
    return changedFiles.some((f) => re.test(f));
  }
  if (p.skip_if_only_changed) {
    const re = compiled(p.skip_if_only_changed, 'skip_if_only_changed', p.name);
    return changedFiles.some((f) => !re.test(f));
  }
  return false;
}

/**
 * Prow's Presubmit.ShouldRun(baseRef, changes, forced, defaults): branch first, then always_run, then forced,
 * then `(change rule determined && matches) || defaults`. Changed files are read only when a change rule decides;
 * passing undefined there is a caller bug (see needsChangedFiles) and throws.
 */
export function shouldRun(p: Presubmit, baseRef: string, changedFiles: readonly string[] | undefined, forced: boolean, defaults: boolean): boolean {
  if (!branchMatches(p, baseRef)) return false;
  if (p.always_run) return true;
  if (forced) return true;
  if (hasChangeRule(p)) {
    if (defaults) return true;
    if (changedFiles === undefined) throw new Error(`job ${p.name}: changed files are needed to evaluate its change rule`);
    return runsAgainstChanges(p, changedFiles);
  }
  return defaults;
}

/** filter: (matches, forced, defaults), as Prow's pjutil.Filter. */
type Filter = (p: Presubmit) => [boolean, boolean, boolean];

function filterPresubmits(filter: Filter, presubmits: readonly Presubmit[], baseRef: string, changedFiles: readonly string[] | undefined): SelectedJob[] {
  const out: SelectedJob[] = [];
  for (const presubmit of presubmits) {
    const [matches, forced, defaults] = filter(presubmit);
    if (!matches) continue;
    if (shouldRun(presubmit, baseRef, changedFiles, forced, defaults)) out.push({ presubmit, forced });
  }
  return out;
}

/**
 * `/test all`, `/ok-to-test` and new pushes (TestAllFilter): jobs that do not need an explicit trigger, not forced,
 * default false — always_run jobs plus change-rule jobs whose rule matches. Manual-only jobs never run.
 */
export function selectForTestAll(presubmits: readonly Presubmit[], baseRef: string, changedFiles: readonly string[] | undefined): SelectedJob[] {
  return filterPresubmits((p) => [!needsExplicitTrigger(p), false, false], presubmits, baseRef, changedFiles);
}

/**
 * `/test <job>…` (CommandFilter): every job whose trigger matches the comment text is forced (change rules
 * ignored); the branch must still match. Pass the comment text with code blocks and quotes already removed.
 */
export function selectForCommentText(presubmits: readonly Presubmit[], baseRef: string, text: string, changedFiles?: readonly string[]): SelectedJob[] {
  const words = defaultTriggerWords(text);
  return filterPresubmits((p) => {
    const m = triggerMatches(p, text, words);
    return [m, m, true];
  }, presubmits, baseRef, changedFiles);
}

/**
 * `/test-manual-required` (Prow's TestManualRequiredFilter): required jobs that run only when asked for (not optional,
 * no always_run, no change rule), forced, so they start whatever the PR changed.
 */
export function selectForTestManualRequired(presubmits: readonly Presubmit[], baseRef: string): SelectedJob[] {
  return filterPresubmits((p) => {
    const manualRequired = !p.optional && needsExplicitTrigger(p);
    return [manualRequired, manualRequired, false];
  }, presubmits, baseRef, undefined);
}

/** Results that count as failed for `/retest`: statuses `failure`/`error` and check-run failure conclusions. */
const FAILED_RESULTS: ReadonlySet<string> = new Set(['failure', 'error', 'timed_out', 'cancelled', 'startup_failure']);

export function isFailedResult(r: string): boolean {
  return FAILED_RESULTS.has(r);
}

/**
 * `/retest` and `/retest-required` (RetestFilter): a job whose context failed reruns with default=true (so even
 * when its run_if_changed no longer matches); an automatic job with no result yet runs conditionally; successful
 * and pending jobs are not rerun. `requiredOnly` skips optional jobs.
 */
export function selectForRetest(
  presubmits: readonly Presubmit[],
  baseRef: string,
  changedFiles: readonly string[] | undefined,
  // A status state or a check-run conclusion per context (ResultState, or GitHub's raw words).
  results: ReadonlyMap<string, string>,
  options: { requiredOnly?: boolean } = {},
): SelectedJob[] {
  return filterPresubmits((p) => {
    if (options.requiredOnly && p.optional) return [false, false, false];
    const ctx = contextOf(p);
    const result = results.get(ctx);
    const failed = result !== undefined && isFailedResult(result);
    return [failed || (!needsExplicitTrigger(p) && result === undefined), false, failed];
  }, presubmits, baseRef, changedFiles);
}

/** Unknown targets that get suggestions: as many as the reply lists (report/replies.ts MAX_UNKNOWN_LISTED). */
export const SUGGESTED_TARGETS = 20;

/**
 * The targets of `/test a b` that name no job runnable on this branch (neither by name nor through a job's
 * trigger). The first SUGGESTED_TARGETS of them get up to 3 suggestions each (closestNames); the parser keeps at
 * most MAX_TARGETS targets per command, so a comment costs at most that many lookups and suggestion passes.
 */
export function unknownTargets(targets: readonly string[], presubmits: readonly Presubmit[], baseRef: string): { unknown: string[]; suggestions: Record<string, string[]> } {
  const onBranch = presubmits.filter((p) => branchMatches(p, baseRef));
  const names = [...new Set(onBranch.map((p) => p.name))];
  const known = new Set(names);
  // A plain name's default trigger matches "/test <target>" only when the target is that name (targets hold no
  // blank or comma), so only the other triggers need a search.
  const searched = onBranch.filter((p) => p.trigger || !PLAIN_NAME.test(p.name));
  const lowered = lowerNames(names);
  const unknown: string[] = [];
  const suggestions: Record<string, string[]> = {};
  for (const target of new Set(targets)) {
    if (known.has(target)) continue;
    const text = `/test ${target}`;
    if (searched.some((p) => triggerOf(p).test(text))) continue;
    if (unknown.length < SUGGESTED_TARGETS) suggestions[target] = closest(target, lowered, 3);
    unknown.push(target);
  }
  return { unknown, suggestions };
}

/** Longest target that gets suggestions: no job name is this long, so a longer one is nobody's typo. */
const MAX_SUGGESTED_LENGTH = 256;

/**
 * Up to `max` names close to `target`: prefix, then substring, then Levenshtein ≤ max(2, ⌊len/3⌋); nearer first.
 * Bounded work for a hostile target: a prefix or substring is exactly the length difference away, the edit
 * distance is computed only when the length difference is within the limit (it is never smaller than that), and
 * then only between what differs (a common prefix and suffix change no edit distance).
 */
export function closestNames(target: string, names: readonly string[], max = 3): string[] {
  return closest(target, lowerNames(names), max);
}

type LoweredName = readonly [name: string, lower: string];

function lowerNames(names: readonly string[]): LoweredName[] {
  return names.map((name) => [name, name.toLowerCase()]);
}

function closest(target: string, names: readonly LoweredName[], max: number): string[] {
  if (target.length > MAX_SUGGESTED_LENGTH) return [];
  const t = target.toLowerCase();
  const limit = Math.max(2, Math.floor(t.length / 3));
  const scored: Array<{ name: string; rank: number; d: number }> = [];
  for (const [name, n] of names) {
    const gap = Math.abs(n.length - t.length);
    if (t.length > 0 && n.startsWith(t)) scored.push({ name, rank: 0, d: gap });
    else if ((t.length >= 3 && n.includes(t)) || (n.length >= 3 && t.includes(n))) scored.push({ name, rank: 1, d: gap });
    else if (gap <= limit) {
      const d = editDistance(t, n);
      if (d <= limit) scored.push({ name, rank: 2, d });
    }
  }
  scored.sort((a, b) => a.rank - b.rank || a.d - b.d || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return scored.slice(0, max).map((s) => s.name);
}

/** Levenshtein distance of what differs between `a` and `b` once their common prefix and suffix are cut. */
function editDistance(a: string, b: string): number {
  const shorter = Math.min(a.length, b.length);
  let start = 0;
  while (start < shorter && a.charCodeAt(start) === b.charCodeAt(start)) start++;
  let end = 0;
  while (end < shorter - start && a.charCodeAt(a.length - 1 - end) === b.charCodeAt(b.length - 1 - end)) end++;
  return distance(a.slice(start, a.length - end), b.slice(start, b.length - end));
}

/**
 * Job names for `/test ?` help, for jobs that can run on `baseRef` (as Prow's AvailablePresubmits): required
 * (not optional), optional, and automatic (what `/test all` would run: with changed files, the test-all selection;
 * without, every job that does not need an explicit trigger). Sorted, no duplicates.
 */
export function jobLists(presubmits: readonly Presubmit[], baseRef: string, changedFiles?: readonly string[]): { required: string[]; optional: string[]; automatic: string[] } {
  const onBranch = presubmits.filter((p) => branchMatches(p, baseRef));
  const sorted = (xs: Iterable<string>): string[] => [...new Set(xs)].sort();
  const automatic = changedFiles !== undefined || !needsChangedFiles(onBranch)
    ? selectForTestAll(onBranch, baseRef, changedFiles ?? []).map((s) => s.presubmit.name)
    : onBranch.filter((p) => !needsExplicitTrigger(p)).map((p) => p.name);
  return {
    required: sorted(onBranch.filter((p) => !p.optional).map((p) => p.name)),
    optional: sorted(onBranch.filter((p) => p.optional).map((p) => p.name)),
    automatic: sorted(automatic),
  };
}
