// Reruns from GitHub's check UI (the Re-run buttons, and katabot's requested actions Re-run and Trace) and from
// "Re-run failed checks" on a suite: the jobs behind the check runs, on the PR whose head they ran, with /retest's
// trust rule (/trace's for traced reruns). Pure: the handler gathers the jobs and the PR as facts.
import type { KatabotConfig } from '../config/types.ts';
import type { Presubmit } from '../config/prow-types.ts';
import { decideCommand } from '../policy/commands.ts';
import { tdxAllows, tdxGate } from '../policy/tdx.ts';
import { pullRequestTrusted } from '../policy/trust.ts';
import { isTrustedUser, need, step, type Facts, type PullFacts, type Step } from './facts.ts';
import type { ProwRun } from './runs.ts';

export interface RerunInput {
  owner: string;
  repo: string;
  policy: KatabotConfig;
  botLogin: string;
  requester: string;
  /** The commit whose check was re-requested. */
  headSha: string;
  traced: boolean;
  presubmits: readonly Presubmit[];
  /** In-repo config is on: a job not in the central config may come from the PR's `.prow.yaml`. */
  inRepoConfig: boolean;
}

type RerunSkip = 'no-jobs' | 'no-pull' | 'not-open' | 'stale-head' | 'untrusted' | 'unmergeable';

export type RerunPlan =
  | { skipped: RerunSkip; reason: string; command?: { command: string; outcome: 'run' | 'denied' } }
  | { pr: PullFacts; runs: ProwRun[]; command: { command: string; outcome: 'run' } };

export function planRerun(input: RerunInput, facts: Facts): Step<RerunPlan> {
  return step(() => plan(input, facts));
}

function plan(i: RerunInput, facts: Facts): RerunPlan {
  // Only check runs katabot can trace back to its own job are rerun: another App's run of the same name is not ours.
  const names = need(facts.rerunJobs, { fact: 'rerunJobs' });
  const central = names.filter((name) => i.presubmits.some((x) => x.name === name));
  // A job the central config lacks may be one of the PR's own (.prow.yaml), which needs the PR to look up.
  const maybeInRepo = i.inRepoConfig && central.length < names.length;
  if (central.length === 0 && !maybeInRepo) return { skipped: 'no-jobs', reason: 'no katabot job behind these check runs' };

  const pr = need(facts.pull, { fact: 'pull' });
  if (pr === null) return { skipped: 'no-pull', reason: 'no open pull request has this head commit' };
  if (pr.state !== 'open') return { skipped: 'not-open', reason: `PR #${pr.number} is ${pr.state}` };
  // The PR moved on: the commit whose check was re-requested is no longer what would merge.
  if (pr.headSha !== i.headSha) return { skipped: 'stale-head', reason: `not the head of PR #${pr.number} any more` };

  const trusted = (login: string): boolean => isTrustedUser(i.policy, i.botLogin, i.owner, login, facts);
  const prTrusted = (): boolean => pullRequestTrusted(trusted(pr.author), pr.labels);
  const command = i.traced ? 'check-trace' : 'check-rerun';
  const decision = decideCommand(i.traced ? { name: 'trace', targets: [] } : { name: 'retest' }, {
    policy: i.policy,
    commenter: i.requester,
    get commenterTrusted() {
      return trusted(i.requester);
    },
    get prTrusted() {
      return prTrusted();
    },
    labels: pr.labels,
  });
  if (!decision.run) return { skipped: 'untrusted', reason: `${i.requester} may not rerun this`, command: { command, outcome: 'denied' } };

  // As Prow, a PR's own job config counts only once the PR is trusted.
  let presubmits = i.presubmits;
  if (maybeInRepo && prTrusted()) {
    const inRepo = need(facts.inRepoConfig, { fact: 'inRepoConfig' });
    if ('presubmits' in inRepo) presubmits = [...presubmits, ...inRepo.presubmits];
  }
  const jobs: Presubmit[] = [];
  for (const name of names) {
    const p = presubmits.find((x) => x.name === name);
    if (p && !jobs.includes(p)) jobs.push(p);
  }
  if (jobs.length === 0) return { skipped: 'no-jobs', reason: 'no katabot job behind these check runs', command: { command, outcome: 'run' } };
  if (pr.mergeable === false) return { skipped: 'unmergeable', reason: `PR #${pr.number} has merge conflicts`, command: { command, outcome: 'run' } };

  const gate = tdxGate(i.policy, pr.labels, jobs.map((p) => p.name), pr.headSha, () => need(facts.tdxApproval, { fact: 'tdxApproval' }));
  const runs: ProwRun[] = jobs
    .filter((p) => tdxAllows(i.policy, gate, p.name))
    .map((presubmit) => ({ backend: 'prow', job: presubmit.name, presubmit, traced: i.traced }));
  return { pr, runs, command: { command, outcome: 'run' } };
}
