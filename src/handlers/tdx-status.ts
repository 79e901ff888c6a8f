// Publishes the TDX approval of a PR head as a commit status (src/plan/tdx-status.ts), under the PR's lock after
// the event's other effects. Written only when it changes for that head, so redeliveries write nothing.
import type { GitHub, PullFacts } from '../adapters/github.ts';
import { applyLabelChanges } from '../policy/labels.ts';
import { planTdxStatus } from '../plan/tdx-status.ts';
import { repoConfig } from '../plan/repo.ts';
import { RECORD_TTL_SECONDS, type HandlerDeps } from './deps.ts';
import { planWith } from './facts.ts';

export async function publishTdxStatus(
  deps: HandlerDeps,
  gh: GitHub,
  pr: PullFacts,
  changes: { add: readonly string[]; remove: readonly string[] },
  approval: 'record' | 'clear' | 'keep',
): Promise<void> {
  if (pr.state !== 'open') return;
  const input = { policy: repoConfig(deps.config(), gh.owner, gh.repo).policy, headSha: pr.headSha, labels: applyLabelChanges(pr.labels, changes.add, changes.remove), approval };
  const status = await planWith((facts) => planTdxStatus(input, facts), { deps, gh, pr });
  if (!status) return;
  const key = `tdx-status:${gh.fullName}:${pr.headSha}`;
  const wanted = `${status.state}\0${status.description}`;
  if ((await deps.store.get(key)) === wanted) return;
  await gh.createStatus(pr.headSha, { state: status.state, context: status.context, description: status.description });
  await deps.store.set(key, wanted, RECORD_TTL_SECONDS);
}
