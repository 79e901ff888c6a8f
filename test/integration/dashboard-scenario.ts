// A fortnight of Kata CI as katabot records it, for the dashboard's API and browser tests: ProwJobs shaped as plank
// writes them, recorded through the reporter's own recording code (RedisResultsStore.record) in the order the
// reporter sees them (triggered → pending → final). One PR job is traced: its trace and its base branch's trace go
// into a file:// bucket laid out as Prow uploads, and the behavior diff (onTracedJobFinished) stores its report.
// Both traced runs also upload an apiserver audit log and their cluster's /openapi/v2 (the real spec from
// ../shared), so they have Kubernetes API usage (the dashboard's API usage page and downloads).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { RedisResultsStore } from '../../src/adapters/results-store.ts';
import { RedisStore } from '../../src/adapters/store.ts';
import { jobBuildPath, openArtifactStore, traceArtifactPath, type JobRef } from '../../src/artifacts/index.ts';
import { onTracedJobFinished } from '../../src/behavior/traced-run.ts';
import { parseYaml } from '../../src/config/yaml.ts';
import { LABELS, type ProwJob, type ProwJobState } from '../../src/jobs/types.ts';
import { serializeTrace, type Trace, type TraceEvent } from '../../src/trace/format.ts';
import { buildWeb } from '../../web/build.ts';
import { REAL_USER_AGENTS } from '../fixtures/k8s/user-agents.ts';
import { startHarness, type Harness } from './harness.ts';

export const ORG = 'kata-containers';
export const REPO = 'kata-containers';
export const FULL_REPO = `${ORG}/${REPO}`;
export const DECK = 'https://prow.kata.example/view/s3/kata-prow-logs';
const HOUR = 3600_000;

export const SHARED_KATA = new URL('../../../shared/kata/', import.meta.url).pathname;
export const REQUIRED_SAMPLE = join(SHARED_KATA, 'required-tests.yaml');
export const MAINTAINERS_SAMPLE = join(SHARED_KATA, 'maintainers.yml');

/**
 * Kata's required-tests.yaml, plus the nightly jobs katabot should call required: Kata names its required jobs
 * by GitHub check context, which Prow periodics do not have, so a Prow deployment adds regexps for them.
 */
export function writeRequiredTests(dir: string): string {
  const doc = parseYaml(readFileSync(REQUIRED_SAMPLE, 'utf8'), REQUIRED_SAMPLE) as Record<string, unknown>;
  doc.required_regexps = ['periodic-run-containerd-stability-.*', 'periodic-run-k8s-tests-on-tdx-.*'];
  const path = join(dir, 'required-tests.yaml');
  writeFileSync(path, stringify(doc));
  return path;
}

/** Jobs by the check context Kata's required-tests.yaml names them with. */
export const PRESUBMITS = {
  nerdctl: { job: 'pull-kata-nerdctl-qemu', context: 'Kata Containers CI / kata-containers-ci-on-push / run-basic-amd64-tests / run-nerdctl-tests (qemu)' },
  cri: {
    job: 'pull-kata-cri-containerd-dragonball',
    context: 'Kata Containers CI / kata-containers-ci-on-push / run-cri-containerd-tests-amd64 (latest, dragonball) / run-cri-containerd-amd64 (latest, dragonball)',
  },
  commit: { job: 'pull-kata-commit-message-check', context: 'Commit Message Check / Commit Message Check' },
  tdx: { job: 'pull-kata-k8s-tdx', context: 'Kata Containers CI / kata-containers-ci-on-push / run-kata-coco-tests / run-k8s-tests-on-tdx (qemu-tdx)', optional: true },
  docs: { job: 'pull-kata-docs-lint', context: 'pull-kata-docs-lint', optional: true },
} as const;

type Letter = 'P' | 'F' | 'A' | 'R';
const STATE: Record<Letter, ProwJobState> = { P: 'success', F: 'failure', A: 'aborted', R: 'pending' };

/** Nightly results, newest first. */
export const NIGHTLY: Record<string, string> = {
  'periodic-run-k8s-tests-on-tdx-qemu-tdx': 'R F F F F P F F F P F',
  'periodic-run-k8s-tests-on-aks-dragonball': 'F P F F P F P P F F',
  'periodic-run-k8s-tests-on-zvsi-qemu': 'P F P F P P F P F P',
  'periodic-run-nerdctl-tests-qemu-runtime-rs': 'P P F P P A P F P P',
  'periodic-run-containerd-stability-qemu': 'P P P P P P P P P P',
  'periodic-run-kata-agent-apis': 'P P A P P P P P P P',
  'periodic-run-k8s-tests-on-arm64-qemu': 'P P P F P P P P P P',
};

