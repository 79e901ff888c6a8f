// npm run bench:reporter — reporter lag under a burst: p50/p99 from a ProwJob state change to the GitHub write that
// shows it (that state or a later one), and from a job's failure to the failure comment that lists it, for the
// reporter that writes every state as it reconciles it (KATABOT_REPORTER_COALESCE=false, the baseline) and the
// coalescing one, in the same run. Real katabot against a real Redis, the Kubernetes API-server double and nock'd
// GitHub (test/integration/harness.ts), with GitHub's write pacing on: one write per spacing, one new comment per
// three spacings. GitHub asks for 1 s; the default here is 100 ms, so both modes finish in about a minute: every
// figure scales with the spacing, and is also printed in spacings.
//
// The burst: BENCH_JOBS ProwJobs (default 100) on BENCH_PRS PRs (default 10), their check runs created first; then
// each job goes pending and then final (one in five fails, spread over the PRs), 2 × BENCH_JOBS state changes as
// fast as the API server takes them, in a shuffled order (a job's pending before its result).
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { kubeProwJobClient } from '../src/adapters/kube.ts';
import { LABELS, type ProwJob } from '../src/jobs/types.ts';
import type { Call } from '../test/fixtures/github.ts';
import { startRedis } from '../test/fixtures/redis.ts';
import { startHarness, waitFor } from '../test/integration/harness.ts';
import { percentile } from './stats.ts';

const JOBS = Number(process.env.BENCH_JOBS ?? 100);
const PRS = Number(process.env.BENCH_PRS ?? 10);
const SPACING_MS = Number(process.env.BENCH_WRITE_INTERVAL_MS ?? 100);
const STATUSES = process.env.BENCH_STATUSES === '1';
const GITHUB_SPACING_MS = 1000;

interface Change {
  job: number;
  /** 1: pending, 2: final. */
  level: number;
  fails: boolean;
  at: number;
}

interface Figures {
  writes: number;
  checkWrites: number;
  superseded: number;
  comments: number;
  check: number[];
  comment: number[];
  drainMs: number;
}

/** A deterministic shuffle (mulberry32), so both modes get the same burst. */
function burstOrder(n: number): Array<{ job: number; level: number }> {
  let seed = 0x6b617461;
  const rand = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out: Array<{ job: number; level: number }> = [];
  const next = Array.from({ length: n }, () => 1);
  const open = Array.from({ length: n }, (_, i) => i);
  while (open.length > 0) {
    const k = Math.floor(rand() * open.length);
    const job = open[k]!;
    out.push({ job, level: next[job]! });
    if (++next[job]! > 2) open.splice(k, 1);
  }
  return out;
}

