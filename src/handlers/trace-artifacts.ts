// workflow_run.completed: a pull request's GitHub Actions run that uploaded katabot trace artifacts (the katabot
// action) gets its behavior report, exactly as a traced ProwJob does: the PR's behavior comment per job, edited in
// place, and the check run `katabot / behavior (<job>)` once per run attempt. Facts are gathered one call at a time
// for the pure decisions in src/plan/trace-artifacts.ts; the artifact zips come through ActionsTraceApi; the diff
// and the rendering are src/behavior's, the posting src/reporter/behavior-post.ts's.
// Calls per traced PR run: the run's artifacts, the head zip, the PR, one runs listing per baseline workflow, one
// artifacts listing per base run looked at (until three have the artifact), the base zips not yet profiled (cached
// 14 days), then one comment create or edit and one check-run create.
import { GitHub, httpStatus, type PullFacts } from '../adapters/github.ts';
import { ActionsTraceApi, type RunArtifact } from '../adapters/github-actions-trace.ts';
import { ignoreRulesOf, profileOfArtifact, readArtifactInfo, type ArtifactInfo } from '../behavior/actions-artifact.ts';
import { cachedProfile } from '../behavior/baseline.ts';
import { BehaviorInputError } from '../behavior/read.ts';
import { renderTracedRunReport } from '../behavior/traced-run.ts';
import {
  actionsRunKey, actionsRunRef, addBaseline, baseCandidates, baselineAdvice, baselineWorkflows, pickUp, pullCandidates, pullOf,
  type Baseline, type BaseRunRef, type CompletedRun,
} from '../plan/trace-artifacts.ts';
import { noBaselineCheckRun } from '../render/behavior.ts';
import { BehaviorPoster } from '../reporter/behavior-post.ts';
import type { BehaviorProfile } from '../trace/profile.ts';
import type { HandlerDeps } from './deps.ts';
import type { WorkflowConsumer } from './workflow.ts';

const IGNORE_TTL_SECONDS = 14 * 24 * 3600;

interface RunPayload {
  id: number;
  run_attempt?: number;
  name?: string | null;
  path?: string;
  workflow_id?: number;
  event: string;
  head_sha: string;
  head_branch?: string | null;
  conclusion?: string | null;
  html_url: string;
  pull_requests?: Array<{ number: number }> | null;
}

function completedRun(r: RunPayload): CompletedRun {
  return {
    id: r.id,
    attempt: r.run_attempt ?? 1,
    name: r.name ?? '',
    path: r.path ?? '',
    workflowId: r.workflow_id ?? 0,
    event: r.event,
    headSha: r.head_sha,
    headBranch: r.head_branch ?? null,
    conclusion: r.conclusion ?? null,
    url: r.html_url,
    pullNumbers: (r.pull_requests ?? []).map((p) => p.number),
  };
}

/** The workflow consumer (src/handlers/workflow.ts): completed runs only. */
export const traceArtifactsConsumer: WorkflowConsumer = {
  name: 'trace-artifacts',
  async onRun(deps, gh, event) {
    if (event.action !== 'completed') return;
    await reportTracedRun(deps, gh, new ActionsTraceApi(gh), completedRun(event.run as unknown as RunPayload));
  },
};

/** Reports every katabot trace artifact of one completed run (the handler's body, also called by tests). */
async function reportTracedRun(deps: HandlerDeps, gh: GitHub, api: ActionsTraceApi, run: CompletedRun): Promise<void> {
  const log = deps.log.child({ run: run.id, attempt: run.attempt, workflow: run.name });
  const first = pickUp(run, await api.runArtifacts(run.id));
  if ('skip' in first) {
    log.debug({ reason: first.skip }, 'workflow run: no behavior report');
    return;
  }
  const poster = new BehaviorPoster({
    store: deps.store, reports: deps.reports, github: async () => gh, botLogin: deps.botLogin, log: deps.log, metrics: deps.metrics,
    ...(deps.reportUrl ? { reportUrl: deps.reportUrl } : {}), now: deps.now,
  });
  for (const artifact of first.artifacts) {
    try {
      await reportArtifact(deps, gh, api, poster, run, artifact, log);
    } catch (err) {
      // A malformed artifact stays malformed: say so once and go on with the others.
      if (!(err instanceof BehaviorInputError)) throw err;
      log.warn({ artifact: artifact.name, err: err.message }, 'behavior diff impossible: bad trace artifact');
    }
  }
}

