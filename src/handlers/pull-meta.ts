// What the dashboard shows of a PR besides its jobs: its author and CI labels (ok-to-test, the TDX label), as the
// bot last saw them after handling an event of the PR.
import type { GitHub, PullFacts } from '../adapters/github.ts';
import { applyLabelChanges } from '../policy/labels.ts';
import type { HandlerDeps } from './deps.ts';

/** Keeps the PR's labels as `changes` leave them. */
export async function recordPullMeta(deps: HandlerDeps, gh: GitHub, pr: PullFacts, changes: { add: readonly string[]; remove: readonly string[] }): Promise<void> {
  const labels = applyLabelChanges(pr.labels, changes.add, changes.remove);
  await deps.results.setPullMeta(gh.fullName, pr.number, { author: pr.author, labels, headSha: pr.headSha, at: deps.now().toISOString() });
}
