// Injecting katabot's guest tracer into Kata pods (`katabot inject`, docs/tracing-kata-and-runc.md): the decision,
// the sidecar, the JSON patch a mutating admission webhook answers with, and the same change applied to workload
// YAML before genpolicy generates a confidential pod's policy from it. Pure: objects in, objects out.
//
// The tracer is appended to `initContainers` as a native sidecar (`restartPolicy: Always`): it starts before the
// pod's containers, Job pods still complete, and `containers[]` is untouched, so Kata's tests keep `kubectl exec`-ing
// into `containers[0]` and reading `containerStatuses[0]`. It has no resources: Kata sizes the VM from them.
import type { V1Container, V1Pod, V1PodSpec } from '@kubernetes/client-node';

export const GUEST_TRACER_CONTAINER = 'katabot-guest-tracer';
/** The pod's annotation saying what `katabot inject` did: `injected`, or `not traced: <reason>`. */
export const GUEST_TRACER_ANNOTATION = 'katabot.dev/guest-tracer';
export const INJECTED = 'injected';
/** The tracer writes this once it is done starting (traced or not); its startup probe waits for it. */
export const GUEST_READY_FILE = '/run/katabot/ready';
/** The port the node collector listens on for guest streams (on the node's address). */
export const DEFAULT_COLLECTOR_PORT = 7701;
/** How long the pod's containers wait for the tracer at most: the probe passes after this even without it. */
const GUEST_READY_WAIT_SECONDS = 60;

export interface GuestInjectionPolicy {
  /** The tracer image: katabot and bpftrace (Dockerfile target `tracer`). */
  image: string;
  /** Kata runtime classes whose pods get the tracer. */
  runtimeClasses: readonly string[];
  /** Kata runtime classes of confidential guests (TDX, SNP, SE): never traced, annotated as such. */
  confidentialClasses: readonly string[];
  /** Namespaces whose pods are considered; empty: every namespace. */
  namespaces: readonly string[];
  collectorPort: number;
}

/** kata-deploy's runtime classes (`kata-<shim>`, tools/packaging/kata-deploy/helm-chart values.yaml `shims`). */
export const DEFAULT_GUEST_INJECTION: GuestInjectionPolicy = {
  image: 'ghcr.io/kata-containers/katabot-tracer:latest',
  runtimeClasses: [
    'kata', 'kata-qemu', 'kata-qemu-runtime-rs', 'kata-clh', 'kata-clh-runtime-rs', 'kata-clh-azure', 'kata-clh-azure-runtime-rs',
    'kata-fc', 'kata-dragonball', 'kata-qemu-coco-dev', 'kata-qemu-coco-dev-runtime-rs', 'kata-qemu-nvidia-cpu',
    'kata-qemu-nvidia-cpu-runtime-rs', 'kata-qemu-nvidia-gpu', 'kata-qemu-nvidia-gpu-runtime-rs',
  ],
  confidentialClasses: [
    'kata-qemu-tdx', 'kata-qemu-tdx-runtime-rs', 'kata-qemu-snp', 'kata-qemu-snp-runtime-rs', 'kata-qemu-se', 'kata-qemu-se-runtime-rs',
    'kata-qemu-nvidia-gpu-tdx', 'kata-qemu-nvidia-gpu-tdx-runtime-rs', 'kata-qemu-nvidia-gpu-snp', 'kata-qemu-nvidia-gpu-snp-runtime-rs',
  ],
  // Kata's own tests (tests/integration/kubernetes/tests_common.sh) run in this namespace
  namespaces: ['kata-containers-k8s-tests'],
  collectorPort: DEFAULT_COLLECTOR_PORT,
};

export type InjectionDecision =
  | { action: 'inject'; runtimeClass: string }
  /** a confidential guest: only the annotation, so the node's trace says why this pod's guest is missing */
  | { action: 'annotate'; reason: string }
  | { action: 'skip'; why: string };

type PodLike = Pick<V1Pod, 'metadata' | 'spec'>;

