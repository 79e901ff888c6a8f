// TDX (confidential hardware) gating: which jobs need the TDX label, and label stickiness. Pure: no I/O.
import type { KatabotConfig } from '../config/types.ts';
import { compileGoRegExp } from '../config/go-regexp.ts';
import { hasLabel, sameLabel } from './labels.ts';

/**
 * Whether `jobName` needs the TDX label to run. `tdx.jobs` is read as Go RE2 (like Prow's job regexes) and used
 * as an unanchored search, like Go's MatchString: ".*-tdx.*" and "-tdx" select the same jobs; write "^…$" to
 * anchor. An empty pattern selects no job. Throws GoRegExpError for an invalid pattern (the config loader
 * rejects one).
 */
export function isTdxJob(policy: KatabotConfig, jobName: string): boolean {
  if (policy.tdx.jobs === '') return false;
  return compileGoRegExp(policy.tdx.jobs).test(jobName);
}

/** Whether the PR carries the TDX approval label. */
export function tdxApproved(policy: KatabotConfig, labels: readonly string[]): boolean {
  return hasLabel(labels, policy.tdx.label);
}

/**
 * Whether `login` may say /ok-to-test-tdx: exactly one of tdx.approvers, ignoring case. No "[bot]"
 * folding: the App "alice[bot]" is not the approver "alice".
 */
export function isTdxApprover(policy: KatabotConfig, login: string): boolean {
  const l = login.toLowerCase();
  return l !== '' && policy.tdx.approvers.some((a) => a.toLowerCase() === l);
}

/** Labels to remove on a new push (`synchronize`): the TDX label unless it is sticky. */
export function tdxLabelsOnPush(policy: KatabotConfig): string[] {
  return policy.tdx.sticky ? [] : [policy.tdx.label];
}

/** Whether TDX jobs may run on the head commit, and why not. */
export interface TdxGate {
  /** A TDX job may run: the label is on the PR and (unless sticky) was given for this head. */
  approved: boolean;
  /** The label is on the PR but was given for an earlier commit (approval is per commit). */
  stale: boolean;
}

/**
 * The TDX gate for the head commit: the label counts only for the head an approver gave it on (`approvedSha()`, the
 * recorded approval), unless the label is sticky. The recorded approval is asked for only when it decides: the
 * label is on the PR, it is not sticky, and a TDX job is among `jobNames`.
 */
export function tdxGate(policy: KatabotConfig, labels: readonly string[], jobNames: readonly string[], headSha: string, approvedSha: () => string | null): TdxGate {
  return tdxGateWhen(policy, labels, jobNames.some((name) => isTdxJob(policy, name)), headSha, approvedSha);
}

/** The same, where the caller knows whether a TDX job is asked for (a GitHub Actions job, a dispatched workflow). */
export function tdxGateWhen(policy: KatabotConfig, labels: readonly string[], tdxAsked: boolean, headSha: string, approvedSha: () => string | null): TdxGate {
  const labelled = tdxApproved(policy, labels);
  if (!labelled) return { approved: false, stale: false };
  if (policy.tdx.sticky) return { approved: true, stale: false };
  if (!tdxAsked) return { approved: false, stale: false };
  const approved = approvedSha() === headSha;
  return { approved, stale: !approved };
}

/** Whether `jobName` may run through the gate. */
export function tdxAllows(policy: KatabotConfig, gate: TdxGate, jobName: string): boolean {
  return gate.approved || !isTdxJob(policy, jobName);
}

/** Whether `label` is the TDX label. */
export function isTdxLabel(policy: KatabotConfig, label: string): boolean {
  return sameLabel(label, policy.tdx.label);
}
