// Package instances on a cluster, as Kubernetes objects: a ConfigMap with the program and a Job (one node, or a
// pod's node) or a DaemonSet (several or all nodes) whose pod runs `katabot bpf agent` privileged, with hostPID.
// Pure: builds and reads objects; src/adapters/bpf-cluster.ts talks to the API server.
//
// Stopping: deleting the pod makes the kubelet send SIGTERM to the container's entrypoint, `katabot bpf agent`,
// which forwards SIGINT to bpftrace; bpftrace runs END and prints its maps, the agent writes them as events and
// the trace's footer to stdout (the pod log) and exits — within terminationGracePeriodSeconds.
import type { V1ConfigMap, V1Container, V1DaemonSet, V1Job, V1ObjectMeta, V1Pod, V1PodSpec, V1PodTemplateSpec } from '@kubernetes/client-node';
import { PACKAGE_FILE, PROGRAM_FILE, packageId, stringifyPackageMeta, type BpfPackage, type PackageMeta, type ParamValue } from './package.ts';

export const PACKAGE_LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  component: 'app.kubernetes.io/component',
  instance: 'katabot.dev/bpf-instance',
  revision: 'katabot.dev/bpf-revision',
  package: 'katabot.dev/bpf-package',
  version: 'katabot.dev/bpf-version',
} as const;

export const PACKAGE_ANNOTATIONS = {
  /** name@version, exactly (labels cannot hold every semver). */
  ref: 'katabot.dev/bpf-package-ref',
  params: 'katabot.dev/bpf-params',
  target: 'katabot.dev/bpf-target',
  duration: 'katabot.dev/bpf-duration',
  origin: 'katabot.dev/bpf-origin',
} as const;

export const MANAGED_BY = 'katabot';
export const INSTANCE_COMPONENT = 'bpf-instance';
export const PACKAGE_COMPONENT = 'bpf-package';
export const AGENT_CONTAINER = 'bpftrace';
export const DEFAULT_TRACER_IMAGE = 'ghcr.io/kata-containers/katabot-tracer:latest';
/** Time bpftrace gets between SIGTERM and SIGKILL to print its maps. */
export const GRACE_SECONDS = 30;

/** Where things are inside the agent's container. */
export const AGENT_PATHS = {
  package: '/katabot/package',
  run: '/run/katabot-bpf',
  ready: '/run/katabot-bpf/ready',
  terminationLog: '/run/katabot-bpf/termination-log',
  hostCgroup: '/host/sys/fs/cgroup',
} as const;

/** ConfigMap keys of an instance. */
export const CONFIGMAP_KEYS = { meta: PACKAGE_FILE, program: PROGRAM_FILE, params: 'params.json', builtin: 'builtin' } as const;

export type InstanceTarget =
  | { kind: 'nodes'; nodes: string[] }
  | { kind: 'all-nodes' }
  | { kind: 'pod'; namespace: string; name: string; uid: string; node: string };

export interface InstanceSpec {
  id: string;
  revision: number;
  namespace: string;
  pkg: BpfPackage;
  params: Record<string, ParamValue>;
  target: InstanceTarget;
  durationSeconds?: number;
  image: string;
}

const PREFIX = 'katabot-bpf-';

/** `<package>-<suffix>`, short enough that `katabot-bpf-<id>-r<revision>` stays a DNS label (63). */
export function newInstanceId(pkgName: string, suffix: string): string {
  return `${pkgName.slice(0, 63 - PREFIX.length - suffix.length - 1 - 5).replace(/-+$/, '')}-${suffix}`;
}

export function instanceObjectName(id: string, revision: number): string {
  return `${PREFIX}${id}-r${revision}`;
}

export function targetText(t: InstanceTarget): string {
  switch (t.kind) {
    case 'nodes': return t.nodes.length === 1 ? `node/${t.nodes[0]}` : `nodes/${t.nodes.join(',')}`;
    case 'all-nodes': return 'all-nodes';
    case 'pod': return `pod/${t.namespace}/${t.name}`;
  }
}

/** Label values: [A-Za-z0-9._-], at most 63, alphanumeric at both ends (a semver's `+` becomes `_`). */
function labelValue(v: string): string {
  return v.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 63).replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '') || 'x';
}