/** What to do with a pod being created in `namespace` (the request's namespace: a pod may not carry one yet). */
export function decideInjection(pod: PodLike, namespace: string | undefined, policy: GuestInjectionPolicy): InjectionDecision {
  const spec = pod.spec;
  if (!spec) return { action: 'skip', why: 'no pod spec' };
  const rc = spec.runtimeClassName;
  if (!rc) return { action: 'skip', why: 'no runtimeClassName' };
  const ns = namespace ?? pod.metadata?.namespace;
  if (policy.namespaces.length > 0 && !(ns !== undefined && policy.namespaces.includes(ns))) return { action: 'skip', why: `namespace ${ns ?? '(none)'} is not traced` };
  if (hasTracer(spec)) return { action: 'skip', why: 'already has the guest tracer' };
  if (pod.metadata?.annotations?.[GUEST_TRACER_ANNOTATION] !== undefined) return { action: 'skip', why: 'already decided' };
  if (policy.confidentialClasses.includes(rc)) return { action: 'annotate', reason: 'confidential' };
  if (!policy.runtimeClasses.includes(rc)) return { action: 'skip', why: `runtime class ${rc} is not a traced Kata class` };
  if (spec.hostNetwork || spec.hostPID) return { action: 'annotate', reason: 'host namespaces' };
  return { action: 'inject', runtimeClass: rc };
}

function hasTracer(spec: V1PodSpec): boolean {
  return [...(spec.initContainers ?? []), ...spec.containers].some((c) => c.name === GUEST_TRACER_CONTAINER);
}

