// Traced ProwJobs: the job's ProwJob with katabot's tracer injected as a second container of the test pod.
// Prow decorates every container of pod_spec (entrypoint wrapper, ARTIFACTS=/logs/artifacts, a marker file per
// container) and its sidecar uploads /logs/artifacts only after all of them exit, so the tracer writes
// $ARTIFACTS/katabot/trace.jsonl and stops when the test containers' marker files appear.
// Runtime matters (docs/tracing-kata-and-runc.md): host eBPF cannot see inside a Kata VM, so for Kata the tracer
// runs in the pod, sharing the guest kernel; for runc it shares the host PID namespace and filters by the pod's
// cgroup in the kernel.
import type { TracePolicy } from '../config/types.ts';
import type { V1Container, V1PodSpec, V1Volume } from '@kubernetes/client-node';
import { PACKAGES_ENV, bundlePackages, packageId, type BpfPackage } from '../bpf/package.ts';
import { shouldDecorate } from './prowjob.ts';
import { LABELS, type ProwJob } from './types.ts';
import { type JobBase, type ProwConfig } from '../config/prow-types.ts';

export const TRACER_CONTAINER = 'katabot-tracer';
export const TRACE_VOLUME = 'katabot-trace';
/** Shared between the tracer and the test containers: the tracer's ready file lives here. */
const TRACE_SHARED_DIR = '/var/run/katabot';
export const TRACE_READY_FILE = `${TRACE_SHARED_DIR}/ready`;
/** The trace inside the job's artifacts; Prow's decoration sets ARTIFACTS=/logs/artifacts. */
const TRACE_ARTIFACT = 'katabot/trace.jsonl';
export const TRACE_RUNTIME_ANNOTATION = 'katabot.dev/trace-runtime';
/** Prow's log mount in decorated containers; entrypoint writes `<container>-marker.txt` there on exit. */
const PROW_LOG_DIR = '/logs';
/** How long a test container waits for the tracer before it starts anyway. */
const READY_WAIT_SECONDS = 60;
/** The tracer image's scripts and manifests for tracing the Kata pods of a cluster the job builds
 * (scripts/kata-trace.sh, deploy/kata-trace), copied where the test containers see them. */
export const KATA_TRACE_DIR = `${TRACE_SHARED_DIR}/kata`;
export const KATA_TRACE_SCRIPT = `${KATA_TRACE_DIR}/scripts/kata-trace.sh`;
/** The test containers' variable naming that script: a job that builds a Kata cluster calls it when it is set. */
const KATA_TRACE_ENV = 'KATABOT_KATA_TRACE';
const KATA_TRACE_INIT = 'katabot-kata-trace';

type TraceRuntime = 'kata' | 'runc';

function traceRuntime(spec: V1PodSpec, policy: TracePolicy): TraceRuntime {
  return spec.runtimeClassName !== undefined && policy.kata_runtime_classes.includes(spec.runtimeClassName) ? 'kata' : 'runc';
}

/** Shell prefix for a test container: wait (bounded) until the tracer is attached, then exec the real command. */
export const WAIT_FOR_TRACER_SCRIPT =
  `i=0; while [ ! -e ${TRACE_READY_FILE} ] && [ ! -e ${TRACE_READY_FILE}.failed ] && [ "$i" -lt ${READY_WAIT_SECONDS * 5} ]; `
  + 'do sleep 0.2; i=$((i+1)); done; exec "$@"';

/** What the tracer traces with: `/trace --probe dns,tcp,syscount`. */
export interface TraceProbes {
  /** Package references (built-in names, custom `name[@version]`); absent or empty: all of katabot's probes. */
  probes?: readonly string[];
  /** The custom packages among `probes`, with their program and metadata (the handler reads them from the base
   * branch's .katabot/probes); they reach the sidecar in the KATABOT_BPF_PACKAGES variable. */
  packages?: readonly BpfPackage[];
}

/** Custom packages travel in the pod spec; a pod object must stay far below etcd's 1.5 MiB. */
const MAX_PACKAGES_BYTES = 256 * 1024;

function tracerContainer(policy: TracePolicy, runtime: TraceRuntime, markerFiles: string[], probes: TraceProbes): V1Container {
  const args = ['trace', '--sidecar', '--out', `$ARTIFACTS/${TRACE_ARTIFACT}`, '--ready-file', TRACE_READY_FILE];
  if (probes.probes && probes.probes.length > 0) args.push('--probe', probes.probes.join(','));
  if (markerFiles.length > 0) args.push('--until-file', ...markerFiles);
  if (runtime === 'runc') args.push('--cgroup-root', '/host/sys/fs/cgroup');
  const mounts: V1Container['volumeMounts'] = [{ name: TRACE_VOLUME, mountPath: TRACE_SHARED_DIR }];
  // Kata: hostPath volumes would come from the host through virtio-fs, not from the guest the tracer sees.
  if (runtime === 'runc') mounts.push({ name: `${TRACE_VOLUME}-cgroup`, mountPath: '/host/sys/fs/cgroup', readOnly: true });
  return {
    name: TRACER_CONTAINER,
    image: policy.image,
    // Prow's decoration refuses containers without a command.
    command: ['katabot'],
    args,
    env: [
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      { name: 'KATABOT_TRACE_RUNTIME', value: runtime },
      ...(probes.packages && probes.packages.length > 0 ? [{ name: PACKAGES_ENV, value: bundlePackages(probes.packages) }] : []),
    ],
    // Privileged: loading BPF programs and mounting tracefs. For Kata this is privileged inside the guest VM only.
    securityContext: { privileged: true, runAsUser: 0 },
    resources: { requests: { cpu: '100m', memory: '128Mi' } },
    volumeMounts: mounts,
  };
}