let buildSeq = 1_790_000_000_000_000_000n;
const nextBuild = () => String(buildSeq++);

const iso = (t: number) => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');

interface PjSpec {
  name: string;
  job: string;
  type: 'presubmit' | 'periodic' | 'postsubmit';
  state: ProwJobState;
  start: number;
  minutes: number;
  context?: string;
  optional?: boolean;
  pull?: { number: number; author: string; sha: string };
  baseSha?: string;
  traced?: boolean;
  bucket?: string;
  retest?: boolean;
}

const DESCRIPTIONS: Partial<Record<ProwJobState, string>> = {
  success: 'Job succeeded.',
  failure: 'Job failed.',
  aborted: 'Aborted by trigger plugin.',
  error: 'Pod scheduling timeout.',
};

function prowJob(s: PjSpec): ProwJob {
  const buildId = nextBuild();
  const labels: Record<string, string> = { [LABELS.createdByProw]: 'true', [LABELS.type]: s.type, [LABELS.job]: s.job };
  if (s.optional !== undefined) labels[LABELS.isOptional] = String(s.optional);
  if (s.traced) labels[LABELS.trace] = 'true';
  if (s.retest) labels[LABELS.retest] = 'true';
  if (s.pull) labels[LABELS.pull] = String(s.pull.number);
  const refs = { org: ORG, repo: REPO, base_ref: 'main', base_sha: s.baseSha ?? 'a0'.repeat(20), ...(s.pull ? { pulls: [{ number: s.pull.number, author: s.pull.author, sha: s.pull.sha }] } : {}) };
  const path =
    s.type === 'presubmit' ? `pr-logs/pull/${ORG}_${REPO}/${s.pull!.number}/${s.job}/${buildId}` : `logs/${s.job}/${buildId}`;
  const final = s.state !== 'pending' && s.state !== 'triggered';
  const pj: ProwJob = {
    apiVersion: 'prow.k8s.io/v1',
    kind: 'ProwJob',
    metadata: { name: s.name, namespace: 'prow', labels },
    spec: {
      type: s.type,
      agent: 'kubernetes',
      job: s.job,
      report: s.type === 'presubmit',
      ...(s.context && s.type === 'presubmit' ? { context: s.context } : {}),
      ...(s.type === 'periodic' ? { extra_refs: [{ org: ORG, repo: REPO, base_ref: 'main' }] } : { refs }),
      ...(s.bucket ? { decoration_config: { gcs_configuration: { bucket: s.bucket, path_strategy: 'explicit' } } } : {}),
    },
    status: {
      state: s.state,
      startTime: iso(s.start),
      pendingTime: iso(s.start + 20_000),
      build_id: buildId,
      url: `${DECK}/${path}`,
      description: final ? DESCRIPTIONS[s.state] : 'Job triggered.',
      ...(final ? { completionTime: iso(s.start + s.minutes * 60_000) } : {}),
    },
  } as ProwJob;
  return pj;
}

/** Records a ProwJob the way the reporter sees it move: triggered, pending, then its final state. */
async function record(store: RedisResultsStore, pj: ProwJob): Promise<void> {
  const final = structuredClone(pj);
  const triggered = structuredClone(pj);
  triggered.status = { state: 'triggered', startTime: pj.status!.startTime!, description: 'Job triggered.' };
  await store.record(triggered, undefined);
  if (final.status!.state === 'triggered') return;
  const pending = structuredClone(pj);
  pending.status = { ...pj.status!, state: 'pending' };
  delete pending.status.completionTime;
  await store.record(pending, pending.status.url);
  if (final.status!.state !== 'pending') await store.record(final, final.status!.url);
}

// ---------------------------------------------------------------------------------------------------------------
// traces for the behavior diff

let ts = 0;
const ev = (e: Partial<TraceEvent> & Pick<TraceEvent, 'kind'>): TraceEvent => ({ type: 'event', ts: (ts += 1000), pid: 100, ...e }) as TraceEvent;

