// TDX jobs run on confidential hardware, so they need an approver's label for the exact head commit.
// The label alone is not enough: a push can race the label's removal, so the approved SHA is recorded too.
import type { GitHub, PullFacts } from '../adapters/github.ts';
import { isTdxJob, tdxApproved } from '../policy/tdx.ts';
import type { HandlerDeps } from './deps.ts';

export function tdxApprovalKey(gh: GitHub, pr: number): string {
  return `tdx-approved:${gh.fullName}#${pr}`;
}

export interface TdxApproval {
  /** Whether a TDX job may run on the current head. */
  allows(jobName: string): boolean;
  /** The label is on the PR but was given for an earlier commit (approval is per commit). */
  stale: boolean;
}

export async function tdxApproval(deps: HandlerDeps, gh: GitHub, pr: PullFacts, labels: readonly string[]): Promise<TdxApproval> {
  const policy = deps.config().katabot;
  const labelled = tdxApproved(policy, labels);
  let approved = labelled;
  if (approved && !policy.tdx.sticky) approved = (await deps.store.get(tdxApprovalKey(gh, pr.number))) === pr.headSha;
  return { allows: (jobName) => approved || !isTdxJob(policy, jobName), stale: labelled && !approved };
}
