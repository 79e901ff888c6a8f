// Kubernetes mode: trace one or more pods, as a sidecar inside the pod or as an agent on the pod's node.
// Attribution: cgroup id → cgroup path (CgroupIndex) → pod UID and container id (src/trace/cgroup-path.ts) → pod and
// container names (from the API server when reachable).
import { bareContainerId, parseCgroupPath } from '../trace/cgroup-path.ts';
import type { Attribution } from '../trace/enrich.ts';
import type { TraceEvent, TraceTarget } from '../trace/format.ts';
import { SummaryBuilder, type TraceSummary } from '../trace/summary.ts';
import { CgroupIndex, cgroup2Dir } from './cgroup-fs.ts';
import { EbpfUnavailableError, PackageProgramError, TraceUsageError } from './errors.ts';
import { preflight, type Preflight } from './preflight.ts';
import { markFailed, markReady } from './ready-file.ts';
import { TraceSession, type SessionOptions, type SessionPackage, type SessionResult } from './session.ts';
import { waitForStop } from './stop.ts';

export interface PodInfo {
  namespace: string;
  name: string;
  uid: string;
  runtimeClassName?: string;
  /** container id (bare, without `containerd://`) → container name */
  containers: Map<string, string>;
  /** The pod's labels (policies select pods by them; the service graph groups by them). */
  labels?: Record<string, string>;
  /** The pod's annotations (katabot inject leaves its decision in one). */
  annotations?: Record<string, string>;
}

/** Where pod facts come from; the default asks the API server with @kubernetes/client-node. */
export interface PodSource {
  getPod(namespace: string, name: string): Promise<PodInfo>;
  listPods(namespace: string, labelSelector: string): Promise<PodInfo[]>;
}

interface PodLike {
  metadata?: { name?: string; namespace?: string; uid?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: { runtimeClassName?: string };
  status?: {
    containerStatuses?: Array<{ name: string; containerID?: string }>;
    initContainerStatuses?: Array<{ name: string; containerID?: string }>;
    ephemeralContainerStatuses?: Array<{ name: string; containerID?: string }>;
  };
}

export function podInfoFromObject(pod: PodLike): PodInfo {
  const containers = new Map<string, string>();
  const statuses = [
    ...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? []), ...(pod.status?.ephemeralContainerStatuses ?? []),
  ];
  for (const s of statuses) if (s.containerID) containers.set(bareContainerId(s.containerID), s.name);
  const info: PodInfo = {
    namespace: pod.metadata?.namespace ?? '',
    name: pod.metadata?.name ?? '',
    uid: pod.metadata?.uid ?? '',
    containers,
  };
  if (pod.spec?.runtimeClassName) info.runtimeClassName = pod.spec.runtimeClassName;
  if (pod.metadata?.labels && Object.keys(pod.metadata.labels).length > 0) info.labels = { ...pod.metadata.labels };
  if (pod.metadata?.annotations) info.annotations = pod.metadata.annotations;
  return info;
}

/** PodSource backed by the API server (the given kubeconfig, else KUBECONFIG / in-cluster service account). */
export async function kubernetesPodSource(kubeConfig?: import('@kubernetes/client-node').KubeConfig): Promise<PodSource> {
  const k8s = await import('@kubernetes/client-node');
  let kc = kubeConfig;
  if (!kc) {
    kc = new k8s.KubeConfig();
    kc.loadFromDefault();
  }
  const api = kc.makeApiClient(k8s.CoreV1Api);
  return {
    async getPod(namespace, name) {
      return podInfoFromObject(await api.readNamespacedPod({ name, namespace }));
    },
    async listPods(namespace, labelSelector) {
      const list = await api.listNamespacedPod({ namespace, labelSelector });
      return list.items.map((p) => podInfoFromObject(p));
    },
  };
}

