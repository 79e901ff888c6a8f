// TDX jobs run on confidential hardware, so they need an approver's label for the exact head commit.
// The label alone is not enough: a push can race the label's removal, so the approved SHA is recorded too.
import type { GitHub, PullFacts } from '../adapters/github.ts';
import { isTdxJob, tdxApproved } from '../policy/tdx.ts';
import type { HandlerDeps } from './deps.ts';

export function tdxApprovalKey(gh: GitHub, pr: number): string {
  return `tdx-approved:${gh.fullName}#${pr}`;
}

export async function tdxGate(
  deps: HandlerDeps,
  gh: GitHub,
  pr: PullFacts,
  labels: readonly string[],
): Promise<(jobName: string) => boolean> {
  const policy = deps.config().katabot;
  let approved = tdxApproved(policy, labels);
  if (approved && !policy.tdx.sticky) approved = (await deps.store.get(tdxApprovalKey(gh, pr.number))) === pr.headSha;
  return (jobName) => approved || !isTdxJob(policy, jobName);
}
