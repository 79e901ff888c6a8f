// npm run bench:match — the work one hostile comment can cause: commands parsed, every job's trigger matched,
// jobs selected, unknown targets checked and suggested, as handlers/commands.ts does before any GitHub call.
// Measured twice in one run, the same way: "before" is the code of the last commit that matched Go regexps by
// translating them to V8's backtracking engine (src/commands/go-regexp.ts), checked out from git into a temp
// directory for this run only; "after" is this tree (re2js, default triggers decided in one pass).
// Config: a generated 2,000-presubmit Prow config shaped like kubernetes/test-infra's config/jobs (name lengths,
// always_run / run_if_changed / skip_if_only_changed / branches shares); KATABOT_BENCH_JOB_CONFIG=<dir> uses a
// real one instead (e.g. a checkout's config/jobs; never committed), all its presubmits matched as one list.
// Each comment runs in a worker thread: once to warm up, then BENCH_RUNS times (once when the warm-up took over a
// second); the medians of wall time and of the thread's CPU time are reported. The goal is judged on CPU time,
// which other work on a shared machine does not inflate. A side whose warm-up takes longer than BENCH_BUDGET_MS is
// stopped there and reported as "> budget".
// Goal (issue 19): ≤ 50 ms matching per comment.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { Presubmit } from '../src/config/prow-types.ts';
import { rng } from '../test/fixtures/rng.ts';
import { median } from './stats.ts';

const GOAL_MS = 50;
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const BUDGET_MS = Number(process.env.BENCH_BUDGET_MS ?? 20_000);
const BASE = 'master';
const K = 64 * 1024;
const ROOT = resolve(import.meta.dirname, '..');

interface Comment { name: string; body: string; config: 'jobs' | 'jobs+custom' }
interface Outcome { ms: number[]; cpu: number[]; result: string }
interface Job { side: 'before' | 'after'; src: string; presubmits: Record<string, Presubmit[]>; comments: Comment[] }

/** The functions both trees export under the same names (commands/registry.ts, jobs/select.ts). */
interface Api {
  commandText(body: string): string;
  parseCommands(body: string): Array<{ name: string; targets?: string[] }>;
  triggerOf(p: Presubmit): { test(text: string): boolean };
  selectForCommentText(ps: readonly Presubmit[], base: string, text: string): unknown[];
  selectForTestAll(ps: readonly Presubmit[], base: string, changed: readonly string[]): unknown[];
  selectForRetest(ps: readonly Presubmit[], base: string, changed: readonly string[], results: ReadonlyMap<string, string>): unknown[];
  unknownTargets(targets: readonly string[], ps: readonly Presubmit[], base: string): { unknown: string[]; suggestions: Record<string, string[]> };
}

const CHANGED = ['pkg/kubelet/kubelet.go', 'test/e2e/node/pods.go', 'docs/README.md'];

/** handlers/commands.ts's decisions for one comment, without its effects; returns a summary to compare sides. */
function matchComment(api: Api, presubmits: readonly Presubmit[], body: string, results: ReadonlyMap<string, string>): string {
  const text = api.commandText(body);
  const commands = api.parseCommands(body);
  const customTriggered = presubmits.some((p) => p.trigger !== undefined && api.triggerOf(p).test(text));
  if (customTriggered && !commands.some((c) => c.name === 'test')) commands.push({ name: 'test', targets: [] });
  const out: string[] = [];
  for (const c of commands) {
    if (c.name === 'test') {
      const unknown = api.unknownTargets(c.targets ?? [], presubmits, BASE);
      // The reply lists the first 20 unknown targets (report/replies.ts MAX_UNKNOWN_LISTED): their suggestions count.
      const suggested = unknown.unknown.slice(0, 20).reduce((n, u) => n + (unknown.suggestions[u]?.length ?? 0), 0);
      out.push(`test: ${api.selectForCommentText(presubmits, BASE, text).length} jobs, ${c.targets?.length ?? 0} targets, ${unknown.unknown.length} unknown, ${suggested} suggestions`);
    } else if (c.name === 'test-all') {
      out.push(`test all: ${api.selectForTestAll(presubmits, BASE, CHANGED).length} jobs`);
    } else if (c.name === 'retest') {
      out.push(`retest: ${api.selectForRetest(presubmits, BASE, CHANGED, results).length} jobs`);
    } else {
      out.push(c.name);
    }
  }
  return out.join('; ') || 'no command';
}

/**
 * 2,000 presubmits of one repository in kubernetes/test-infra's proportions (measured on its config/jobs: 2,261
 * presubmits, 35% always_run, 18% run_if_changed, 17% skip_if_only_changed, 68% with branches, names of 42
 * characters on average, no custom trigger), as Prow job config YAML.
 */