function trace(extra: TraceEvent[]): Trace {
  const events: TraceEvent[] = [
    ev({ kind: 'exec', pid: 2000, ppid: 1, exe: '/usr/bin/bash', argv: ['bash', 'tests/integration/nerdctl/gha-run.sh', 'run'], result: 0 }),
    ev({ kind: 'exec', pid: 2001, ppid: 2000, exe: '/usr/local/bin/nerdctl', parent_exe: '/usr/bin/bash', argv: ['nerdctl', 'run', '--runtime', 'io.containerd.kata.v2', 'busybox'], result: 0 }),
    ev({ kind: 'open', pid: 2001, exe: '/usr/local/bin/nerdctl', path: '/etc/containerd/config.toml', flags: ['read'], result: 3 }),
    ev({ kind: 'dns', pid: 2001, exe: '/usr/local/bin/nerdctl', proto: 'udp', daddr: '10.96.0.10', dport: 53, query: 'quay.io', qtype: 'A' }),
    ev({ kind: 'connect', pid: 2001, exe: '/usr/local/bin/nerdctl', proto: 'tcp', sport: 40001, daddr: '52.1.2.3', dport: 443, result: 0 }),
    ...extra,
  ];
  return {
    header: {
      type: 'header', format: 'katabot-trace', version: '1.0', katabot: '0.1.0', source: 'bpftrace', bpftrace: 'v0.17.0', kernel: '6.1', host: 'node',
      start: '2026-01-01T00:00:00.000Z', target: { mode: 'pod', pods: [{ namespace: 'test-pods', name: 'nerdctl' }], runtime: 'kata' },
    },
    events,
    footer: {
      type: 'footer', counts: { exec: 2, exit: 0, open: 1, connect: 1, accept: 0, listen: 0, dns: 1 }, lost: { reported: 0, gap: 0, incomplete: 0, total: 0 },
      malformed: 0, truncated: 0, duration_ms: 10, end: '2026-01-01T00:00:01.000Z', exit_code: 0,
    },
  } as Trace;
}

/** What the traced PR run did that main did not: fetch and run a script, write under /etc. */
const HEAD_EXTRA = (): TraceEvent[] => [
  ev({ kind: 'exec', pid: 2002, ppid: 2000, exe: '/usr/bin/curl', parent_exe: '/usr/bin/bash', argv: ['curl', '-fsSL', 'https://get.example.sh'], result: 0 }),
  ev({ kind: 'open', pid: 2000, exe: '/usr/bin/bash', path: '/etc/sudoers.d/ci', flags: ['write', 'create', 'truncate'], result: 3 }),
];

function upload(bucketDir: string, pj: ProwJob, t: Trace): void {
  const ref: JobRef = { type: pj.spec.type, job: pj.spec.job, buildId: pj.status!.build_id!, org: ORG, repo: REPO };
  const pull = pj.spec.refs?.pulls?.[0]?.number;
  if (pull !== undefined) ref.pull = pull;
  const path = join(bucketDir, traceArtifactPath(ref));
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, serializeTrace(t));
}

/** The Kubernetes spec the traced runs' clusters "served" (../shared; without it the runs upload no audit log). */
export const SHARED_SPEC = new URL('../../../shared/kubernetes/openapi-v2-swagger.json.gz', import.meta.url).pathname;

let auditId = 0;
const USER_AGENT = {
  conformance: REAL_USER_AGENTS.find((u) => u.want.conformance)!.ua,
  e2e: REAL_USER_AGENTS.find((u) => u.want.e2e && !u.want.conformance)!.ua,
  kubectl: REAL_USER_AGENTS.find((u) => u.want.program === 'kubectl')!.ua,
  controller: REAL_USER_AGENTS.find((u) => u.want.program === 'kube-controller-manager')!.ua,
};
function auditLine(verb: string, requestURI: string, who: keyof typeof USER_AGENT): string {
  return JSON.stringify({
    kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', auditID: `sc-${++auditId}`, stage: 'ResponseComplete', verb, requestURI,
    user: { username: who === 'controller' ? 'system:serviceaccount:kube-system:namespace-controller' : 'kubernetes-admin' }, userAgent: USER_AGENT[who],
  });
}

