// The TDX approval as a commit status on the PR head (`katabot/tdx-approved` by default), for workflows that gate
// their TDX jobs on it: success for a head an approver approved, pending naming the approvers otherwise. Set after
// every event that may change it (a push, the label, /ok-to-test-tdx). Pure: the recorded approval is a fact.
import type { KatabotConfig } from '../config/types.ts';
import { CONTEXT_DESCRIPTION_MAX_LEN } from '../render/status.ts';
import { tdxApproved } from '../policy/tdx.ts';
import { need, step, type Facts, type Step } from './facts.ts';

export interface TdxStatusInput {
  policy: KatabotConfig;
  headSha: string;
  /** The PR's labels after the event's changes. */
  labels: readonly string[];
  /** What the event did to the recorded approval. */
  approval: 'record' | 'clear' | 'keep';
}

export interface TdxStatus {
  context: string;
  state: 'success' | 'pending';
  description: string;
}

export function planTdxStatus(input: TdxStatusInput, facts: Facts): Step<TdxStatus | undefined> {
  return step(() => tdxStatus(input, () => (input.approval === 'record' ? input.headSha : input.approval === 'clear' ? null : need(facts.tdxApproval, { fact: 'tdxApproval' }))));
}

/** The status for the head, or none when it is off (tdx.status: false) or nobody could approve (no approvers). */
function tdxStatus(i: TdxStatusInput, approvedSha: () => string | null): TdxStatus | undefined {
  const { tdx } = i.policy;
  if (!tdx.status || tdx.approvers.length === 0) return undefined;
  const approved = tdxApproved(i.policy, i.labels) && (tdx.sticky || approvedSha() === i.headSha);
  const description = approved
    ? `TDX jobs approved for ${i.headSha.slice(0, 7)} by a TDX approver`
    : `Waiting for /ok-to-test-tdx from ${tdx.approvers.join(', ')}`;
  return { context: tdx.status_context, state: approved ? 'success' : 'pending', description: fit(description) };
}

function fit(s: string): string {
  return s.length <= CONTEXT_DESCRIPTION_MAX_LEN ? s : `${s.slice(0, CONTEXT_DESCRIPTION_MAX_LEN - 1)}…`;
}
