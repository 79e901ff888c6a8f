// The behavior diff as users and the reporter meet it:
//   - `katabot diff`, `katabot profile`, `katabot apis` on files (one-line errors naming the file and line);
//   - onTracedJobFinished: a traced postsubmit on main becomes the baseline (indexed in a real Redis), a traced PR
//     job is diffed against it, with both traces read from a file:// artifact store laid out as Prow uploads them.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { Redis } from 'ioredis';
import { RedisStore } from '../../src/adapters/store.ts';
import { openArtifactStore, traceArtifactPath, jobBuildPath, type JobRef } from '../../src/artifacts/index.ts';
import { findBaselines, readBehaviorHtml } from '../../src/behavior/baseline.ts';
import { onTracedJobFinished, type BehaviorDeps } from '../../src/behavior/traced-run.ts';
import { readJobUsage, readRunUsage, readSpecOperations } from '../../src/behavior/api-usage-store.ts';
import { loadOpenApi, openApiFallback } from '../../src/behavior/openapi-load.ts';
import { serializeTrace, type Trace, type TraceEvent } from '../../src/trace/format.ts';
import type { DiffJson } from '../../src/trace/diff.ts';
import { LABELS, type ProwJob } from '../../src/jobs/types.ts';
import { startRedis, type TestRedis } from '../fixtures/redis.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const SPEC = join(ROOT, '../shared/kubernetes/openapi-v2-swagger.json.gz');
const specSkip = existsSync(SPEC) ? false : `no Kubernetes OpenAPI spec at ${SPEC}`;
const dir = mkdtempSync(join(tmpdir(), 'katabot-behavior-it-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function katabot(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/katabot.js'), ...args], { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: dir } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

let ts = 0;
const ev = (e: Partial<TraceEvent> & Pick<TraceEvent, 'kind'>): TraceEvent => ({ type: 'event', ts: (ts += 1000), pid: 100, ...e });

function trace(seed: number, extra: TraceEvent[] = [], lost = 0): Trace {
  const pid = 2000 + seed * 31;
  const events: TraceEvent[] = [
    ev({ kind: 'exec', pid, ppid: 1, exe: '/usr/bin/bash', argv: ['bash', 'ci/run.sh'], result: 0 }),
    ev({ kind: 'exec', pid: pid + 1, ppid: pid, exe: '/usr/bin/go', parent_exe: '/usr/bin/bash', argv: ['go', 'test', './...', `-count=${seed}`], result: 0 }),
    ev({ kind: 'open', pid: pid + 1, exe: '/usr/bin/go', path: `/tmp/go-build${1000000 + seed}/b001/importcfg`, flags: ['write', 'create', 'truncate'], result: 3 }),
    ev({ kind: 'dns', pid: pid + 1, exe: '/usr/bin/go', proto: 'udp', daddr: '10.96.0.10', dport: 53, query: 'proxy.golang.org', qtype: 'A' }),
    ev({ kind: 'connect', pid: pid + 1, exe: '/usr/bin/go', proto: 'tcp', sport: 40000 + seed, daddr: `142.250.0.${seed}`, dport: 443, result: 0 }),
    ...extra,
  ];
  return {
    header: { type: 'header', format: 'katabot-trace', version: '1.0', katabot: '0.1.0', source: 'bpftrace', bpftrace: 'v0.17.0', kernel: '6.1', host: 'node', start: '2025-01-01T00:00:00.000Z', target: { mode: 'pod', pods: [{ namespace: 'test-pods', name: 'x' }] } },
    events,
    footer: { type: 'footer', counts: { exec: 2, exit: 0, open: 1, connect: 1, accept: 0, listen: 0, dns: 1 }, lost: { reported: lost, gap: 0, incomplete: 0, total: lost }, malformed: 0, truncated: 0, duration_ms: 10, end: '2025-01-01T00:00:01.000Z', exit_code: 0 },
  };
}

