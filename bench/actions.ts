// npm run bench:actions — GitHub Actions results at Kata's scale, on real Redis:
//   1. ingest: 10,000 signed workflow_job deliveries (queued → in_progress → completed of 3,334 jobs, GitHub's
//      example payload with Kata's names) through the real intake, queue and handler into the results store;
//      baseline: as many ordinary PR comments through the same path, which the handler drops at once;
//   2. views: the nightly, PR-checks and single-PR views built from a store of 100,000 recorded attempts (Kata's
//      nightly and ci-on-push jobs), uncached, median of rounds; baseline: the same views over a store of as many
//      ProwJob records; target ≤ 200 ms per view;
//   3. memory: Redis bytes per recorded attempt, and that every key expires with the retention (nothing grows
//      without bound).
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { RedisResultsStore } from '../src/adapters/results-store.ts';
import { RedisStore } from '../src/adapters/store.ts';
import { runInfoOf, type WorkflowJobObject } from '../src/jobs/actions.ts';
import { actionsResultOf } from '../src/render/actions-results.ts';
import type { RunRecord } from '../src/render/results.ts';
import { DashboardData } from '../src/server/dashboard-data.ts';
import { startRedis } from '../test/fixtures/redis.ts';
import { signedRequest } from '../test/fixtures/github.ts';
import { SECRET, startHarness, waitFor } from '../test/integration/harness.ts';
import { median } from './stats.ts';

const DELIVERIES = Number(process.env.BENCH_DELIVERIES ?? 10_000);
const ATTEMPTS = Number(process.env.BENCH_ATTEMPTS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const IN_FLIGHT = 32;
const ORG = 'kata-containers';
const REPO = 'kata-containers';
const DAY = 24 * 3600_000;
const iso = (t: number) => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Kata-like job names: caller job / called workflow job / matrix values. */
function kataJob(i: number): string {
  const suites = ['run-k8s-tests-on-aks', 'run-k8s-tests-on-free-runner', 'run-kata-coco-tests', 'run-basic-amd64-tests', 'run-kata-deploy-tests', 'run-k8s-tests-on-arm64'];
  const vmms = ['clh', 'qemu', 'dragonball', 'qemu-runtime-rs', 'clh-runtime-rs', 'qemu-tdx', 'qemu-snp', 'qemu-coco-dev'];
  return `kata-containers-ci-on-push / ${suites[i % suites.length]} / run-k8s-tests (${['ubuntu', 'cbl-mariner'][i % 2]}, ${vmms[Math.floor(i / 6) % vmms.length]}, v${i})`;
}

async function send(url: string, event: string, payload: unknown): Promise<void> {
  const req = signedRequest(SECRET, event, payload);
  const res = await fetch(`${url}/api/github/webhooks`, { method: 'POST', headers: req.headers, body: req.body });
  if (!res.ok) throw new Error(`intake answered ${res.status}`);
}

/** Sends `payloads` with IN_FLIGHT in flight; resolves when all are accepted. */
async function sendAll(url: string, event: string, payloads: unknown[]): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next < payloads.length) await send(url, event, payloads[next++]);
  }));
}