/** The sidecar. The downward API gives it the pod's identity and the node's address, where the collector listens. */
function guestTracerContainer(policy: GuestInjectionPolicy): V1Container {
  return {
    name: GUEST_TRACER_CONTAINER,
    image: policy.image,
    command: ['katabot', 'guest'],
    // native sidecar: started before the containers, stopped after them, never holds a Job pod open
    restartPolicy: 'Always',
    env: [
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      { name: 'POD_UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } },
      { name: 'KATABOT_COLLECTOR_HOST', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
      { name: 'KATABOT_COLLECTOR_PORT', value: String(policy.collectorPort) },
    ],
    // The containers start once this passes: the tracer is attached (or has given up), or a minute went by.
    startupProbe: {
      exec: { command: ['/bin/sh', '-c', `test -e ${GUEST_READY_FILE} || test $(($(date +%s) - $(stat -c %Y /proc/1))) -ge ${GUEST_READY_WAIT_SECONDS}`] },
      periodSeconds: 1,
      failureThreshold: GUEST_READY_WAIT_SECONDS + 30,
    },
    // Privileged inside the guest VM only: BPF programs and tracefs of the guest kernel, the guest's cgroup tree.
    securityContext: { privileged: true, runAsUser: 0 },
    // No resources: Kata sizes the VM from the containers' limits, and the tracer must not change the VM under test.
  };
}

interface JsonPatchOp {
  op: 'add' | 'replace';
  path: string;
  value: unknown;
}

/** RFC 6901: `~` and `/` in a key. */
function pointerToken(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function annotationOps(pod: PodLike, value: string): JsonPatchOp[] {
  if (!pod.metadata) return [{ op: 'add', path: '/metadata', value: { annotations: { [GUEST_TRACER_ANNOTATION]: value } } }];
  if (!pod.metadata.annotations) return [{ op: 'add', path: '/metadata/annotations', value: { [GUEST_TRACER_ANNOTATION]: value } }];
  return [{ op: 'add', path: `/metadata/annotations/${pointerToken(GUEST_TRACER_ANNOTATION)}`, value }];
}

/** The JSON patch (RFC 6902) for a pod being created, and the decision behind it (an empty patch when skipped). */
function injectionPatch(pod: PodLike, namespace: string | undefined, policy: GuestInjectionPolicy): { decision: InjectionDecision; patch: JsonPatchOp[] } {
  const decision = decideInjection(pod, namespace, policy);
  if (decision.action === 'skip') return { decision, patch: [] };
  if (decision.action === 'annotate') return { decision, patch: annotationOps(pod, `not traced: ${decision.reason}`) };
  const tracer = guestTracerContainer(policy);
  const patch: JsonPatchOp[] = pod.spec!.initContainers && pod.spec!.initContainers.length > 0
    ? [{ op: 'add', path: '/spec/initContainers/-', value: tracer }]
    : [{ op: 'add', path: '/spec/initContainers', value: [tracer] }];
  patch.push(...annotationOps(pod, INJECTED));
  return { decision, patch };
}

/** The reason an annotation gives for a guest that is not traced, or undefined. */
export function annotationReason(value: string | undefined): string | undefined {
  const m = /^not traced: (.+)$/.exec(value ?? '');
  return m ? m[1] : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// AdmissionReview (admission.k8s.io/v1)

export interface AdmissionReview {
  apiVersion: string;
  kind: 'AdmissionReview';
  request?: {
    uid: string;
    kind?: { group: string; version: string; kind: string };
    operation?: string;
    namespace?: string;
    object?: unknown;
    dryRun?: boolean;
  };
  response?: {
    uid: string;
    allowed: boolean;
    patchType?: 'JSONPatch';
    patch?: string;
    warnings?: string[];
    status?: { message?: string };
  };
}

/** The webhook's answer. It always allows: a tracer that cannot be added must never block a test's pod. */
export function reviewResponse(review: AdmissionReview, policy: GuestInjectionPolicy): { review: AdmissionReview; decision: InjectionDecision } {
  const req = review.request;
  const answer = (decision: InjectionDecision, patch: JsonPatchOp[] = []): { review: AdmissionReview; decision: InjectionDecision } => {
    const response: NonNullable<AdmissionReview['response']> = { uid: req?.uid ?? '', allowed: true };
    if (patch.length > 0) {
      response.patchType = 'JSONPatch';
      response.patch = Buffer.from(JSON.stringify(patch), 'utf8').toString('base64');
    }
    return { review: { apiVersion: review.apiVersion || 'admission.k8s.io/v1', kind: 'AdmissionReview', response }, decision };
  };
  if (!req) return answer({ action: 'skip', why: 'no request' });
  if (req.kind && !(req.kind.group === '' && req.kind.kind === 'Pod')) return answer({ action: 'skip', why: `not a pod (${req.kind.kind})` });
  if (req.operation !== undefined && req.operation !== 'CREATE') return answer({ action: 'skip', why: `operation ${req.operation}` });
  const pod = req.object as PodLike | undefined;
  if (!pod || typeof pod !== 'object' || !pod.spec || !Array.isArray(pod.spec.containers)) return answer({ action: 'skip', why: 'no pod in the request' });
  const { decision, patch } = injectionPatch(pod, req.namespace, policy);
  return answer(decision, patch);
}

// ---------------------------------------------------------------------------------------------------------------
// Workload YAML (the genpolicy wrapper)

/** Where a workload kind keeps its pod template (metadata and spec). */
function podTemplate(doc: Record<string, any>): { metadata?: Record<string, any>; spec?: V1PodSpec } | undefined {
  switch (doc['kind']) {
    case 'Pod': return doc as { metadata?: Record<string, any>; spec?: V1PodSpec };
    case 'Deployment': case 'ReplicaSet': case 'StatefulSet': case 'DaemonSet': case 'Job': case 'ReplicationController':
      return doc['spec']?.['template'];
    case 'CronJob': return doc['spec']?.['jobTemplate']?.['spec']?.['template'];
    default: return undefined;
  }
}

/**
 * Adds the tracer to a workload document (Pod, Deployment, Job, CronJob, …) the way the webhook would to its pods,
 * for genpolicy: a confidential pod's policy only admits containers that were in the YAML it was generated from.
 * The namespace is not checked (the document may not name one; the wrapper is only used where Kata's tests run).
 * Returns the decision; an injected or annotated document is changed in place.
 */
export function injectIntoWorkload(doc: unknown, policy: GuestInjectionPolicy): InjectionDecision {
  if (!doc || typeof doc !== 'object') return { action: 'skip', why: 'not an object' };
  const template = podTemplate(doc as Record<string, any>);
  if (!template?.spec || !Array.isArray(template.spec.containers)) return { action: 'skip', why: 'no pod template' };
  const decision = decideInjection({ metadata: template.metadata as V1Pod['metadata'], spec: template.spec }, undefined, { ...policy, namespaces: [] });
  if (decision.action === 'skip') return decision;
  template.metadata ??= {};
  template.metadata['annotations'] = { ...template.metadata['annotations'], [GUEST_TRACER_ANNOTATION]: decision.action === 'inject' ? INJECTED : `not traced: ${decision.reason}` };
  if (decision.action === 'inject') template.spec.initContainers = [...(template.spec.initContainers ?? []), guestTracerContainer(policy)];
  return decision;
}