const risky = [
  ev({ kind: 'exec', pid: 7, exe: '/usr/bin/curl', parent_exe: '/usr/bin/bash', argv: ['curl', '-fsSL', 'https://get.example.sh'], result: 0 }),
  ev({ kind: 'open', pid: 7, exe: '/usr/bin/bash', path: '/etc/sudoers.d/ci', flags: ['write', 'create', 'truncate'], result: 3 }),
];

function write(path: string, text: string | Buffer): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return path;
}

describe('katabot diff / profile (CLI)', () => {
  const base = write(join(dir, 'cli', 'base.jsonl'), serializeTrace(trace(1)));
  const base2 = write(join(dir, 'cli', 'base2.jsonl'), serializeTrace(trace(2, [ev({ kind: 'open', exe: '/usr/bin/go', path: '/var/cache/sometimes', flags: ['read'], result: 3 })])));
  const same = write(join(dir, 'cli', 'same.jsonl'), serializeTrace(trace(3)));
  const head = write(join(dir, 'cli', 'head.jsonl'), serializeTrace(trace(4, risky, 3)));

  it('json: the documented shape; the same job traced twice is an empty diff', async () => {
    const r = await katabot(['diff', base, same, '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const empty = { added: [], removed: [], flaky: [] };
    assert.deepEqual(JSON.parse(r.stdout), { processes: empty, files: empty, network: empty, k8sApi: empty, custom: empty, summary: { added: 0, removed: 0, lostEvents: { base: 0, head: 0 } } });
  });

  it('json: additions with risk hints and lost events; --exit-code', async () => {
    const r = await katabot(['diff', base, head, '--format', 'json', '--exit-code']);
    assert.equal(r.code, 1, r.stderr);
    const d = JSON.parse(r.stdout) as DiffJson;
    assert.deepEqual(d.processes.added, [{ key: '/usr/bin/bash → /usr/bin/curl -fsSL https://get.example.sh', count: 1, risk: [] }]);
    assert.deepEqual(d.files.added, [{ key: 'write /etc/sudoers.d/ci', count: 1, risk: ['write under /etc, /usr or /boot', 'reads a secret'] }]);
    assert.deepEqual(d.summary, { added: 2, removed: 0, lostEvents: { base: 0, head: 3 } });
  });

  it('--baseline: what varies between base runs is flaky; --ignore drops it', async () => {
    const r = await katabot(['diff', base2, base, '--baseline', same, '--format', 'json']);
    const d = JSON.parse(r.stdout) as DiffJson;
    assert.deepEqual(d.files.flaky, [{ key: 'read /var/cache/sometimes', count: 1, risk: [] }]);
    assert.deepEqual([d.summary.added, d.summary.removed], [0, 0]);
    const ignore = write(join(dir, 'cli', 'ignore.txt'), '# caches\n/var/cache/**\n');
    const r2 = await katabot(['diff', base2, base, '--baseline', same, '--format', 'json', '--ignore', ignore]);
    assert.deepEqual((JSON.parse(r2.stdout) as DiffJson).files.flaky, []);
  });

  it('md and html', async () => {
    const md = await katabot(['diff', base, head, '--format', 'md', '--job', 'unit']);
    assert.match(md.stdout, /^<!-- katabot:behavior job="unit" -->/);
    assert.match(md.stdout, /\*\*Lost events:\*\* the head trace lost 3 events/);
    const out = join(dir, 'cli', 'report.html');
    const html = await katabot(['diff', base, head, '--format', 'html', '--out', out]);
    assert.equal(html.code, 0, html.stderr);
    assert.match(readFileSync(out, 'utf8'), /^<!doctype html>/);
  });

  it('a directory of artifacts is a run; profile prints it', async () => {
    write(join(dir, 'cli', 'artifacts', 'katabot', 'trace.jsonl'), serializeTrace(trace(5)));
    write(join(dir, 'cli', 'artifacts', 'build-log.txt'), 'not a trace\n');
    const r = await katabot(['diff', base, join(dir, 'cli', 'artifacts'), '--format', 'json']);
    assert.equal((JSON.parse(r.stdout) as DiffJson).summary.added, 0, r.stderr);
    const p = await katabot(['profile', join(dir, 'cli', 'artifacts')]);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /^katabot profile: 1 trace, 5 events/);
    assert.match(p.stdout, /tcp → proxy\.golang\.org:443/);
    assert.match(p.stdout, /write \/tmp\/go-<tmp>\/b001\/importcfg/);
    const j = await katabot(['profile', base, '--format', 'json']);
    const saved = write(join(dir, 'cli', 'base.profile.json'), j.stdout);
    const r2 = await katabot(['diff', saved, same, '--format', 'json']);
    assert.equal((JSON.parse(r2.stdout) as DiffJson).summary.added, 0, 'a saved profile works as BASE');
  });

  const errors: Array<[string, string[], RegExp]> = [
    ['missing file', ['diff', 'nope.jsonl', 'x.jsonl'], /^katabot diff: nope\.jsonl: no such file or directory$/],
    ['bad format', ['diff', 'a', 'b', '--format', 'xml'], /^katabot diff: --format wants json, md or html, got "xml"$/],
    ['missing ignore file', ['diff', 'a', 'b', '--ignore', 'nope.txt'], /^katabot diff: --ignore nope\.txt: no such file$/],
    ['profile of a missing file', ['profile', 'nope.jsonl'], /^katabot profile: nope\.jsonl: no such file or directory$/],
  ];
  for (const [name, args, want] of errors) {
    it(`one-line error: ${name}`, async () => {
      const r = await katabot(args);
      assert.equal(r.code, 2);
      assert.match(r.stderr.trim(), want);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    });
  }

  it('one-line error naming the line of a malformed trace', async () => {
    const bad = write(join(dir, 'cli', 'bad.jsonl'), serializeTrace(trace(1)).replace(/\n.*"kind":"open".*\n/, '\n{"type":"event","kind":"open"}\n'));
    const r = await katabot(['diff', base, bad]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim(), `katabot diff: ${bad}: line 4: event without a numeric ts`);
    const notJson = write(join(dir, 'cli', 'notjson.jsonl'), serializeTrace(trace(1)) + '{oops\n');
    const r2 = await katabot(['diff', base, notJson]);
    assert.match(r2.stderr.trim(), new RegExp(`^katabot diff: ${notJson}: line 8: not JSON: `));
  });
});

describe('katabot apis (CLI)', { skip: specSkip }, () => {
  const log = write(join(dir, 'apis', 'audit.log'), [
    { verb: 'create', requestURI: '/api/v1/namespaces/e2e-abc/secrets', auditID: 'a1', stage: 'ResponseComplete' },
    { verb: 'list', requestURI: '/api/v1/namespaces/e2e-abc/pods?limit=500', auditID: 'a2', stage: 'ResponseComplete' },
    { verb: 'get', requestURI: '/healthz', auditID: 'a3', stage: 'ResponseComplete' },
    { verb: 'list', requestURI: '/apis/example.io/v1/foos', auditID: 'a4', stage: 'ResponseComplete' },
  ].map((e) => JSON.stringify({ kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', ...e, user: { username: 'system:serviceaccount:e2e-abc:default' }, userAgent: 'e2e.test/v1.33 -- [sig-x] test' })).join('\n') + '\n');
  const gz = write(join(dir, 'apis', 'audit.log.gz'), gzipSync(readFileSync(log)));

  it('jsonl: one line per audit event, operationId null when nothing matches', async () => {
    const r = await katabot(['apis', log, '--openapi', SPEC, '--format', 'jsonl']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n').map((l) => JSON.parse(l)), [
      { auditID: 'a1', verb: 'create', requestURI: '/api/v1/namespaces/e2e-abc/secrets', operationId: 'createCoreV1NamespacedSecret', level: 'stable' },
      { auditID: 'a2', verb: 'list', requestURI: '/api/v1/namespaces/e2e-abc/pods?limit=500', operationId: 'listCoreV1NamespacedPod', level: 'stable' },
      { auditID: 'a3', verb: 'get', requestURI: '/healthz', operationId: null, level: null },
      { auditID: 'a4', verb: 'list', requestURI: '/apis/example.io/v1/foos', operationId: null, level: null },
    ]);
  });

  it('json: summary by level, endpoints, categories, stable coverage (gzip input)', async () => {
    const r = await katabot(['apis', gz, '--openapi', SPEC]);
    assert.equal(r.code, 0, r.stderr);
    const u = JSON.parse(r.stdout);
    assert.deepEqual([u.requests, u.matched, u.ignored, u.unmatched], [4, 2, 1, 1]);
    assert.deepEqual(u.endpoints.map((e: { endpoint: string }) => e.endpoint).sort(), ['createCoreV1NamespacedSecret', 'listCoreV1NamespacedPod']);
    assert.equal(u.coverage.hit, 2);
    assert.deepEqual(u.summary.map((s: { level: string }) => s.level), ['stable', 'beta', 'alpha']);
  });

  it('csv: APISnoop\'s endpoint_coverage, every endpoint', async () => {
    const r = await katabot(['apis', log, '--openapi', SPEC, '--format', 'csv']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines[0], 'release,endpoint,level,category,path,description,kind,version,group,action,tested,conf_tested,tests');
    assert.ok(lines.some((l) => l.startsWith('unversioned,createCoreV1NamespacedSecret,stable,core,/api/v1/namespaces/{namespace}/secrets,') && l.endsWith(',Secret,v1,core,post,true,false,[sig-x] test')));
  });

  it('--export: APISnoop\'s exports by name, apps by user agent program', async () => {
    const r = await katabot(['apis', log, '--openapi', SPEC, '--export', 'app-usage-summary']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'app,stable,beta,alpha,total,conformance\ne2e.test,2,0,0,2,stable\n');
    const bad = await katabot(['apis', log, '--openapi', SPEC, '--export', 'nope']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^katabot apis: --export wants one of app-usage-categories, app-usage-summary, app-usage-endpoints, coverage-spreadsheet, endpoint-coverage, got "nope"\n$/);
  });

  // A real log after rotation and a version skew: a line cut short, an event of another apiVersion, events
  // without requestURI or verb. They are skipped and counted (stderr and json), or an error with --strict.
  const good = readFileSync(log, 'utf8').trim().split('\n');
  const broken = write(join(dir, 'apis', 'broken', 'kube-apiserver-audit.log'), [
    good[0],
    good[1]!.slice(0, 60),
    JSON.stringify({ ...JSON.parse(good[1]!), apiVersion: 'audit.k8s.io/v2' }),
    JSON.stringify({ ...JSON.parse(good[1]!), requestURI: undefined }),
    good[2],
    JSON.stringify({ ...JSON.parse(good[3]!), verb: undefined }),
    JSON.stringify({ ...JSON.parse(good[3]!), verb: undefined, auditID: 'a9' }),
    good[1],
  ].join('\n') + '\n');

  it('skips and counts malformed events by reason, with their first lines', async () => {
    const r = await katabot(['apis', broken, '--openapi', SPEC]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, 'katabot apis: 5 malformed audit events skipped: bad JSON 1 (kube-apiserver-audit.log:2), wrong apiVersion 1 (kube-apiserver-audit.log:3), '
      + 'no requestURI 1 (kube-apiserver-audit.log:4), no verb 2 (kube-apiserver-audit.log:6, kube-apiserver-audit.log:7)\n');
    const u = JSON.parse(r.stdout);
    assert.deepEqual(u.skipped, {
      total: 5,
      reasons: [
        { reason: 'bad JSON', count: 1, first: ['kube-apiserver-audit.log:2'] },
        { reason: 'wrong apiVersion', count: 1, first: ['kube-apiserver-audit.log:3'] },
        { reason: 'no requestURI', count: 1, first: ['kube-apiserver-audit.log:4'] },
        { reason: 'no verb', count: 2, first: ['kube-apiserver-audit.log:6', 'kube-apiserver-audit.log:7'] },
      ],
    });
    assert.deepEqual([u.events, u.requests, u.matched], [3, 3, 2], 'the good lines are all read');
  });

  it('--strict: the first malformed event is an error, one line, no stack trace', async () => {
    const r = await katabot(['apis', broken, '--openapi', SPEC, '--strict']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, `katabot apis: ${broken}: line 2: bad JSON\n`);
    assert.equal(r.stdout, '');
  });

  it('katabot profile and diff read such a log too: counted, or an error with --strict', async () => {
    const p = await katabot(['profile', dirname(broken), '--openapi', SPEC]);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /^ {2}5 malformed audit events skipped: bad JSON 1 \(kube-apiserver-audit\.log:2\), /m);
    const strict = await katabot(['diff', dirname(broken), dirname(broken), '--openapi', SPEC, '--strict']);
    assert.equal(strict.code, 2);
    assert.equal(strict.stderr, `katabot diff: ${broken}: line 2: bad JSON\n`);
  });

  it("a directory of artifacts: the job's own openapi-v2.json beside its audit log", async () => {
    const art = join(dir, 'apis', 'artifacts');
    write(join(art, 'katabot', 'kube-apiserver-audit.log'), readFileSync(log));
    write(join(art, 'katabot', 'openapi-v2.json.gz'), readFileSync(SPEC));
    const r = await katabot(['apis', art]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).matched, 2);
  });

  it('needs --openapi when no spec is beside the log', async () => {
    const r = await katabot(['apis', log]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim(), 'katabot apis: --openapi SPEC is required (a file, a URL, or "cluster"), unless the directory holds the job\'s openapi-v2.json');
  });
});

describe('onTracedJobFinished: baselines in the store, traces from the artifact store', () => {
  let redis: TestRedis;
  let client: Redis;
  let deps: BehaviorDeps;
  const bucket = join(dir, 'bucket');
  const gcs = { bucket: `file://${bucket}`, path_strategy: 'explicit' as const };

  function prowjob(name: string, type: 'postsubmit' | 'presubmit', state: 'success' | 'failure', buildId: string, sha: string, pull?: number): ProwJob {
    return {
      apiVersion: 'prow.k8s.io/v1', kind: 'ProwJob',
      metadata: { name, labels: { [LABELS.trace]: 'true' } },
      spec: {
        type, job: 'kata-e2e', report: true,
        refs: { org: 'kata-containers', repo: 'kata-containers', base_ref: 'main', base_sha: pull ? 'base000' : sha, ...(pull ? { pulls: [{ number: pull, author: 'alice', sha }] } : {}) },
        decoration_config: { gcs_configuration: gcs },
      },
      status: { state, build_id: buildId, completionTime: `2025-01-0${buildId.length % 9}T00:00:00Z` },
    };
  }

  function upload(pj: ProwJob, t: Trace): void {
    const ref: JobRef = { type: pj.spec.type, job: pj.spec.job, buildId: pj.status!.build_id!, org: 'kata-containers', repo: 'kata-containers' };
    const pull = pj.spec.refs?.pulls?.[0]?.number;
    if (pull !== undefined) ref.pull = pull;
    write(join(bucket, traceArtifactPath(ref)), serializeTrace(t));
  }

  before(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
    deps = {
      store: new RedisStore(client, `${redis.prefix}:`),
      artifacts: (url) => openArtifactStore(url),
      reportUrl: (id) => `https://katabot.example/behavior/${id}`,
      ...(specSkip ? {} : { openapi: async () => loadOpenApi(SPEC) }),
    };
  });
  after(async () => {
    client?.disconnect();
    await redis?.close();
  });

  it('ignores jobs that are not traced or not finished', async () => {
    const pj = prowjob('x', 'presubmit', 'success', '1', 'h', 1);
    assert.deepEqual(await onTracedJobFinished(deps, { ...pj, metadata: { name: 'x' } }), { kind: 'skipped', reason: 'not a traced job' });
    assert.equal((await onTracedJobFinished(deps, { ...pj, status: { state: 'pending', build_id: '1' } })).kind, 'skipped');
  });

  it('a PR job without a baseline waits for the base run; the base run then reports it', async () => {
    const head = prowjob('pr-1', 'presubmit', 'failure', '101', 'head111', 42);
    upload(head, trace(2, risky));
    const waiting = await onTracedJobFinished(deps, head);
    assert.deepEqual(waiting, { kind: 'no-baseline', org: 'kata-containers', repo: 'kata-containers', job: 'kata-e2e', baseRef: 'main', baseSha: 'base000', pull: 42 });

    const baseRun = prowjob('post-1', 'postsubmit', 'success', '201', 'base000');
    upload(baseRun, trace(1));
    // an apiserver audit log among the base run's artifacts is part of its profile
    const ref: JobRef = { type: 'postsubmit', job: 'kata-e2e', buildId: '201', org: 'kata-containers', repo: 'kata-containers' };
    write(join(bucket, jobBuildPath(ref), 'artifacts', 'audit', 'kube-apiserver-audit.log'),
      JSON.stringify({ kind: 'Event', apiVersion: 'audit.k8s.io/v1', auditID: 'z', stage: 'ResponseComplete', verb: 'get', requestURI: '/api/v1/namespaces/a/pods/b', objectRef: { resource: 'pods', apiVersion: 'v1' } }) + '\n');
    const out = await onTracedJobFinished(deps, baseRun);
    assert.equal(out.kind, 'baseline');
    if (out.kind !== 'baseline') return;
    assert.equal(out.reports.length, 1);
    const rep = out.reports[0]!;
    assert.deepEqual([rep.pull, rep.headSha, rep.job], [42, 'head111', 'kata-e2e']);
    assert.equal(rep.checkRun.name, 'katabot / behavior (kata-e2e)');
    assert.equal(rep.checkRun.conclusion, 'action_required');
    assert.equal(rep.checkRun.head_sha, 'head111');
    assert.equal(rep.comment.marker, '<!-- katabot:behavior job="kata-e2e" -->');
    assert.ok(rep.comment.body.startsWith(rep.comment.marker));
    assert.match(rep.comment.body, /Compared with `main` @ `base000`/);
    assert.match(rep.comment.body, /\[Full behavior report\]\(https:\/\/katabot\.example\/behavior\/kata-containers~kata-containers~42~kata-e2e~101\)/);
    assert.equal(rep.diff.summary.added, 2);
    assert.equal(rep.diff.k8sApi.removed.length, 1, 'the base run\'s API call is gone in head');
    assert.equal(await readBehaviorHtml(deps.store, rep.htmlId), rep.html);
  });

  it('a PR job with baselines gets its report at once; newer base runs come first', async () => {
    const base2 = prowjob('post-2', 'postsubmit', 'success', '2002', 'base222');
    upload(base2, trace(3));
    assert.equal((await onTracedJobFinished(deps, base2)).kind, 'baseline');
    const failed = prowjob('post-3', 'postsubmit', 'failure', '2003', 'base333');
    assert.deepEqual(await onTracedJobFinished(deps, failed), { kind: 'skipped', reason: 'a failure run is no baseline' });
    const list = await findBaselines(deps.store, 'kata-containers/kata-containers', 'main', 'kata-e2e', undefined);
    assert.deepEqual(list.map((b) => b.prowjob), ['post-2', 'post-1']);

    const head = prowjob('pr-2', 'presubmit', 'success', '102', 'head222', 43);
    upload(head, trace(4));
    const out = await onTracedJobFinished(deps, head);
    assert.equal(out.kind, 'report');
    if (out.kind !== 'report') return;
    assert.deepEqual(out.report.baselines.map((b) => b.run), ['post-1', 'post-2'], 'the run at the PR\'s base_sha first');
    assert.equal(out.report.checkRun.conclusion, 'neutral');
    assert.equal(out.report.diff.summary.added, 0);
  });

  it('a PR job whose trace is missing is skipped', async () => {
    const head = prowjob('pr-3', 'presubmit', 'success', '103', 'head333', 44);
    assert.deepEqual(await onTracedJobFinished(deps, head), { kind: 'skipped', reason: 'the run uploaded no trace' });
  });
});

// Done-when of the API usage work: a traced job that uploads its apiserver audit log and its cluster's /openapi/v2
// (artifacts/katabot/, docs/audit-logs.md) gets a PR report that names OpenAPI operations, with no spec configured
// in the bot; a job that captured no spec is read with KATABOT_OPENAPI. Each run's usage is kept for the dashboard.
describe('traced jobs with audit logs: operations named from the spec the job captured', { skip: specSkip }, () => {
  let redis: TestRedis;
  let client: Redis;
  let deps: BehaviorDeps;
  const bucket = join(dir, 'bucket-apis');
  const gcs = { bucket: `file://${bucket}`, path_strategy: 'explicit' as const };
  let n = 0;
  const audit = (verb: string, requestURI: string, resource: string, apiGroup?: string) => JSON.stringify({
    kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', auditID: `e${++n}`, stage: 'ResponseComplete', verb, requestURI,
    userAgent: 'e2e.test/v1.33.1 (linux/amd64) kubernetes/8adc0f0 -- [sig-apps] Deployment should run the lifecycle of a Deployment [Conformance]',
    user: { username: 'system:serviceaccount:e2e-x:default' }, objectRef: { resource, apiVersion: 'v1', ...(apiGroup ? { apiGroup } : {}) },
  });
  const BASE_LOG = [audit('list', '/api/v1/namespaces/e2e-x/pods', 'pods'), audit('create', '/api/v1/namespaces/e2e-x/configmaps', 'configmaps')];

  function run(name: string, type: 'postsubmit' | 'presubmit', buildId: string, sha: string, log: string[], spec: boolean, pull?: number): ProwJob {
    const pj: ProwJob = {
      apiVersion: 'prow.k8s.io/v1', kind: 'ProwJob',
      metadata: { name, labels: { [LABELS.trace]: 'true' } },
      spec: {
        type, job: 'kata-k8s', report: true,
        refs: { org: 'kata-containers', repo: 'kata-containers', base_ref: 'main', base_sha: pull ? 'b0' : sha, ...(pull ? { pulls: [{ number: pull, author: 'alice', sha }] } : {}) },
        decoration_config: { gcs_configuration: gcs },
      },
      status: { state: 'success', build_id: buildId, completionTime: '2025-02-01T00:00:00Z' },
    };
    const ref: JobRef = { type, job: 'kata-k8s', buildId, org: 'kata-containers', repo: 'kata-containers', ...(pull !== undefined ? { pull } : {}) };
    write(join(bucket, traceArtifactPath(ref)), serializeTrace(trace(1)));
    const art = join(bucket, jobBuildPath(ref), 'artifacts', 'katabot');
    // a log that rotated mid-line: the cut line is skipped and counted, not fatal
    write(join(art, 'kube-apiserver-audit.log'), [...log, log[0]!.slice(0, 50)].join('\n') + '\n');
    if (spec) write(join(art, 'openapi-v2.json.gz'), readFileSync(SPEC));
    return pj;
  }

  before(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
    deps = { store: new RedisStore(client, `${redis.prefix}:`), artifacts: (url) => openArtifactStore(url) };
  });
  after(async () => {
    client?.disconnect();
    await redis?.close();
  });

  it('the PR report names operationIds from the job\'s own /openapi/v2, with no spec configured in the bot', async () => {
    assert.equal((await onTracedJobFinished(deps, run('base-a', 'postsubmit', '301', 'b0', BASE_LOG, true))).kind, 'baseline');
    const head = run('pr-a', 'presubmit', '302', 'h1', [...BASE_LOG, audit('create', '/apis/apps/v1/namespaces/e2e-x/deployments', 'deployments', 'apps')], true, 7);
    const out = await onTracedJobFinished(deps, head);
    assert.equal(out.kind, 'report');
    if (out.kind !== 'report') return;
    const body = out.report.comment.body;
    assert.match(body, /<code>create apps\/v1 deployments \(createAppsV1NamespacedDeployment\)<\/code>/);
    assert.match(body, /\| \+ \| stable \| <code>createAppsV1NamespacedDeployment<\/code> \| apps \| 1 \|/);
    assert.match(body, /Operations named with the job's own `\/openapi\/v2` \(`katabot\/openapi-v2\.json\.gz`\)/);
    assert.match(body, /Head's audit log: 1 malformed audit event skipped: bad JSON 1 \(kube-apiserver-audit\.log:4\)/);
    assert.doesNotMatch(body, /unknown/);
    assert.deepEqual(out.report.diff.k8sApi.added.map((i) => i.key), ['create apps/v1 deployments (createAppsV1NamespacedDeployment)']);
  });

  it("each run's usage is kept for the dashboard: conformance hits, the job's newest runs", async () => {
    const pr = await readRunUsage(deps.store, 'pr-a');
    assert.ok(pr, 'the PR run has a usage record');
    assert.equal(pr.run.job, 'kata-k8s');
    assert.equal(pr.usage.endpoints['createAppsV1NamespacedDeployment']?.conformance, 1);
    assert.equal(pr.usage.skipped.total, 1);
    const ops = await readSpecOperations(deps.store, pr.run.spec);
    assert.ok(ops && ops.length > 1000, 'the spec\'s operations, stored once');
    const runs = await readJobUsage(deps.store, 'kata-k8s', 10);
    assert.deepEqual(runs.map((r) => r.run.prowjob).sort(), ['base-a', 'pr-a'], 'the baseline was profiled when it was recorded');
  });

  it('a job that captured no spec is read with KATABOT_OPENAPI', async () => {
    const withFallback: BehaviorDeps = { ...deps, openapi: openApiFallback(SPEC, (err) => assert.fail(err.message)) };
    const head = run('pr-b', 'presubmit', '303', 'h2', [...BASE_LOG, audit('delete', '/api/v1/namespaces/e2e-x/configmaps/c', 'configmaps')], false, 8);
    const out = await onTracedJobFinished(withFallback, head);
    assert.equal(out.kind, 'report');
    if (out.kind !== 'report') return;
    assert.match(out.report.comment.body, /<code>deleteCoreV1NamespacedConfigMap<\/code>/);
    assert.match(out.report.comment.body, /Operations named with `KATABOT_OPENAPI`/);
  });

  it('with neither, calls are keyed by verb and resource and the comment says how to name them', async () => {
    const head = run('pr-c', 'presubmit', '304', 'h3', [...BASE_LOG, audit('delete', '/api/v1/namespaces/e2e-x/configmaps/c', 'configmaps')], false, 9);
    const out = await onTracedJobFinished(deps, head);
    assert.equal(out.kind, 'report');
    if (out.kind !== 'report') return;
    assert.match(out.report.comment.body, /<code>delete v1 configmaps<\/code>/);
    assert.match(out.report.comment.body, /No OpenAPI spec for this run/);
  });
});