export interface TracePodsOptions {
  out: string;
  /** Trace the pod this process runs in (the sidecar), scoped in the kernel to the tracer's parent cgroup. */
  sidecar?: boolean;
  pod?: string;
  namespace?: string;
  selector?: string;
  /** Stop once all of these files exist (Prow's entrypoint marker files of the test containers). */
  untilFiles?: string[];
  /** Created when the probes are attached; `<file>.failed` holds the reason when tracing cannot start. */
  readyFile?: string;
  durationMs?: number;
  /** cgroup2 root used to map ids to paths (a sidecar can mount the host's at e.g. /host/sys/fs/cgroup). */
  cgroupRoot?: string;
  runtime?: 'kata' | 'runc';
  pods?: PodSource;
  signal?: AbortSignal;
  log?: (line: string) => void;
  onEvent?: (event: TraceEvent) => void;
  onReady?: () => void;
  /** Trace the whole node (a node-wide package instance), not pods. */
  node?: boolean;
  /** The pod's UID, known to the caller: its cgroups are found without asking the API server. */
  podUid?: string;
  /** Trace with these built-in packages only (exec, files, tcp, dns) instead of all of katabot's probes. */
  builtins?: readonly string[];
  /** Custom packages to run next to the tracer, in the same scope. */
  packages?: readonly SessionPackage[];
  /** Hand events to the output this often (a trace read while it grows, such as a pod's log). */
  flushEveryMs?: number;
  /** A custom package that does not start is left out instead of failing the trace (a traced job's sidecar). */
  optionalPackages?: boolean;
  /** Preflight already done by the caller. */
  preflight?: Preflight;
  /** Count repeated opens and connects in the kernel (default), or print every one (false). */
  aggregate?: boolean;
}

export interface TracePodsResult extends SessionResult {
  summary: TraceSummary;
  pods: PodInfo[];
}

/** Finds the pod-level cgroups (kubepods…pod<uid>) of the given pod UIDs. */
function findPodCgroups(index: CgroupIndex, uids: Set<string>): Map<string, bigint> {
  index.scan();
  const found = new Map<string, bigint>();
  for (const [id, path] of index.entries()) {
    const a = parseCgroupPath(path);
    if (a?.kind === 'pod' && a.podUid && uids.has(a.podUid) && !found.has(a.podUid)) found.set(a.podUid, BigInt(id));
  }
  return found;
}

/** The preflight a long-running trace needs; when eBPF is unavailable, the reason goes to `<readyFile>.failed`. */
export async function preflightOrMarkFailed(opts: { preflight?: Preflight | undefined; readyFile?: string | undefined }): Promise<Preflight> {
  try {
    return opts.preflight ?? await preflight();
  } catch (err) {
    if (err instanceof EbpfUnavailableError) markFailed(opts.readyFile, err.message);
    throw err;
  }
}