function generatedConfig(): string {
  const r = rng(19);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const areas = ['e2e-gce', 'e2e-kind', 'node-e2e', 'integration', 'verify', 'unit', 'conformance', 'e2e-capz', 'kubemark', 'typecheck'];
  const variants = ['cos-alpha-features', 'ubuntu-containerd', 'serial', 'ipv6', 'dual-stack', 'canary', 'cgroupv2', 'windows', 'arm64', 'storage-snapshot'];
  const lines = ['presubmits:', '  kubernetes/kubernetes:'];
  for (let i = 0; i < 2000; i++) {
    lines.push(`  - name: pull-kubernetes-${pick(areas)}-${pick(variants)}-${i}`);
    const x = r();
    if (x < 0.35) lines.push('    always_run: true');
    else if (x < 0.53) lines.push(`    run_if_changed: '^(pkg/${pick(['kubelet', 'scheduler', 'proxy', 'volume'])}|test/e2e_node)/'`);
    else if (x < 0.7) lines.push("    skip_if_only_changed: '^(docs|\\.github)/|\\.md$|^(OWNERS|CHANGELOG)'");
    if (r() < 0.68) lines.push(`    branches: [${pick(["'^master$'", 'master', "'^release-1\\.3[0-9]$'"])}]`);
    if (r() < 0.3) lines.push('    optional: true');
    lines.push('    spec: {containers: [{image: gcr.io/k8s-staging-test-infra/kubekins-e2e:latest}]}');
  }
  return lines.join('\n') + '\n';
}

/** Custom triggers that a backtracking engine runs in exponential and in quadratic time on the comments below. */
const CUSTOM: Presubmit[] = [
  { name: 'pull-kubernetes-e2e-words', trigger: String.raw`(?m)^/test\s+(\w+\s?)+$`, rerun_command: '/test words', spec: { containers: [] } } as unknown as Presubmit,
  { name: 'pull-kubernetes-e2e-gpu', trigger: String.raw`(?m)^/test .*,.*,gpu$`, rerun_command: '/test a,b,gpu', spec: { containers: [] } } as unknown as Presubmit,
];

function comments(names: readonly string[]): Comment[] {
  const nearMisses = Array.from({ length: 1000 }, (_, i) => `${names[i % names.length]}x${i}`);
  return [
    { name: 'an ordinary /test of 3 jobs', body: `/test ${names[1]} ${names[2]}\n/test ${names[3]}\nthanks!`, config: 'jobs' },
    { name: '/test + 64 KiB of spaces', body: '/test' + ' '.repeat(K), config: 'jobs' },
    { name: '/test + one 64 KiB token', body: '/test ' + 'x'.repeat(K), config: 'jobs' },
    { name: '/test a,a,a,… (64 KiB)', body: '/test ' + 'a,'.repeat(K / 2), config: 'jobs' },
    { name: '8,000 lines of /retest', body: '/retest\n'.repeat(8000), config: 'jobs' },
    { name: '/test all + 64 KiB of spaces', body: '/test all' + ' '.repeat(K), config: 'jobs' },
    { name: '/test + 1,000 near-miss job names', body: '/test ' + nearMisses.join(' '), config: 'jobs' },
    { name: 'custom trigger (\\w+\\s?)+, 64 KiB', body: '/test ' + 'a'.repeat(K) + '!', config: 'jobs+custom' },
    { name: 'custom trigger .*,.*,gpu, 64 KiB', body: '/test ' + 'a,'.repeat(K / 2) + 'x', config: 'jobs+custom' },
  ];
}

/** The last commit that still had the V8 translator: the parent of the commit that deleted it. */
function beforeCommit(): string {
  if (process.env.BENCH_BEFORE_COMMIT) return process.env.BENCH_BEFORE_COMMIT;
  const deleted = execFileSync('git', ['log', '-1', '--format=%H', '--diff-filter=D', '--', 'src/commands/go-regexp.ts'], { cwd: ROOT, encoding: 'utf8' }).trim();
  if (deleted === '') throw new Error('no commit deleted src/commands/go-regexp.ts; set BENCH_BEFORE_COMMIT');
  return `${deleted}^`;
}

/** That commit's src/ in a temp directory, resolving packages from this tree's node_modules. */
function checkoutBefore(commit: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'katabot-bench-match-'));
  execFileSync('sh', ['-c', `git archive "${commit}" src | tar -x -C "${dir}"`], { cwd: ROOT });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

async function loadApi(src: string): Promise<Api> {
  const registry = await import(join(src, 'commands/registry.ts'));
  const select = await import(join(src, 'jobs/select.ts'));
  return { ...registry, ...select } as Api;
}

async function workerMain(job: Job): Promise<void> {
  const api = await loadApi(job.src);
  for (const c of job.comments) {
    const presubmits = job.presubmits[c.config]!;
    const results = new Map(presubmits.slice(0, 40).map((p, i) => [p.context ?? p.name, i % 4 === 0 ? 'failure' : 'success']));
    const warm = performance.now();
    const result = matchComment(api, presubmits, c.body, results); // warm-up: compiles the regexes
    const runs = performance.now() - warm > 1000 ? 1 : RUNS;
    parentPort!.postMessage({ name: c.name, warm: runs });
    const ms: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < runs; i++) {
      const c0 = process.threadCpuUsage();
      const t = performance.now();
      matchComment(api, presubmits, c.body, results);
      ms.push(performance.now() - t);
      const c1 = process.threadCpuUsage(c0);
      cpu.push((c1.user + c1.system) / 1000);
    }
    parentPort!.postMessage({ name: c.name, outcome: { ms, cpu, result } satisfies Outcome });
  }
}