/** What the job's e2e tests and tools asked the apiserver; the PR's run also creates a beta resource. */
const AUDIT_LOG = (head: boolean): string => [
  auditLine('create', '/api/v1/namespaces', 'conformance'),
  auditLine('get', '/api/v1/namespaces/e2e-1/pods/p', 'conformance'),
  auditLine('create', '/api/v1/namespaces/e2e-1/events', 'conformance'),
  auditLine('patch', '/api/v1/namespaces/e2e-1/events/ev', 'conformance'),
  auditLine('list', '/apis/apps/v1/namespaces/e2e-1/statefulsets', 'e2e'),
  auditLine('create', '/apis/apps/v1/namespaces/e2e-1/statefulsets', 'e2e'),
  auditLine('get', '/api/v1/nodes/n1/proxy', 'kubectl'),
  auditLine('list', '/api/v1/namespaces/e2e-1/configmaps', 'controller'),
  auditLine('deletecollection', '/api/v1/namespaces/e2e-1/configmaps', 'controller'),
  ...(head ? [auditLine('create', '/apis/admissionregistration.k8s.io/v1beta1/mutatingadmissionpolicies', 'kubectl')] : []),
  // the log rotated mid-line
  auditLine('get', '/api/v1/namespaces/e2e-1', 'kubectl').slice(0, 70),
].join('\n') + '\n';

function uploadAudit(bucketDir: string, pj: ProwJob, head: boolean): boolean {
  if (!existsSync(SHARED_SPEC)) return false;
  const ref: JobRef = { type: pj.spec.type, job: pj.spec.job, buildId: pj.status!.build_id!, org: ORG, repo: REPO };
  const pull = pj.spec.refs?.pulls?.[0]?.number;
  if (pull !== undefined) ref.pull = pull;
  const dir = join(bucketDir, jobBuildPath(ref), 'artifacts', 'katabot');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'kube-apiserver-audit.log'), AUDIT_LOG(head));
  writeFileSync(join(dir, 'openapi-v2.json.gz'), readFileSync(SHARED_SPEC));
  return true;
}

// ---------------------------------------------------------------------------------------------------------------

export interface Scenario {
  now: number;
  /** PR number → its head SHAs, oldest first. */
  shas: Record<number, string[]>;
  /** The traced PR run with a behavior report. */
  traced: { prowjob: string; pull: number; job: string };
  /** A traced run whose report is still waiting for a baseline. */
  tracedWaiting: string;
  /** The traced runs uploaded apiserver audit logs and their spec (needs ../shared), so they have API usage. */
  apiUsage: { base: string; head: string } | undefined;
  /** ProwJob names by PR, job and attempt: `${pull}:${job}:${attempt}` (newest SHA). */
  names: Map<string, string>;
}