function instanceLabels(s: InstanceSpec): Record<string, string> {
  return {
    [PACKAGE_LABELS.managedBy]: MANAGED_BY,
    [PACKAGE_LABELS.component]: INSTANCE_COMPONENT,
    [PACKAGE_LABELS.instance]: s.id,
    [PACKAGE_LABELS.revision]: String(s.revision),
    [PACKAGE_LABELS.package]: s.pkg.meta.name,
    [PACKAGE_LABELS.version]: labelValue(s.pkg.meta.version),
  };
}

function instanceAnnotations(s: InstanceSpec): Record<string, string> {
  return {
    [PACKAGE_ANNOTATIONS.ref]: packageId(s.pkg.meta),
    [PACKAGE_ANNOTATIONS.params]: JSON.stringify(s.params),
    [PACKAGE_ANNOTATIONS.target]: JSON.stringify(s.target),
    [PACKAGE_ANNOTATIONS.origin]: s.pkg.origin.kind === 'builtin' ? 'builtin' : s.pkg.origin.kind === 'cluster' ? `configmap/${s.pkg.origin.configMap}` : s.pkg.origin.path,
    ...(s.durationSeconds !== undefined ? { [PACKAGE_ANNOTATIONS.duration]: String(s.durationSeconds) } : {}),
  };
}

function meta(s: InstanceSpec): V1ObjectMeta {
  return { name: instanceObjectName(s.id, s.revision), namespace: s.namespace, labels: instanceLabels(s), annotations: instanceAnnotations(s) };
}

/** The program and its metadata and parameters, mounted into the agent at AGENT_PATHS.package. */
export function buildConfigMap(s: InstanceSpec): V1ConfigMap {
  const data: Record<string, string> = {
    [CONFIGMAP_KEYS.meta]: stringifyPackageMeta({ ...s.pkg.meta, program: CONFIGMAP_KEYS.program }),
    [CONFIGMAP_KEYS.params]: `${JSON.stringify(s.params)}\n`,
  };
  if (s.pkg.builtin) data[CONFIGMAP_KEYS.builtin] = s.pkg.meta.name;
  else data[CONFIGMAP_KEYS.program] = s.pkg.source;
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(s), data };
}

function agentContainer(s: InstanceSpec): V1Container {
  const args = ['bpf', 'agent', '--package', AGENT_PATHS.package, '--ready-file', AGENT_PATHS.ready,
    '--termination-log', AGENT_PATHS.terminationLog, '--cgroup-root', AGENT_PATHS.hostCgroup];
  if (s.target.kind === 'pod') args.push('--pod', s.target.name, '--namespace', s.target.namespace, '--pod-uid', s.target.uid);
  if (s.durationSeconds !== undefined) args.push('--duration', String(s.durationSeconds));
  return {
    name: AGENT_CONTAINER,
    image: s.image,
    command: ['katabot'],
    args,
    env: [
      { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
      { name: 'KATABOT_TRACE_RUNTIME', value: 'runc' },
    ],
    // loading BPF programs and mounting tracefs
    securityContext: { privileged: true, runAsUser: 0 },
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '1Gi' } },
    // the agent creates the file once bpftrace has attached every probe
    readinessProbe: { exec: { command: ['test', '-e', AGENT_PATHS.ready] }, periodSeconds: 1, failureThreshold: 1, successThreshold: 1 },
    // a failed compile or attach: the agent writes bpftrace's error there
    terminationMessagePath: AGENT_PATHS.terminationLog,
    terminationMessagePolicy: 'FallbackToLogsOnError',
    volumeMounts: [
      { name: 'package', mountPath: AGENT_PATHS.package, readOnly: true },
      { name: 'run', mountPath: AGENT_PATHS.run },
      { name: 'host-cgroup', mountPath: AGENT_PATHS.hostCgroup, readOnly: true },
      { name: 'debugfs', mountPath: '/sys/kernel/debug' },
      { name: 'modules', mountPath: '/lib/modules', readOnly: true },
    ],
  };
}