/** Runs the comments on one side, a fresh worker after any comment that ran past the budget. */
async function runSide(side: Job['side'], src: string, presubmits: Job['presubmits'], all: Comment[]): Promise<Map<string, Outcome | 'over budget'>> {
  const out = new Map<string, Outcome | 'over budget'>();
  let rest = all;
  while (rest.length > 0) {
    const worker = new Worker(new URL(import.meta.url), { workerData: { side, src, presubmits, comments: rest } satisfies Job });
    await new Promise<void>((done, fail) => {
      let timer: NodeJS.Timeout | undefined;
      const arm = (ms: number): void => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          out.set(rest[0]!.name, 'over budget');
          rest = rest.slice(1);
          void worker.terminate();
        }, ms);
      };
      arm(BUDGET_MS);
      worker.on('message', (m: { name: string; warm?: number; outcome?: Outcome }) => {
        if (m.warm !== undefined) return arm(BUDGET_MS * m.warm + 1000);
        out.set(m.name, m.outcome!);
        rest = rest.slice(1);
        arm(BUDGET_MS);
      });
      worker.on('error', fail);
      worker.on('exit', () => {
        clearTimeout(timer);
        done();
      });
    });
  }
  return out;
}

async function loadPresubmits(): Promise<{ from: string; jobs: Presubmit[] }> {
  const { parseJobConfig } = await import('../src/config/prow-config.ts');
  const dir = process.env.KATABOT_BENCH_JOB_CONFIG;
  if (dir) {
    const { listJobConfigFiles } = await import('../src/config/load.ts');
    const files = await listJobConfigFiles(dir);
    const config = parseJobConfig(files.map((path) => ({ path, text: readFileSync(path, 'utf8') })));
    return { from: `${dir} (${files.length} files, every repository's presubmits as one list)`, jobs: Object.values(config.presubmits).flat() };
  }
  const config = parseJobConfig([{ path: 'generated.yaml', text: generatedConfig() }]);
  return { from: 'generated, kubernetes/test-infra-shaped', jobs: config.presubmits['kubernetes/kubernetes'] ?? [] };
}

const fmt = (o: Outcome | 'over budget' | undefined): string =>
  o === undefined ? 'n/a' : o === 'over budget' ? `> ${(BUDGET_MS / 1000).toFixed(0)} s (stopped)` : `${median(o.cpu).toFixed(1)} (${median(o.ms).toFixed(1)}) ms`;

async function main(): Promise<void> {
  const { from, jobs } = await loadPresubmits();
  const presubmits = { jobs, 'jobs+custom': [...jobs, ...CUSTOM] };
  // The ordinary comment names jobs that run on the base branch.
  const onBase = jobs.filter((p) => !p.skip_branches && (!p.branches || p.branches.some((b) => b === BASE || b === `^${BASE}$`)));
  const list = comments(onBase.map((p) => p.name));
  const commit = beforeCommit();
  const beforeSrc = checkoutBefore(commit);
  console.log(`bench:match — ${jobs.length} presubmits (${from}); before = ${execFileSync('git', ['rev-parse', '--short', commit], { cwd: ROOT, encoding: 'utf8' }).trim()} (V8 translator), after = this tree (re2js)`);
  console.log(`CPU time of the matching thread (wall time in brackets), median of ${RUNS} runs after one warm-up; budget ${BUDGET_MS} ms; goal ≤ ${GOAL_MS} ms CPU per comment\n`);
  try {
    const before = await runSide('before', join(beforeSrc, 'src'), presubmits, list);
    const after = await runSide('after', join(ROOT, 'src'), presubmits, list);
    const rows = list.map((c) => {
      const b = before.get(c.name);
      const a = after.get(c.name);
      const times = (x: number): string => (x >= 1 ? x.toFixed(1) : x.toFixed(2)) + '×';
      const ratio = typeof a === 'object' && typeof b === 'object'
        ? (Math.max(median(a.cpu), median(b.cpu)) < 0.5 ? 'both < 0.5 ms' : times(median(b.cpu) / Math.max(median(a.cpu), 0.001)))
        : typeof a === 'object' ? `> ${times(BUDGET_MS / Math.max(median(a.cpu), 0.001))}` : 'n/a';
      const goal = typeof a === 'object' && median(a.cpu) <= GOAL_MS ? 'yes' : 'NO';
      const same = typeof a === 'object' && typeof b === 'object' ? (a.result === b.result ? 'same' : `DIFFERS: before ${b.result}`) : '';
      return { comment: c.name, bytes: c.body.length, before: fmt(b), after: fmt(a), 'before/after': ratio, [`≤ ${GOAL_MS} ms`]: goal, result: typeof a === 'object' ? a.result : '', vs: same };
    });
    console.table(rows);
    if (rows.some((r) => r.vs.startsWith('DIFFERS'))) process.exitCode = 1;
  } finally {
    rmSync(beforeSrc, { recursive: true, force: true });
  }
}

if (isMainThread) await main();
else await workerMain(workerData as Job);