export async function tracePods(opts: TracePodsOptions): Promise<TracePodsResult> {
  const log = opts.log ?? (() => {});
  const pre = await preflightOrMarkFailed(opts);
  const index = new CgroupIndex(opts.cgroupRoot !== undefined ? cgroup2Dir(opts.cgroupRoot) : pre.cgroupRoot);
  let pods: PodInfo[] = [];
  let source: PodSource | undefined = opts.pods;
  const getSource = async (): Promise<PodSource> => (source ??= await kubernetesPodSource());

  if (opts.node) {
    // node-wide: no pods to resolve
  } else if (opts.podUid) {
    pods = [{ namespace: opts.namespace ?? 'default', name: opts.pod ?? opts.podUid, uid: opts.podUid, containers: new Map() }];
  } else if (opts.sidecar) {
    const name = opts.pod ?? process.env['POD_NAME'];
    const namespace = opts.namespace ?? process.env['POD_NAMESPACE'];
    if (name && namespace) {
      try {
        pods = [await (await getSource()).getPod(namespace, name)];
      } catch (err) {
        // Test pods often run without API access: the trace is then attributed by cgroup path and env only.
        log(`pod ${namespace}/${name} not readable from the API server (${(err as Error).message.split('\n')[0]}); container names stay unresolved`);
        pods = [{ namespace, name, uid: '', containers: new Map() }];
      }
    }
  } else {
    const namespace = opts.namespace ?? 'default';
    if (!opts.pod && !opts.selector) throw new TraceUsageError('give --pod NAME, -l SELECTOR or --sidecar');
    try {
      const src = await getSource();
      pods = opts.pod ? [await src.getPod(namespace, opts.pod)] : await src.listPods(namespace, opts.selector!);
    } catch (err) {
      const what = opts.pod ? `pod ${namespace}/${opts.pod}` : `pods ${opts.selector} in ${namespace}`;
      throw new TraceUsageError(`cannot read ${what} from the API server: ${(err as Error).message.split('\n')[0]}`, 1);
    }
    if (pods.length === 0) throw new TraceUsageError(`no pod in ${namespace} matches ${opts.selector}`);
  }

  let targets: bigint[] = [];
  if (!opts.sidecar && !opts.node) {
    const found = findPodCgroups(index, new Set(pods.map((p) => p.uid)));
    const missing = pods.filter((p) => !found.has(p.uid));
    if (found.size === 0) {
      throw new TraceUsageError(`no cgroup of ${pods.map((p) => `${p.namespace}/${p.name}`).join(', ')} under ${index.root}: run the tracer on the pod's node (or pass --cgroup-root)`);
    }
    for (const p of missing) log(`pod ${p.namespace}/${p.name} has no cgroup on this node; not traced`);
    targets = [...found.values()];
  }

  const byUid = new Map(pods.filter((p) => p.uid).map((p) => [p.uid, p]));
  const ownPod = opts.sidecar ? pods[0] : undefined;
  const cache = new Map<string, Attribution>();
  const attribute = (id: string): Attribution | undefined => {
    const known = cache.get(id);
    if (known) return known;
    const path = index.lookup(id);
    const who: Attribution = {};
    const a = path === undefined ? undefined : parseCgroupPath(path);
    who.cgroup = path ?? `id:${id}`;
    const pod = (a?.podUid ? byUid.get(a.podUid) : undefined) ?? ownPod;
    if (a?.containerId) {
      const name = pod?.containers.get(a.containerId);
      who.container = name ?? a.containerId;
      who.container_id = a.containerId;
    }
    if (pod) {
      who.pod = pod.name;
      who.namespace = pod.namespace;
    }
    if (path !== undefined) cache.set(id, who); // unresolved ids are retried after the next rescan
    return who;
  };

  const target: TraceTarget = {
    mode: 'pod',
    ...(opts.node ? { cgroup: '/' } : {}),
    pods: pods.map((p) => ({ namespace: p.namespace, name: p.name, ...(p.uid ? { uid: p.uid } : {}), ...(p.labels ? { labels: p.labels } : {}) })),
  };
  if (opts.selector) target.selector = opts.selector;
  if (opts.namespace) target.namespace = opts.namespace;
  const runtime = opts.runtime ?? (process.env['KATABOT_TRACE_RUNTIME'] === 'kata' ? 'kata' : process.env['KATABOT_TRACE_RUNTIME'] === 'runc' ? 'runc' : undefined);
  if (runtime) target.runtime = runtime;

  const summary = new SummaryBuilder();
  let session: TraceSession;
  try {
    session = await TraceSession.start({
      preflight: pre,
      scope: opts.node ? { kind: 'all' as const } : opts.sidecar ? { kind: 'own-pod' as const } : { kind: 'cgroups' as const, targets },
      target,
      out: opts.out,
      attribute,
      onEvent: (e: TraceEvent) => {
        summary.add(e);
        opts.onEvent?.(e);
      },
      onBegin: (b: { selflevel: number }) => {
        if (opts.sidecar && b.selflevel <= 1) {
          log('the tracer runs in a top-level cgroup: its parent is the whole machine, not a pod');
        }
      },
      log,
      builtins: opts.builtins,
      packages: opts.packages,
      flushEveryMs: opts.flushEveryMs,
      optionalPackages: opts.optionalPackages,
      aggregate: opts.aggregate,
    } satisfies SessionOptions);
  } catch (err) {
    if (err instanceof EbpfUnavailableError || err instanceof PackageProgramError) markFailed(opts.readyFile, err.message);
    throw err;
  }
  // a trace read while it grows (a pod log) starts with its header as soon as the probes are in
  if (opts.flushEveryMs !== undefined) session.flush();
  markReady(opts.readyFile);
  opts.onReady?.();

  await waitForStop(session, { ...opts, log });
  const result = await session.stop(null);
  return { ...result, summary: summary.build(result.footer), pods };
}