function podSpec(s: InstanceSpec, restartPolicy: 'Never' | 'Always'): V1PodSpec {
  const nodes = s.target.kind === 'nodes' ? s.target.nodes : s.target.kind === 'pod' ? [s.target.node] : [];
  const spec: V1PodSpec = {
    hostPID: true,
    restartPolicy,
    automountServiceAccountToken: false,
    terminationGracePeriodSeconds: GRACE_SECONDS,
    tolerations: [{ operator: 'Exists', effect: 'NoSchedule' }],
    containers: [agentContainer(s)],
    volumes: [
      { name: 'package', configMap: { name: instanceObjectName(s.id, s.revision) } },
      { name: 'run', emptyDir: {} },
      { name: 'host-cgroup', hostPath: { path: '/sys/fs/cgroup', type: 'Directory' } },
      { name: 'debugfs', hostPath: { path: '/sys/kernel/debug', type: 'Directory' } },
      { name: 'modules', hostPath: { path: '/lib/modules', type: 'Directory' } },
    ],
  };
  if (nodes.length > 0) {
    spec.affinity = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: nodes }] }],
        },
      },
    };
  }
  return spec;
}

function template(s: InstanceSpec, restartPolicy: 'Never' | 'Always'): V1PodTemplateSpec {
  return { metadata: { labels: instanceLabels(s), annotations: { [PACKAGE_ANNOTATIONS.ref]: packageId(s.pkg.meta) } }, spec: podSpec(s, restartPolicy) };
}

/** One pod on one node: a Job (a pod's node, or a single --node). */
function usesJob(t: InstanceTarget): boolean {
  return t.kind === 'pod' || (t.kind === 'nodes' && t.nodes.length === 1);
}

export type Workload = { kind: 'Job'; object: V1Job } | { kind: 'DaemonSet'; object: V1DaemonSet };

export function buildWorkload(s: InstanceSpec): Workload {
  if (usesJob(s.target)) {
    const job: V1Job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: meta(s),
      spec: {
        // a failed compile or attach is final: no retries, the CLI cleans up
        backoffLimit: 0,
        completions: 1,
        parallelism: 1,
        // keep a finished instance (its log is its trace) for an hour
        ttlSecondsAfterFinished: 3600,
        ...(s.durationSeconds !== undefined ? { activeDeadlineSeconds: s.durationSeconds + GRACE_SECONDS + 60 } : {}),
        template: template(s, 'Never'),
      },
    };
    return { kind: 'Job', object: job };
  }
  const selector = { [PACKAGE_LABELS.instance]: s.id, [PACKAGE_LABELS.revision]: String(s.revision) };
  const ds: V1DaemonSet = {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: meta(s),
    spec: { selector: { matchLabels: selector }, updateStrategy: { type: 'RollingUpdate' }, template: template(s, 'Always') },
  };
  return { kind: 'DaemonSet', object: ds };
}

// ---------------------------------------------------------------------------------------------------------------
// Reading state back

export type StartState =
  | { state: 'pending'; reason?: string }
  | { state: 'ready' }
  | { state: 'succeeded' }
  | { state: 'failed'; reason: string };