async function reportArtifact(
  deps: HandlerDeps, gh: GitHub, api: ActionsTraceApi, poster: BehaviorPoster, run: CompletedRun, artifact: RunArtifact, log: HandlerDeps['log'],
): Promise<void> {
  const zip = await api.downloadArtifact(artifact);
  const name = `${artifact.name} (run ${run.id})`;
  const info = await readArtifactInfo(zip, name);
  const pulls: PullFacts[] = [];
  for (const n of pullCandidates(run, info.manifest)) {
    try {
      pulls.push(await gh.pull(n));
    } catch (err) {
      if (httpStatus(err) !== 404) throw err;
    }
  }
  const pr = pullOf(run, info.manifest, pulls);
  if ('skip' in pr) {
    log.info({ artifact: artifact.name, reason: pr.skip }, 'trace artifact not reported');
    return;
  }
  const workflows = baselineWorkflows(deps.config().katabot.trace.actions, run);
  const runs: BaseRunRef[] = [];
  for (const w of workflows) {
    try {
      runs.push(...await api.workflowRuns(w, { branch: pr.baseRef, status: 'success' }));
    } catch (err) {
      if (httpStatus(err) !== 404) throw err; // a baseline workflow that does not exist has no runs
    }
  }
  const candidates = baseCandidates(runs, pr.baseRef, pr.baseSha);
  const chosen: Baseline[] = [];
  let looked = 0;
  for (const c of candidates) {
    looked++;
    if (addBaseline(chosen, c, await api.runArtifacts(c.id), artifact.name)) break;
  }
  const key = actionsRunKey(run, artifact);
  const ctx = { assert: () => {} };
  if (chosen.length === 0) {
    const check = noBaselineCheckRun(baselineAdvice(run, info.manifest, pr, workflows, looked));
    await poster.checkRun(gh, key, { ...check, head_sha: pr.headSha }, ctx, run.url);
    log.info({ artifact: artifact.name, pr: pr.number, looked }, 'trace artifact: no baseline yet');
    return;
  }
  const headProfile = await profileOfArtifact(zip, name, info);
  const bases: Array<{ run: string; sha: string; profile: BehaviorProfile }> = [];
  let ignore: string | undefined;
  for (const [i, b] of chosen.entries()) {
    const id = `actions:${gh.fullName}:${b.run.id}:${b.artifact.id}`;
    let baseInfo: ArtifactInfo | undefined;
    const load = async (): Promise<{ zip: Buffer; info: ArtifactInfo }> => {
      const z = await api.downloadArtifact(b.artifact);
      baseInfo = await readArtifactInfo(z, `${b.artifact.name} (run ${b.run.id})`);
      return { zip: z, info: baseInfo };
    };
    const profile = await cachedProfile(deps.store, id, async () => {
      const { zip: z, info: bi } = await load();
      await deps.store.set(`behavior:actions-ignore:${id}`, bi.ignore ?? '', IGNORE_TTL_SECONDS);
      return profileOfArtifact(z, `${b.artifact.name} (run ${b.run.id})`, bi);
    });
    // The ignore rules are the newest base run's: a pull request must not hide its own changes with its own rules.
    if (i === 0) ignore = baseInfo?.ignore ?? (await deps.store.get(`behavior:actions-ignore:${id}`));
    bases.push({ run: actionsRunKey(b.run, b.artifact), sha: b.run.headSha, profile });
  }
  const report = await renderTracedRunReport(
    { store: deps.store, ...(deps.reportUrl ? { reportUrl: deps.reportUrl } : {}) },
    {
      org: gh.owner, repo: gh.repo, pull: pr.number, job: info.manifest.name, run: key, build: `${run.id}-${run.attempt}`,
      headSha: pr.headSha, baseRef: pr.baseRef, baseSha: pr.baseSha, actions: actionsRunRef(run, info.manifest),
    },
    headProfile, bases, ignoreRulesOf(ignore),
  );
  const { html: _html, ...outbox } = report;
  await poster.post(outbox, ctx, run.url);
}