async function ingest(): Promise<void> {
  const redis = await startRedis({ appendfsync: 'everysec' });
  const h = await startHarness({ redis, env: { KATABOT_REPORTER: 'false', KATABOT_DASHBOARD: 'false', KATABOT_WORKER_CONCURRENCY: '16' } });
  try {
    const jobs = Math.ceil(DELIVERIES / 3);
    const runs = 40;
    const pr = h.gh.addPull({ number: 1, author: 'maintainer' });
    for (let r = 0; r < runs; r++) {
      h.gh.workflowRuns.push({ id: 900_000 + r, name: 'Kata Containers CI', path: '.github/workflows/ci-on-push.yaml', workflow_id: 1, event: 'pull_request_target', head_sha: pr.headSha, head_branch: 'topic', status: 'in_progress', conclusion: null, run_attempt: 1, created_at: iso(Date.now()), html_url: `https://github.com/${ORG}/${REPO}/actions/runs/${900_000 + r}`, pull_requests: [{ number: 1 }] });
    }
    await sendAll(h.bot.url, 'workflow_run', h.gh.workflowRuns.map((r) => h.gh.workflowRunEvent(r.id, 'requested')));
    const at = Date.now() - 3600_000;
    for (let j = 0; j < jobs; j++) {
      h.gh.workflowJobs.push({ id: 5_000_000 + j, run_id: 900_000 + (j % runs), run_attempt: 1, name: kataJob(j), workflow_name: 'Kata Containers CI', head_sha: pr.headSha, head_branch: 'topic', status: 'queued', conclusion: null, html_url: `https://github.com/${ORG}/${REPO}/actions/runs/${900_000 + (j % runs)}/job/${5_000_000 + j}`, labels: ['ubuntu-24.04'], created_at: iso(at), started_at: iso(at + 1000), completed_at: null });
    }
    const payloads: unknown[] = [];
    for (const [action, status, conclusion] of [['queued', 'queued', null], ['in_progress', 'in_progress', null], ['completed', 'completed', 'success']] as const) {
      for (const j of h.gh.workflowJobs) {
        const p = h.gh.workflowJobEvent(j.id, action);
        p.workflow_job = { ...p.workflow_job, status, conclusion, completed_at: conclusion ? iso(at + 600_000) : null };
        payloads.push(p);
      }
    }
    payloads.length = DELIVERIES;
    await h.settle();

    // Baseline: the same number of deliveries the handler drops at once (ordinary comments), same path.
    const comments = Array.from({ length: DELIVERIES }, (_, i) => h.gh.commentEvent(1, 'maintainer', `looks good ${i}`));
    let t0 = performance.now();
    await sendAll(h.bot.url, 'issue_comment', comments);
    await h.settle();
    const floor = (performance.now() - t0) / 1000;

    const before = h.gh.calls.length;
    t0 = performance.now();
    await sendAll(h.bot.url, 'workflow_job', payloads);
    const accepted = (performance.now() - t0) / 1000;
    const last = h.gh.workflowJobs[(DELIVERIES - 2 * jobs) - 1]!;
    await waitFor('all recorded', async () => (await h.bot.deps.results.get(`actions-${last.id}`))?.state === 'success', 600_000);
    await h.settle();
    const total = (performance.now() - t0) / 1000;
    const recorded = await h.bot.deps.results.pullResults(`${ORG}/${REPO}`, 1);
    console.log(`\ningest: ${DELIVERIES} workflow_job deliveries of ${jobs} jobs (GitHub's example payload, ${(JSON.stringify(payloads[0]).length / 1024).toFixed(1)} KiB each)`);
    console.log(`  accepted in ${accepted.toFixed(1)} s, all recorded in ${total.toFixed(1)} s: ${(DELIVERIES / total).toFixed(0)} deliveries/s; ${recorded.length} attempts in the PR's records, ${h.gh.calls.length - before} GitHub calls`);
    console.log(`  baseline (as many comments the handler drops): ${floor.toFixed(1)} s, ${(DELIVERIES / floor).toFixed(0)} deliveries/s; ratio ${(total / floor).toFixed(2)}×`);
  } finally {
    await h.close();
    await redis.close();
  }
}

/** ATTEMPTS attempts shaped like Kata's CI: nightly jobs over 30 nights, ci-on-push jobs over PRs, commits and reruns. */
function* kataAttempts(kind: 'actions' | 'prow'): Generator<RunRecord> {
  const now = Date.now();
  let id = 1;
  const job = (name: string, runId: number, sha: string, at: number, conclusion: string, attempt: number, workflow: string): WorkflowJobObject => ({
    id: id++, run_id: runId, run_attempt: attempt, name, workflow_name: workflow, head_sha: sha, status: 'completed', conclusion,
    created_at: iso(at), started_at: iso(at + 60_000), completed_at: iso(at + 1800_000), html_url: `https://github.com/${ORG}/${REPO}/actions/runs/${runId}/job/${id}`, labels: ['ubuntu-24.04'],
  });
  const asProw = (r: RunRecord): RunRecord => {
    const { actions: _a, source: _s, ...rest } = r;
    return { ...rest, name: `pj-${r.name}`, job: r.job.replace(/[^A-Za-z0-9-]+/g, '-'), url: `https://prow.example/view/gs/logs/${r.name}` };
  };
  let n = 0;
  const nightlyJobs = 300;
  for (let night = 1; night <= 30 && n < ATTEMPTS; night++) {
    const runId = 1_000_000 + night;
    const run = runInfoOf({ id: runId, name: 'Kata Containers Nightly CI', path: '.github/workflows/ci-nightly.yaml', workflow_id: 2, event: 'schedule', status: 'completed', conclusion: 'failure', head_sha: night.toString(16).padStart(40, '0'), created_at: iso(now - night * DAY), html_url: '' });
    for (let j = 0; j < nightlyJobs && n < ATTEMPTS; j++, n++) {
      const r = actionsResultOf(job(kataJob(j), runId, run.headSha, now - night * DAY, (j * night) % 7 === 0 ? 'failure' : 'success', 1, run.name), { owner: ORG, repo: REPO, run, nightlyWorkflows: [] });
      yield kind === 'actions' ? r : asProw({ ...r, type: 'periodic' });
    }
  }
  const prJobs = 150;
  for (let pr = 1; n < ATTEMPTS; pr++) {
    const runId = 2_000_000 + pr;
    for (let commit = 0; commit < 3 && n < ATTEMPTS; commit++) {
      const sha = (pr * 10 + commit).toString(16).padStart(40, 'c');
      const at = now - (pr % 30) * DAY / 2 + commit * 3600_000;
      const run = runInfoOf({ id: runId * 10 + commit, name: 'Kata Containers CI', path: '.github/workflows/ci-on-push.yaml', workflow_id: 1, event: 'pull_request_target', status: 'completed', conclusion: 'failure', head_sha: sha, created_at: iso(at), html_url: '', pull_requests: [{ number: pr }] });
      for (let j = 0; j < prJobs && n < ATTEMPTS; j++) {
        const attempts = (j + pr) % 11 === 0 ? 2 : 1;
        for (let a = 1; a <= attempts && n < ATTEMPTS; a++, n++) {
          const r = actionsResultOf(job(kataJob(j), run.id, sha, at + a * 600_000, a < attempts ? 'failure' : 'success', a, run.name), { owner: ORG, repo: REPO, run, pull: pr, nightlyWorkflows: [] });
          yield kind === 'actions' ? r : asProw({ ...r, attempt: a });
        }
      }
    }
  }
}