export async function seedScenario(redisUrl: string, prefix: string, bucketDir: string): Promise<Scenario> {
  const redis = new Redis(redisUrl);
  try {
    const store = new RedisResultsStore(redis, `${prefix}:`);
    const kv = new RedisStore(redis, `${prefix}:`);
    const now = Date.now();
    const names = new Map<string, string>();
    let n = 0;
    const name = () => `e2e${(n++).toString(36).padStart(4, '0')}-${Math.random().toString(36).slice(2, 8)}`;

    // nightly: run k started k days ago at ~02:00; a running tdx run started 20 minutes ago
    for (const [job, pattern] of Object.entries(NIGHTLY)) {
      const letters = pattern.split(' ') as Letter[];
      let day = 0;
      for (const l of letters) {
        const start = l === 'R' ? now - 20 * 60_000 : now - (day + 0.6) * 24 * HOUR + (job.length % 7) * 60_000;
        if (l !== 'R') day++;
        await record(store, prowJob({ name: name(), job, type: 'periodic', state: STATE[l], start, minutes: 35 + (job.length % 23) }));
      }
    }

    const sha = (pull: number, i: number) => `${pull.toString(16)}${i}`.padEnd(40, 'c').slice(0, 40);
    const shas: Record<number, string[]> = { 101: [sha(101, 1), sha(101, 2)], 102: [sha(102, 1)], 103: [sha(103, 1)], 104: [sha(104, 1)], 105: [sha(105, 1)] };
    const authors: Record<number, string> = { 101: 'alice', 102: 'bob', 103: 'carol', 104: 'dave', 105: 'erin' };

    async function pr(pull: number, shaIdx: number, hoursAgo: number, plan: Partial<Record<keyof typeof PRESUBMITS, string>>, traced?: keyof typeof PRESUBMITS) {
      const head = shas[pull]![shaIdx]!;
      for (const [key, pattern] of Object.entries(plan) as Array<[keyof typeof PRESUBMITS, string]>) {
        const def = PRESUBMITS[key];
        const letters = pattern.split(' ') as Letter[];
        for (let i = 0; i < letters.length; i++) {
          const l = letters[i]!;
          const nm = name();
          const isTraced = traced === key && i === 0;
          const pj = prowJob({
            name: nm, job: def.job, type: 'presubmit', state: STATE[l], start: now - hoursAgo * HOUR + i * 50 * 60_000, minutes: 30 + i * 3,
            context: def.context, ...('optional' in def ? { optional: def.optional } : { optional: false }),
            pull: { number: pull, author: authors[pull]!, sha: head }, traced: isTraced, retest: i > 0,
            ...(isTraced ? { bucket: `file://${bucketDir}` } : {}),
          });
          await record(store, pj);
          names.set(`${pull}:${def.job}:${i + 1}`, nm);
          if (isTraced) tracedPjs.push(pj);
        }
      }
    }
    const tracedPjs: ProwJob[] = [];

    await pr(101, 0, 26, { nerdctl: 'F', cri: 'P', commit: 'P', tdx: 'P', docs: 'P' });
    await pr(101, 1, 8, { nerdctl: 'P', cri: 'F P', commit: 'P', tdx: 'F F', docs: 'P' });
    await pr(102, 0, 5, { nerdctl: 'P', cri: 'F F P', commit: 'P', tdx: 'R', docs: 'P' });
    await pr(103, 0, 3, { nerdctl: 'P', cri: 'P', commit: 'P', tdx: 'P', docs: 'P' }, 'nerdctl');
    await pr(104, 0, 1.5, { nerdctl: 'F P', cri: 'A P', commit: 'F', docs: 'P' }, 'cri');
    await pr(105, 0, 0.2, { nerdctl: 'R', cri: 'R', commit: 'P' });

    // The behavior diff: main's traced run of the nerdctl job is the baseline; PR 103's traced run is diffed.
    const [pr103, pr104] = tracedPjs;
    const baseline = prowJob({
      name: name(), job: PRESUBMITS.nerdctl.job, type: 'postsubmit', state: 'success', start: now - 30 * HOUR, minutes: 28,
      baseSha: pr103!.spec.refs!.base_sha!, traced: true, bucket: `file://${bucketDir}`,
    });
    await record(store, baseline);
    upload(bucketDir, baseline, trace([]));
    upload(bucketDir, pr103!, trace(HEAD_EXTRA()));
    const audited = uploadAudit(bucketDir, baseline, false) && uploadAudit(bucketDir, pr103!, true);
    const deps = { store: kv, artifacts: (url: string) => openArtifactStore(url), reportUrl: (id: string) => `/dashboard/behavior/${id}` };
    const b = await onTracedJobFinished(deps, baseline);
    if (b.kind !== 'baseline') throw new Error(`scenario: baseline run was ${JSON.stringify(b)}`);
    const r = await onTracedJobFinished(deps, pr103!);
    if (r.kind !== 'report') throw new Error(`scenario: traced PR run gave ${JSON.stringify(r).slice(0, 300)}`);

    return {
      now,
      shas,
      traced: { prowjob: pr103!.metadata.name, pull: 103, job: PRESUBMITS.nerdctl.job },
      tracedWaiting: pr104!.metadata.name,
      apiUsage: audited ? { base: baseline.metadata.name, head: pr103!.metadata.name } : undefined,
      names,
    };
  } finally {
    redis.disconnect();
  }
}

/** A complete katabot (reporter off) serving the dashboard, built into a temporary directory, its store seeded. */
export interface ScenarioBot {
  h: Harness;
  s: Scenario;
  dir: string;
  close(): Promise<void>;
}

export async function startScenarioBot(name: string, web: { sourcemap?: boolean } = {}): Promise<ScenarioBot> {
  const dir = mkdtempSync(join(tmpdir(), `katabot-${name}-`));
  const built = await buildWeb(join(dir, 'web'), web);
  const h = await startHarness({
    env: { KATABOT_REPORTER: 'false', KATABOT_REQUIRED_TESTS: writeRequiredTests(dir), KATABOT_MAINTAINERS: MAINTAINERS_SAMPLE, KATABOT_DASHBOARD_ASSETS: built.outDir },
  });
  const s = await seedScenario(h.redis.url, h.redis.prefix, join(dir, 'bucket'));
  return {
    h, s, dir,
    async close() {
      await h.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
