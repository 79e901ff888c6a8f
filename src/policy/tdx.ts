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

/** Alias of isTdxApprover. */
export const isApprover = isTdxApprover;

/** Labels to remove on a new push (`synchronize`): the TDX label unless it is sticky. */
export function tdxLabelsOnPush(policy: KatabotConfig): string[] {
  return policy.tdx.sticky ? [] : [policy.tdx.label];
}

/** Splits job names into those allowed to run and TDX jobs blocked for want of the label. */
export function partitionTdxJobs(
  policy: KatabotConfig,
  labels: readonly string[],
  jobNames: readonly string[],
): { allowed: string[]; blocked: string[] } {
  const approved = tdxApproved(policy, labels);
  const allowed: string[] = [];
  const blocked: string[] = [];
  for (const name of jobNames) (approved || !isTdxJob(policy, name) ? allowed : blocked).push(name);
  return { allowed, blocked };
}

/** Whether `label` is the TDX label. */
export function isTdxLabel(policy: KatabotConfig, label: string): boolean {
  return sameLabel(label, policy.tdx.label);
}