async function seed(store: RedisResultsStore, kind: 'actions' | 'prow'): Promise<number> {
  let count = 0;
  const batch: Array<Promise<unknown>> = [];
  for (const r of kataAttempts(kind)) {
    batch.push(store.put(r));
    count++;
    if (batch.length >= 256) await Promise.all(batch.splice(0));
  }
  await Promise.all(batch);
  return count;
}

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)![1]);
}

async function views(): Promise<void> {
  const server = await startRedis({ appendfsync: 'everysec' });
  const redis = new Redis(server.url);
  const log = pino({ level: 'silent' });
  try {
    const timings: Record<string, Record<string, number>> = {};
    for (const kind of ['prow', 'actions'] as const) {
      const prefix = `bench-${kind}:`;
      const store = new RedisResultsStore(redis, prefix, 90);
      const m0 = await usedMemory(redis);
      const t0 = performance.now();
      const count = await seed(store, kind);
      const seedS = (performance.now() - t0) / 1000;
      const bytes = (await usedMemory(redis)) - m0;
      const data = new DashboardData({ results: store, store: new RedisStore(redis, prefix), jobs: () => ({ presubmits: {}, postsubmits: {}, periodics: [] }) as never, githubWebUrl: 'https://github.com', log, cacheMs: 0 });
      const t: Record<string, number[]> = { nightly: [], presubmits: [], pull: [] };
      for (let round = 0; round < ROUNDS + 1; round++) {
        for (const [view, build] of [['nightly', () => data.nightly(10)], ['presubmits', () => data.presubmits(20)], ['pull', () => data.pull(7, `${ORG}/${REPO}`, undefined)]] as const) {
          const s = performance.now();
          const v = await build();
          if (round > 0) t[view]!.push(performance.now() - s); // round 0 warms up
          if ('jobs' in v && v.jobs.length === 0) throw new Error(`${kind} ${view}: empty view`);
        }
      }
      timings[kind] = Object.fromEntries(Object.entries(t).map(([k, xs]) => [k, median(xs)]));
      // Every key expires with the retention, but for the job index (trimmed by score on every write).
      const keys = await redis.keys(`${prefix}*`);
      const ttls = await Promise.all(keys.map((k) => redis.pttl(k)));
      const forever = keys.filter((_, i) => ttls[i]! < 0);
      console.log(`\nviews over ${count} ${kind === 'actions' ? 'GitHub Actions' : 'ProwJob'} attempts (seeded in ${seedS.toFixed(1)} s):`);
      console.log(`  Redis: ${(bytes / 1024 / 1024).toFixed(1)} MiB, ${(bytes / count).toFixed(0)} bytes per attempt; ${keys.length} keys, ${forever.length} without expiry (${forever.map((k) => k.slice(prefix.length)).join(', ') || 'none'})`);
      console.log(`  build (median of ${ROUNDS}, uncached): nightly ${timings[kind]!.nightly!.toFixed(0)} ms, PR checks ${timings[kind]!.presubmits!.toFixed(0)} ms, single PR ${timings[kind]!.pull!.toFixed(0)} ms`);
    }
    const a = timings.actions!;
    const p = timings.prow!;
    console.log(`\nratio Actions / ProwJob records: nightly ${(a.nightly! / p.nightly!).toFixed(2)}×, PR checks ${(a.presubmits! / p.presubmits!).toFixed(2)}×, single PR ${(a.pull! / p.pull!).toFixed(2)}×`);
    const worst = Math.max(a.nightly!, a.presubmits!, a.pull!);
    console.log(`target ≤ 200 ms per view: ${worst <= 200 ? 'met' : 'NOT met'} (slowest ${worst.toFixed(0)} ms)`);
  } finally {
    redis.disconnect();
    await server.close();
  }
}

if (process.env.BENCH_PART !== 'views') await ingest();
if (process.env.BENCH_PART !== 'ingest') await views();
