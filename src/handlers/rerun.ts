// Reruns from GitHub's check UI (the Re-run buttons and katabot's requested actions): find the PR of the head
// commit (check events from forks carry no pull_requests), apply /retest's trust check (/trace's for traced
// reruns), and start new ProwJobs labelled prow.k8s.io/retest with new check runs.
import type { GitHub, PullFacts } from '../adapters/github.ts';
import { presubmitsFor } from '../jobs/select.ts';
import type { Presubmit, ProwJob } from '../jobs/types.ts';
import { decideCommand } from '../policy/commands.ts';
import { pullRequestTrusted } from '../policy/trust.ts';
import type { HandlerDeps } from './deps.ts';
import { runJobs } from './run-jobs.ts';
import { tdxApproval } from './tdx.ts';
import { isTrusted } from './trust.ts';

export interface RerunTarget {
  /** The check run's external_id: the ProwJob it reported. */
  prowjob: string | null | undefined;
  /** The check run's name (the job's context). */
  context: string;
}

export interface RerunRequest {
  requester: string;
  headSha: string;
  /** From the payload; empty for forks. */
  pullNumbers: number[];
  targets: RerunTarget[];
  traced: boolean;
  delivery: string;
  /** Part of the new ProwJobs' names, so a redelivery finds the same objects. */
  purpose: string;
}

export type RerunOutcome =
  | { ran: ProwJob[] }
  | { skipped: 'no-pull' | 'not-open' | 'stale-head' | 'untrusted' | 'unmergeable' | 'no-jobs' };

/** The PR whose head is `sha`: the payload, then the ProwJob's refs, then katabot's records, then GitHub. */
export async function pullForHead(deps: HandlerDeps, gh: GitHub, sha: string, pullNumbers: readonly number[], prowjobs: ReadonlyArray<ProwJob | undefined>): Promise<number | undefined> {
  if (pullNumbers[0] !== undefined) return pullNumbers[0];
  for (const pj of prowjobs) {
    const pull = pj?.spec.refs?.pulls?.[0];
    if (pull && pull.sha === sha) return pull.number;
  }
  const recorded = await deps.results.pullForSha(gh.fullName, sha);
  if (recorded !== undefined) return recorded;
  return (await gh.openPullsForSha(sha))[0];
}

/** The presubmit a check run stands for: by its ProwJob's job name (live object, else the results record). */
async function presubmitOf(deps: HandlerDeps, presubmits: readonly Presubmit[], target: RerunTarget, pj: ProwJob | undefined): Promise<Presubmit | undefined> {
  let job = pj?.spec.job;
  if (!job && target.prowjob) job = (await deps.results.get(target.prowjob))?.job;
  // Only check runs katabot can trace back to a ProwJob are rerun: another App's run of the same name is not ours.
  if (!job) return undefined;
  return presubmits.find((p) => p.name === job);
}

export async function rerunFromChecks(deps: HandlerDeps, gh: GitHub, req: RerunRequest): Promise<RerunOutcome> {
  const snapshot = deps.config();
  const policy = snapshot.katabot;
  const presubmits = presubmitsFor(snapshot.jobs, gh.owner, gh.repo);
  const live = await Promise.all(req.targets.map((t) => (t.prowjob ? deps.prowjobs.get(t.prowjob).catch(() => undefined) : undefined)));
  const jobs: Presubmit[] = [];
  for (const [i, t] of req.targets.entries()) {
    const p = await presubmitOf(deps, presubmits, t, live[i]);
    if (p && !jobs.some((j) => j.name === p.name)) jobs.push(p);
  }
  if (jobs.length === 0) {
    deps.log.info({ targets: req.targets, purpose: req.purpose }, 'rerun: no katabot job behind these check runs');
    return { skipped: 'no-jobs' };
  }

  const number = await pullForHead(deps, gh, req.headSha, req.pullNumbers, live);
  if (number === undefined) {
    deps.log.info({ sha: req.headSha }, 'rerun: no open pull request has this head commit');
    return { skipped: 'no-pull' };
  }
  const pr: PullFacts = await gh.pull(number);
  if (pr.state !== 'open') return { skipped: 'not-open' };
  if (pr.headSha !== req.headSha) {
    // The PR moved on: the commit whose check was re-requested is no longer what would merge.
    deps.log.info({ pr: pr.number, requested: req.headSha, head: pr.headSha }, 'rerun: not the head commit any more');
    return { skipped: 'stale-head' };
  }

  const botLogin = await deps.botLogin();
  const requesterTrusted = await isTrusted(gh, policy, botLogin, req.requester);
  const authorTrusted = requesterTrusted && req.requester.toLowerCase() === pr.author.toLowerCase() ? true : await isTrusted(gh, policy, botLogin, pr.author);
  const decision = decideCommand(req.traced ? { name: 'trace', targets: [] } : { name: 'retest' }, {
    policy,
    commenter: req.requester,
    commenterTrusted: requesterTrusted,
    prTrusted: pullRequestTrusted(authorTrusted, pr.labels),
    labels: pr.labels,
  });
  deps.metrics.commands.inc({ command: req.traced ? 'check-trace' : 'check-rerun', outcome: decision.run ? 'run' : 'denied' });
  if (!decision.run) {
    deps.log.info({ pr: pr.number, requester: req.requester, traced: req.traced }, 'rerun refused: untrusted');
    return { skipped: 'untrusted' };
  }
  if (pr.mergeable === false) return { skipped: 'unmergeable' };

  return deps.store.withLock(`pr:${gh.fullName}#${pr.number}`, 30_000, async () => {
    const { allows } = await tdxApproval(deps, gh, pr, pr.labels);
    const allowed = jobs.filter((p) => allows(p.name)).map((presubmit) => ({ presubmit, traced: req.traced }));
    const ran = await runJobs(deps, gh, pr, allowed, { delivery: req.delivery, purpose: req.purpose, retest: true });
    deps.log.info({ pr: pr.number, jobs: ran.map((pj) => pj.spec.job), traced: req.traced, requester: req.requester }, 'rerun from checks');
    return { ran };
  });
}
