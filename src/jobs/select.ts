// Which presubmits run: Prow's trigger filters (pkg/pjutil/filter.go) and Presubmit.ShouldRun
// (pkg/config/jobs.go), over katabot's job types. Pure.
import { distance } from 'fastest-levenshtein';
import type { JobConfig, Presubmit } from './types.ts';
import { escapeRegex, goRegex } from './regex.ts';

export interface SelectedJob {
  presubmit: Presubmit;
  /** true when a `/test <job>` named the job: its change rules were ignored. */
  forced: boolean;
}

/** A job's latest result for the head SHA, from commit statuses and/or check runs. */
export type JobResult = 'success' | 'failure' | 'error' | 'pending' | (string & {});

// Compiled regexes, cached per source (job objects are immutable snapshots, sources repeat across calls).
const cache = new Map<string, RegExp>();
function compiled(source: string, kind: string, job: string): RegExp {
  const key = `${kind}\u0000${source}`;
  let re = cache.get(key);
  if (!re) {
    try {
      re = goRegex(source);
    } catch (e) {
      throw new Error(`job ${job}: invalid ${kind} regex ${JSON.stringify(source)}: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (cache.size > 5000) cache.clear();
    cache.set(key, re);
  }
  return re;
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

/** The Go source of the trigger regex: `trigger`, or Prow's default with the name escaped. */
export function triggerSourceOf(p: Presubmit): string {
  if (p.trigger) return p.trigger;
  // Prow interpolates the raw name (so `.` in a name matches any character); katabot escapes it.
  return `(?m)^/test( | .* )${escapeRegex(p.name)},?($|\\s.*)`;
}

/** The trigger as a JS RegExp (Go RE2 inline flags such as `(?m)` translated). */
export function triggerOf(p: Presubmit): RegExp {
  return compiled(triggerSourceOf(p), 'trigger', p.name);
}

/** Prow's ContextRequired: a required context is neither optional nor skip_report. */
export function contextRequired(p: Presubmit): boolean {
  return !p.optional && !p.skip_report;
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
  return filterPresubmits((p) => {
    const m = triggerOf(p).test(text);
    return [m, m, true];
  }, presubmits, baseRef, changedFiles);
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
  results: ReadonlyMap<string, JobResult>,
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

/**
 * The targets of `/test a b` that name no job runnable on this branch (neither by name nor through a job's
 * trigger), each with up to 3 suggestions: prefix and substring matches first, then the nearest by edit distance.
 */
export function unknownTargets(targets: readonly string[], presubmits: readonly Presubmit[], baseRef: string): { unknown: string[]; suggestions: Record<string, string[]> } {
  const onBranch = presubmits.filter((p) => branchMatches(p, baseRef));
  const names = [...new Set(onBranch.map((p) => p.name))];
  const unknown: string[] = [];
  const suggestions: Record<string, string[]> = {};
  for (const target of targets) {
    if (unknown.includes(target)) continue;
    const known = onBranch.some((p) => p.name === target || triggerOf(p).test(`/test ${target}`));
    if (known) continue;
    unknown.push(target);
    suggestions[target] = closestNames(target, names);
  }
  return { unknown, suggestions };
}

/** Up to `max` names close to `target`: prefix, then substring, then Levenshtein ≤ max(2, ⌊len/3⌋). */
export function closestNames(target: string, names: readonly string[], max = 3): string[] {
  const t = target.toLowerCase();
  const limit = Math.max(2, Math.floor(t.length / 3));
  const scored: Array<{ name: string; rank: number; d: number }> = [];
  for (const name of names) {
    const n = name.toLowerCase();
    const d = distance(t, n);
    let rank: number;
    if (t.length > 0 && n.startsWith(t)) rank = 0;
    else if (t.length >= 3 && n.includes(t)) rank = 1;
    else if (n.length >= 3 && t.includes(n)) rank = 1;
    else if (d <= limit) rank = 2;
    else continue;
    scored.push({ name, rank, d });
  }
  scored.sort((a, b) => a.rank - b.rank || a.d - b.d || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return scored.slice(0, max).map((s) => s.name);
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
