// Which postsubmits a push starts, as Prow's trigger decides (pkg/plugins/trigger/push.go handlePE,
// pkg/config/jobs.go Postsubmit.ShouldRun, pkg/github PushEvent.Branch). Pure.
import { branchMatches, runsAgainstChanges } from './select.ts';
import type { Postsubmit } from '../config/prow-types.ts';

/** The parts of a GitHub `push` payload trigger reads. */
export interface PushFacts {
  /** `refs/heads/<branch>` or `refs/tags/<tag>` */
  ref: string;
  /** SHA the ref points to after the push; all zeros when the ref was deleted. */
  after: string;
  deleted?: boolean;
  commits?: ReadonlyArray<{ added?: readonly string[]; removed?: readonly string[]; modified?: readonly string[] }>;
}

const ZERO_SHA = /^0{40}$/;

/** handlePE's first check: a deleted branch or tag starts nothing. */
export function isDeletedRef(push: Pick<PushFacts, 'after' | 'deleted'>): boolean {
  return push.deleted === true || ZERO_SHA.test(push.after);
}

/** PushEvent.Branch(): the ref without `refs/heads/` or `refs/tags/` — a tag push matches `branches` by tag name. */
export function pushBaseRef(ref: string): string {
  return ref.replace(/^refs\/heads\//, '').replace(/^refs\/tags\//, '');
}

/**
 * listPushEventChanges: every file added, removed or modified by the push's commits, once each (sorted here; Prow's
 * order is a map's). GitHub lists at most 20 commits in a push payload; Prow uses what the payload has, and so does
 * this.
 */
export function pushChangedFiles(push: Pick<PushFacts, 'commits'>): string[] {
  const files = new Set<string>();
  for (const c of push.commits ?? []) for (const f of [...(c.added ?? []), ...(c.removed ?? []), ...(c.modified ?? [])]) files.add(f);
  return [...files].sort();
}

/**
 * Postsubmit.ShouldRun: the branch (or tag) must match `branches` / `skip_branches`; then `run_if_changed` or
 * `skip_if_only_changed` decide over the changed files when set; else an explicit `always_run` decides; else the
 * job runs (postsubmits run on every push by default).
 */
export function postsubmitShouldRun(p: Postsubmit, baseRef: string, changedFiles: readonly string[]): boolean {
  if (!branchMatches(p, baseRef)) return false;
  if (p.run_if_changed || p.skip_if_only_changed) return runsAgainstChanges(p, changedFiles);
  if (typeof p.always_run === 'boolean') return p.always_run;
  return true;
}

/** The postsubmits a push of `baseRef` with `changedFiles` starts, in config order. */
export function selectPostsubmits(postsubmits: readonly Postsubmit[], baseRef: string, changedFiles: readonly string[]): Postsubmit[] {
  return postsubmits.filter((p) => postsubmitShouldRun(p, baseRef, changedFiles));
}

/** Everything a push handler needs from the payload: nothing for a deleted ref, else the jobs to start. */
export function postsubmitsForPush(postsubmits: readonly Postsubmit[], push: PushFacts): { baseRef: string; changedFiles: string[]; jobs: Postsubmit[] } {
  const baseRef = pushBaseRef(push.ref);
  if (isDeletedRef(push)) return { baseRef, changedFiles: [], jobs: [] };
  const changedFiles = pushChangedFiles(push);
  return { baseRef, changedFiles, jobs: selectPostsubmits(postsubmits, baseRef, changedFiles) };
}