const at = (offsetSec = 0) => new Date(Date.now() + offsetSec * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');


async function measure(coalesce: boolean): Promise<Figures> {
  const redis = await startRedis({ appendfsync: 'everysec' });
  const h = await startHarness({
    redis,
    env: { KATABOT_GITHUB_WRITE_INTERVAL_MS: String(SPACING_MS), KATABOT_REPORTER_COALESCE: String(coalesce) },
    ...(STATUSES ? { katabotYaml: 'report:\n  statuses: true\n' } : {}),
  });
  try {
    const plank = kubeProwJobClient(h.kube.kubeConfig, 'prow');
    await waitFor('a reporter', () => h.bot.reporter?.isLeader());
    // A real ProwJob from a /test comment, as the template of the burst's jobs (Prow-made: the reporter creates
    // their check runs).
    const first = h.gh.addPull({ number: 1, author: 'maintainer' });
    await h.send('issue_comment', h.gh.commentEvent(first.number, 'maintainer', '/test e2e-kata-qemu'));
    const template = await waitFor('template', () => h.prowjobs().find((j) => j.metadata.labels?.[LABELS.pull] === '1'));
    const pulls = Array.from({ length: PRS }, (_, i) => h.gh.addPull({ number: 100 + i, author: 'maintainer' }));
    const names: string[] = [];
    const fails: boolean[] = [];
    for (let i = 0; i < JOBS; i++) {
      const pr = pulls[i % PRS]!;
      const job = `e2e-burst-${i}`;
      const pj: ProwJob = structuredClone(template);
      pj.metadata = { name: `burst-${i}`, namespace: 'prow', labels: { ...template.metadata.labels, [LABELS.pull]: String(pr.number), [LABELS.job]: job }, annotations: template.metadata.annotations };
      pj.spec = { ...pj.spec, job, context: job, rerun_command: `/test ${job}` };
      pj.spec.refs!.pulls![0] = { ...pj.spec.refs!.pulls![0]!, number: pr.number, sha: pr.headSha };
      pj.status = { state: 'triggered', startTime: at(-60) };
      h.kube.seed(pj);
      names.push(pj.metadata.name);
      fails.push(Math.floor(i / PRS) % 5 === 2); // one job in five, on every PR
    }
    const runs = () => names.map((name) => h.gh.checkRuns.find((r) => r.external_id === name));
    await waitFor('check runs created', () => runs().every((r) => r), 5 * 60_000);
    await h.settle();
    await h.bot.reporter!.idle();
    await sleep(4 * SPACING_MS);
    const ids = new Map(runs().map((r, i) => [r!.id, i]));

    const from = h.gh.calls.length;
    const changes: Change[] = [];
    const t0 = performance.now();
    for (const { job, level } of burstOrder(JOBS)) {
      const failsJob = fails[job]!;
      const status = level === 1
        ? { state: 'pending' as const, pendingTime: at() }
        : failsJob ? { state: 'failure' as const, completionTime: at(1), description: 'Job failed.' } : { state: 'success' as const, completionTime: at(1) };
      await plank.updateStatus(names[job]!, () => status);
      changes.push({ job, level, fails: failsJob, at: performance.now() });
    }
    const burstMs = performance.now() - t0;

    const isComment = (c: Call) => c.path.includes('/comments');
    const checkLevel = (c: Call) => (c.body?.status === 'completed' || c.body?.conclusion ? 2 : c.body?.status === 'in_progress' ? 1 : 0);
    const pr = (job: number) => pulls[job % PRS]!.number;
    const shown = (c: Change, calls: Call[]) => calls.find((w) => w.at >= c.at && w.method === 'PATCH' && ids.get(Number(w.path.split('/').pop())) === c.job && checkLevel(w) >= c.level);
    const listed = (c: Change, calls: Call[]) => calls.find((w) => w.at >= c.at && isComment(w) && w.method !== 'GET' && new RegExp(`^e2e-burst-${c.job} \\|`, 'm').test(w.body?.body ?? '') && (w.method === 'PATCH' || w.path.includes(`/issues/${pr(c.job)}/`)));
    const failures = changes.filter((c) => c.level === 2 && c.fails);
    const writes = () => h.gh.calls.slice(from).filter((c) => c.method !== 'GET' && !c.path.includes('/access_tokens'));
    await waitFor('every change shown', () => {
      const w = writes();
      return changes.every((c) => shown(c, w)) && failures.every((c) => listed(c, w));
    }, 10 * 60_000);
    await h.bot.reporter!.idle();
    const w = writes();
    const drainMs = Math.max(...w.map((c) => c.at)) - t0;

    // A write spent on a superseded state: a PATCH showing a level the job had already left when it arrived.
    let superseded = 0;
    for (const c of w) {
      if (c.method !== 'PATCH' || !c.path.includes('/check-runs/')) continue;
      const job = ids.get(Number(c.path.split('/').pop()));
      const current = Math.max(0, ...changes.filter((x) => x.job === job && x.at <= c.at).map((x) => x.level));
      if (checkLevel(c) < current) superseded++;
    }
    return {
      writes: w.length,
      checkWrites: w.filter((c) => c.path.includes('/check-runs/')).length,
      superseded,
      comments: w.filter(isComment).length,
      check: changes.map((c) => shown(c, w)!.at - c.at),
      comment: failures.map((c) => listed(c, w)!.at - c.at),
      drainMs: Math.max(drainMs, burstMs),
    };
  } finally {
    await h.close();
    await redis.close();
  }
}

const baseline = await measure(false);
const coalesced = await measure(true);
const scale = SPACING_MS / GITHUB_SPACING_MS;
const row = (name: string, f: Figures) => {
  const ms = (x: number) => `${x.toFixed(0)} ms (${(x / SPACING_MS).toFixed(1)})`.padStart(17);
  return [
    name.padEnd(24),
    String(f.writes).padStart(6),
    String(f.superseded).padStart(11),
    ms(percentile(f.check, 50)), ms(percentile(f.check, 99)),
    ms(percentile(f.comment, 50)), ms(percentile(f.comment, 99)),
    ms(f.drainMs),
  ].join(' ');
};
console.log(`\nreporter under a burst: ${2 * JOBS} state changes (${JOBS} jobs × pending, then final; ${JOBS / 5} fail) on ${PRS} PRs, statuses ${STATUSES ? 'on' : 'off'}`);
console.log(`write spacing ${SPACING_MS} ms, new comments ${3 * SPACING_MS} ms: GitHub's 1 s / 3 s × ${scale} (figures in ms, and in spacings)`);
console.log(['mode'.padEnd(24), 'writes'.padStart(6), 'superseded'.padStart(11), 'change→write p50'.padStart(17), 'p99'.padStart(17), 'failure→comment p50'.padStart(17), 'p99'.padStart(17), 'all shown after'.padStart(17)].join(' '));
console.log(row('baseline (no coalescing)', baseline));
console.log(row('coalesced', coalesced));
const ratio = (a: number, b: number) => (b / a).toFixed(2);
console.log(`\ncoalesced / baseline: change→write p50 ${ratio(percentile(baseline.check, 50), percentile(coalesced.check, 50))}x, p99 ${ratio(percentile(baseline.check, 99), percentile(coalesced.check, 99))}x; failure→comment p50 ${ratio(percentile(baseline.comment, 50), percentile(coalesced.comment, 50))}x, p99 ${ratio(percentile(baseline.comment, 99), percentile(coalesced.comment, 99))}x; writes ${ratio(baseline.writes, coalesced.writes)}x`);
console.log(`writes: baseline ${baseline.checkWrites} check-run + ${baseline.comments} comment; coalesced ${coalesced.checkWrites} check-run + ${coalesced.comments} comment`);