/** Container waiting reasons that will not get better by waiting. */
const HOPELESS = new Set(['CrashLoopBackOff', 'ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);

function terminatedReason(t: { exitCode: number; message?: string; reason?: string; signal?: number }): string {
  const msg = t.message?.trim();
  return msg ? msg : `exited with code ${t.exitCode}${t.reason ? ` (${t.reason})` : ''}`;
}

/** Whether an agent pod has started (bpftrace attached), is still starting, or failed, and why. */
export function podStartState(pod: V1Pod): StartState {
  const status = pod.status;
  const cs = (status?.containerStatuses ?? []).find((c) => c.name === AGENT_CONTAINER);
  const term = cs?.state?.terminated;
  if (term && term.exitCode !== 0) return { state: 'failed', reason: terminatedReason(term) };
  const last = cs?.lastState?.terminated;
  if (last && last.exitCode !== 0) return { state: 'failed', reason: terminatedReason(last) };
  const waiting = cs?.state?.waiting;
  if (waiting?.reason && HOPELESS.has(waiting.reason)) return { state: 'failed', reason: `${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}` };
  if (status?.phase === 'Failed') return { state: 'failed', reason: status.message ?? status.reason ?? 'the pod failed' };
  if (status?.phase === 'Succeeded' || (term && term.exitCode === 0)) return { state: 'succeeded' };
  if (cs?.ready || status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) return { state: 'ready' };
  const unschedulable = status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (unschedulable) return { state: 'pending', reason: `not scheduled: ${unschedulable.message ?? unschedulable.reason ?? 'unschedulable'}` };
  if (waiting?.reason) return { state: 'pending', reason: `${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}` };
  return { state: 'pending', ...(status?.phase ? { reason: status.phase } : {}) };
}

/** Pods needed for a started instance; undefined while the DaemonSet controller has not counted its nodes. */
function expectedPods(w: Workload): number | undefined {
  if (w.kind === 'Job') return 1;
  const st = w.object.status;
  if (!st || (w.object.metadata?.generation !== undefined && (st.observedGeneration ?? 0) < w.object.metadata.generation)) return undefined;
  return st.desiredNumberScheduled;
}

export type InstanceStart = { done: false; reason?: string } | { done: true; ok: true } | { done: true; ok: false; reason: string; pod?: string };

/** The start of one revision, from its pods (and the DaemonSet's count of nodes). */
export function instanceStart(w: Workload, pods: readonly V1Pod[]): InstanceStart {
  const live = pods.filter((p) => !p.metadata?.deletionTimestamp);
  const states = live.map((p) => ({ pod: p.metadata?.name ?? '?', s: podStartState(p) }));
  const failed = states.find((x) => x.s.state === 'failed');
  if (failed && failed.s.state === 'failed') return { done: true, ok: false, reason: failed.s.reason, pod: failed.pod };
  const expected = expectedPods(w);
  if (w.kind === 'DaemonSet' && expected === 0) return { done: true, ok: false, reason: 'no node matches: the DaemonSet schedules no pod' };
  const started = states.filter((x) => x.s.state === 'ready' || x.s.state === 'succeeded').length;
  if (expected !== undefined && expected > 0 && started >= expected) return { done: true, ok: true };
  const pending = states.find((x) => x.s.state === 'pending');
  const reason = pending && pending.s.state === 'pending' && pending.s.reason ? `${pending.pod}: ${pending.s.reason}` : undefined;
  return { done: false, ...(reason ? { reason } : {}) };
}

export interface InstanceRow {
  id: string;
  revision: number;
  package: string;
  version: string;
  target: string;
  nodes: string[];
  created: string;
  state: string;
  workload: { kind: 'Job' | 'DaemonSet'; name: string } | undefined;
  pods: string[];
}

function parseJson<T>(text: string | undefined): T | undefined {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

export function instanceTarget(m: V1ObjectMeta | undefined): InstanceTarget | undefined {
  return parseJson<InstanceTarget>(m?.annotations?.[PACKAGE_ANNOTATIONS.target]);
}

export function instanceParams(m: V1ObjectMeta | undefined): Record<string, ParamValue> {
  return parseJson<Record<string, ParamValue>>(m?.annotations?.[PACKAGE_ANNOTATIONS.params]) ?? {};
}

function refOf(m: V1ObjectMeta | undefined): { name: string; version: string } {
  const ref = m?.annotations?.[PACKAGE_ANNOTATIONS.ref] ?? '';
  const at = ref.lastIndexOf('@');
  return at > 0 ? { name: ref.slice(0, at), version: ref.slice(at + 1) } : { name: m?.labels?.[PACKAGE_LABELS.package] ?? '?', version: m?.labels?.[PACKAGE_LABELS.version] ?? '?' };
}

/** `katabot bpf list`: one row per instance, for its newest revision that has a workload (or a ConfigMap). */
export function instanceRows(objects: { configMaps: readonly V1ConfigMap[]; jobs: readonly V1Job[]; daemonSets: readonly V1DaemonSet[]; pods: readonly V1Pod[] }): InstanceRow[] {
  type Entry = { revision: number; meta: V1ObjectMeta; workload?: Workload };
  const byInstance = new Map<string, Entry[]>();
  const add = (m: V1ObjectMeta | undefined, workload?: Workload): void => {
    const id = m?.labels?.[PACKAGE_LABELS.instance];
    if (!id || m?.labels?.[PACKAGE_LABELS.component] !== INSTANCE_COMPONENT) return;
    const revision = Number(m.labels?.[PACKAGE_LABELS.revision] ?? 0);
    const list = byInstance.get(id) ?? [];
    const existing = list.find((e) => e.revision === revision);
    if (existing) {
      if (workload) existing.workload = workload;
    } else {
      list.push({ revision, meta: m, ...(workload ? { workload } : {}) });
    }
    byInstance.set(id, list);
  };
  for (const j of objects.jobs) add(j.metadata, { kind: 'Job', object: j });
  for (const d of objects.daemonSets) add(d.metadata, { kind: 'DaemonSet', object: d });
  for (const c of objects.configMaps) add(c.metadata);
  const rows: InstanceRow[] = [];
  for (const [id, entries] of byInstance) {
    entries.sort((a, b) => b.revision - a.revision);
    const cur = entries.find((e) => e.workload) ?? entries[0]!;
    const pods = objects.pods.filter((p) => p.metadata?.labels?.[PACKAGE_LABELS.instance] === id && p.metadata?.labels?.[PACKAGE_LABELS.revision] === String(cur.revision));
    const target = instanceTarget(cur.meta);
    const ref = refOf(cur.meta);
    let state: string;
    if (!cur.workload) state = 'Orphaned';
    else if (cur.workload.object.metadata?.deletionTimestamp) state = 'Terminating';
    else {
      const start = instanceStart(cur.workload, pods);
      const succeeded = pods.length > 0 && pods.every((p) => podStartState(p).state === 'succeeded');
      if (succeeded) state = 'Completed';
      else if (start.done) state = start.ok ? 'Running' : 'Failed';
      else state = 'Starting';
      if (pods.some((p) => p.metadata?.deletionTimestamp)) state = 'Terminating';
    }
    rows.push({
      id,
      revision: cur.revision,
      package: ref.name,
      version: ref.version,
      target: target ? targetText(target) : '?',
      nodes: [...new Set(pods.map((p) => p.spec?.nodeName).filter((n): n is string => !!n))].sort(),
      created: cur.meta.creationTimestamp ? new Date(cur.meta.creationTimestamp as unknown as string).toISOString() : '',
      state,
      workload: cur.workload ? { kind: cur.workload.kind, name: cur.workload.object.metadata?.name ?? '' } : undefined,
      pods: pods.map((p) => p.metadata?.name ?? '').sort(),
    });
  }
  return rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** kubectl's age: 42s, 5m, 3h, 2d. */
export function age(from: string, now: number): string {
  const t = Date.parse(from);
  if (Number.isNaN(t)) return '?';
  const s = Math.max(0, Math.floor((now - t) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** A fixed-width table, as kubectl prints one. */
export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('   ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------------------------
// Packages stored in the cluster

/** `katabot-bpf-pkg-<name>-<version>` ConfigMaps hold packages: package.yaml and the program. */
export function packageConfigMapName(meta: Pick<PackageMeta, 'name' | 'version'>): string {
  return `katabot-bpf-pkg-${meta.name}-${meta.version.toLowerCase().replace(/[^a-z0-9-]/g, '-')}`.slice(0, 253).replace(/-+$/, '');
}

export function buildPackageConfigMap(pkg: BpfPackage, namespace: string): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: packageConfigMapName(pkg.meta),
      namespace,
      labels: {
        [PACKAGE_LABELS.managedBy]: MANAGED_BY,
        [PACKAGE_LABELS.component]: PACKAGE_COMPONENT,
        [PACKAGE_LABELS.package]: pkg.meta.name,
        [PACKAGE_LABELS.version]: labelValue(pkg.meta.version),
      },
      annotations: { [PACKAGE_ANNOTATIONS.ref]: packageId(pkg.meta) },
    },
    data: { [PACKAGE_FILE]: stringifyPackageMeta(pkg.meta), [pkg.meta.program]: pkg.source },
  };
}