/** Copies the tracer image's Kata tracing scripts and manifests into the shared volume before the job starts. */
function kataTraceInit(policy: TracePolicy): V1Container {
  return {
    name: KATA_TRACE_INIT,
    image: policy.image,
    command: ['/bin/sh', '-c', `mkdir -p ${KATA_TRACE_DIR} && cp -r /app/scripts /app/deploy ${KATA_TRACE_DIR}/`],
    volumeMounts: [{ name: TRACE_VOLUME, mountPath: TRACE_SHARED_DIR }],
  };
}

function withWaitForTracer(c: V1Container, env: V1Container['env'] = []): V1Container {
  const mounts = [...(c.volumeMounts ?? []), { name: TRACE_VOLUME, mountPath: TRACE_SHARED_DIR, readOnly: true }];
  if (env.length > 0) c = { ...c, env: [...(c.env ?? []).filter((e) => !env.some((x) => x.name === e.name)), ...env] };
  if (!c.command || c.command.length === 0) {
    // Without a command the image's entrypoint runs and cannot be wrapped; Prow rejects such containers anyway.
    return { ...c, volumeMounts: mounts };
  }
  const { args, ...rest } = c;
  return { ...rest, command: ['/bin/sh', '-c', WAIT_FOR_TRACER_SCRIPT, 'katabot-wait-for-tracer', ...c.command, ...(args ?? [])], volumeMounts: mounts };
}

/**
 * Why a presubmit cannot carry the tracer, or undefined when it can: it needs a pod spec (a Kubernetes job) and
 * Prow's decoration (which uploads $ARTIFACTS, and so the trace). injectTracer refuses the same jobs.
 */
export function traceProblem(job: Pick<JobBase, 'spec' | 'decorate'>, prow: ProwConfig): string | undefined {
  if (!job.spec) return 'it has no pod spec: only jobs Prow runs on Kubernetes can be traced';
  if (!shouldDecorate(job, prow)) return `it is not decorated (\`decorate: true\`), so nothing would upload the trace ($ARTIFACTS/${TRACE_ARTIFACT})`;
  return undefined;
}

/**
 * Returns a new ProwJob whose pod runs katabot's tracer next to the test containers. Throws when the job cannot
 * be traced: no pod_spec (not a Kubernetes job) or no decoration (nothing would upload the trace).
 */
export function injectTracer(pj: ProwJob, policy: TracePolicy, probes: TraceProbes = {}): ProwJob {
  const spec = pj.spec.pod_spec;
  if (!spec) throw new Error(`job ${pj.spec.job} has no pod_spec: only Kubernetes jobs can be traced`);
  if (!pj.spec.decoration_config) {
    throw new Error(`job ${pj.spec.job} is not decorated: Prow would not upload $ARTIFACTS/${TRACE_ARTIFACT}`);
  }
  const names = new Set((probes.probes ?? []).map((p) => p.split('@')[0]));
  for (const p of probes.packages ?? []) {
    if (!names.has(p.meta.name)) throw new Error(`package ${packageId(p.meta)} is given but not among the probes ${[...names].join(',')}`);
  }
  if (probes.packages && bundlePackages(probes.packages).length > MAX_PACKAGES_BYTES) {
    throw new Error(`the custom packages are larger than ${MAX_PACKAGES_BYTES / 1024} KiB: too big to pass in the pod spec`);
  }
  const out: ProwJob = structuredClone(pj);
  const pod = out.spec.pod_spec!;
  out.metadata.labels = { ...out.metadata.labels, [LABELS.trace]: 'true' };
  if (pod.containers.some((c) => c.name === TRACER_CONTAINER)) return out; // already traced

  const runtime = traceRuntime(pod, policy);
  out.metadata.annotations = { ...out.metadata.annotations, [TRACE_RUNTIME_ANNOTATION]: runtime };
  // A runc job pod may build a cluster with Kata in it: scripts/kata-trace.sh traces its Kata pods (the job calls
  // it when KATABOT_KATA_TRACE is set; docs/tracing-kata-and-runc.md "The traced job").
  const kataEnv: V1Container['env'] = runtime === 'runc'
    ? [{ name: KATA_TRACE_ENV, value: KATA_TRACE_SCRIPT }, { name: 'KATABOT_IMAGE', value: policy.image }] : [];
  // With more than one container, Prow names marker files after containers, so every container needs a name.
  const testContainers = pod.containers.map((c, i) => withWaitForTracer({ ...c, name: c.name || (i === 0 ? 'test' : `test-${i}`) }, kataEnv));
  if (runtime === 'runc') pod.initContainers = [...(pod.initContainers ?? []).filter((c) => c.name !== KATA_TRACE_INIT), kataTraceInit(policy)];
  const markers = testContainers.map((c) => `${PROW_LOG_DIR}/${c.name}-marker.txt`);
  pod.containers = [...testContainers, tracerContainer(policy, runtime, markers, probes)];

  const volumes: V1Volume[] = [...(pod.volumes ?? []).filter((v) => v.name !== TRACE_VOLUME), { name: TRACE_VOLUME, emptyDir: {} }];
  if (runtime === 'kata') {
    // The tracer sees the test processes through the guest kernel; a shared PID namespace lets it read their /proc.
    pod.shareProcessNamespace = true;
  } else {
    // runc/kind: one kernel for the whole node. Host PIDs and the host's cgroup tree let the tracer resolve the
    // pod's cgroups; the kernel-side filter keeps only this pod's processes.
    pod.hostPID = true;
    volumes.push({ name: `${TRACE_VOLUME}-cgroup`, hostPath: { path: '/sys/fs/cgroup', type: 'Directory' } });
  }
  pod.volumes = volumes;
  return out;
}
