// cgroup path attribution: cgroup v2 path → pod UID, container id and runtime.
// Shapes (see docs/tracing-kata-and-runc.md):
//   systemd driver:  /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid_>.slice/cri-containerd-<id>.scope
//                    guaranteed pods skip the QoS slice: /kubepods.slice/kubepods-pod<uid_>.slice/crio-<id>.scope
//   cgroupfs driver: /kubepods/besteffort/pod<uid>/<id>        guaranteed: /kubepods/pod<uid>/<id>
//   kind (nested):   /system.slice/docker-<node>.scope/kubelet.slice/kubelet-kubepods.slice/...-pod<uid_>.slice/cri-containerd-<id>.scope
//   Kata on the host: .../pod<uid>/kata_<sandbox-id> (SandboxCgroupOnly) and /kata_overhead/<sandbox-id> (legacy)
//   Podman pods:     cgroupfs /libpod_parent/<pod-id>/libpod-<id>     systemd /machine.slice/machine-libpod_pod_<pod-id>.slice/libpod-<id>.scope
//   Kata in the guest: the host's OCI cgroupsPath, which the kata-agent (as init, cgroupfs manager) turns from the
//                    systemd form `slice:prefix:id` into a path: /kubepods-besteffort-pod<uid_>.slice/cri-containerd/<id>;
//                    with systemd in the guest, the systemd layout above; with the cgroupfs driver, the same path.

type ContainerRuntime = 'containerd' | 'cri-o' | 'docker' | 'kata' | 'podman' | 'unknown';
type CgroupDriver = 'systemd' | 'cgroupfs';
type QosClass = 'guaranteed' | 'burstable' | 'besteffort';

export interface CgroupAttribution {
  /** pod: the pod's own cgroup; container: a container; conmon: CRI-O's monitor; kata-sandbox: the Kata shim and
   * VMM inside the pod cgroup; kata-overhead: the Kata VMM outside it; docker: a plain Docker container. */
  kind: 'pod' | 'container' | 'conmon' | 'kata-sandbox' | 'kata-overhead' | 'docker';
  driver?: CgroupDriver;
  qos?: QosClass;
  /** Pod UID with dashes, as in `metadata.uid` (a Podman pod: its id). */
  podUid?: string;
  /** Container id (or Kata sandbox id) as the runtime reports it, without `containerd://`. */
  containerId?: string;
  runtime?: ContainerRuntime;
  /** Path above the kubepods hierarchy when Kubernetes itself runs in a container (kind). */
  nestedUnder?: string;
  /** Cgroups a container created below its own (systemd inside a container). */
  subpath?: string;
}

const UUID_RE = /^([0-9a-f]{8})[-_]([0-9a-f]{4})[-_]([0-9a-f]{4})[-_]([0-9a-f]{4})[-_]([0-9a-f]{12})$/;
const STATIC_POD_UID_RE = /^[0-9a-f]{32}$/; // static pods use a hash of the manifest
const CONTAINER_ID = '[0-9a-f]{12,64}';

function podUidFromSegment(segment: string): { uid: string; systemd: boolean } | undefined {
  // systemd: kubepods-<qos>-pod<uid_>.slice or kubepods-pod<uid_>.slice (also kubelet-kubepods-... in kind)
  // cgroupfs: pod<uid>
  const m = /^(?:[a-z-]*kubepods-(?:(?:besteffort|burstable)-)?)?pod([0-9a-f_-]+?)(\.slice)?$/.exec(segment);
  if (!m) return undefined;
  const raw = m[1]!;
  const systemd = m[2] === '.slice';
  if (systemd && !segment.includes('kubepods')) return undefined;
  const uuid = UUID_RE.exec(raw);
  if (uuid) return { uid: uuid.slice(1).join('-'), systemd };
  if (STATIC_POD_UID_RE.test(raw)) return { uid: raw, systemd };
  return undefined;
}

function parseContainerSegment(segment: string): Pick<CgroupAttribution, 'kind' | 'containerId' | 'runtime'> | undefined {
  const rules: Array<[RegExp, CgroupAttribution['kind'], ContainerRuntime]> = [
    [new RegExp(`^cri-containerd-(${CONTAINER_ID})\\.scope$`), 'container', 'containerd'],
    [new RegExp(`^crio-conmon-(${CONTAINER_ID})\\.scope$`), 'conmon', 'cri-o'],
    [new RegExp(`^crio-(${CONTAINER_ID})(?:\\.scope)?$`), 'container', 'cri-o'],
    [new RegExp(`^docker-(${CONTAINER_ID})\\.scope$`), 'container', 'docker'],
    [new RegExp(`^kata[_-](${CONTAINER_ID})(?:\\.scope)?$`), 'kata-sandbox', 'kata'],
    [new RegExp(`^(${CONTAINER_ID})$`), 'container', 'unknown'],
  ];
  for (const [re, kind, runtime] of rules) {
    const m = re.exec(segment);
    if (m) return { kind, containerId: m[1]!, runtime };
  }
  return undefined;
}

/** The prefix part of a systemd cgroupsPath (`slice:prefix:name`), by runtime. */
const RUNTIME_PREFIXES: Readonly<Record<string, ContainerRuntime>> = { 'cri-containerd': 'containerd', crio: 'cri-o', docker: 'docker' };

function qosFromSegments(segments: string[]): QosClass {
  for (const s of segments) {
    if (s === 'besteffort' || s.endsWith('kubepods-besteffort.slice') || s.startsWith('kubepods-besteffort-pod')) return 'besteffort';
    if (s === 'burstable' || s.endsWith('kubepods-burstable.slice') || s.startsWith('kubepods-burstable-pod')) return 'burstable';
  }
  return 'guaranteed';
}

/** Attributes a cgroup v2 path (as in /proc/PID/cgroup or under the cgroup2 mount) to a pod and container. */
export function parseCgroupPath(path: string): CgroupAttribution | undefined {
  const segments = path.split('/').filter((s) => s !== '');
  const podIndex = segments.findIndex((s) => podUidFromSegment(s) !== undefined);
  if (podIndex >= 0) {
    const pod = podUidFromSegment(segments[podIndex]!)!;
    const kubepodsIndex = segments.findIndex((s) => s === 'kubepods' || s === 'kubepods.slice' || s.endsWith('-kubepods.slice'));
    const base: CgroupAttribution = {
      kind: 'pod',
      driver: pod.systemd ? 'systemd' : 'cgroupfs',
      qos: qosFromSegments(segments.slice(0, podIndex + 1)),
      podUid: pod.uid,
    };
    // kind's kubelet.slice / kubelet/ sits between the node container and kubepods; keep everything above kubepods.
    let nestedEnd = kubepodsIndex > 0 ? kubepodsIndex : 0;
    if (nestedEnd > 0 && (segments[nestedEnd - 1] === 'kubelet.slice' || segments[nestedEnd - 1] === 'kubelet')) nestedEnd--;
    if (nestedEnd > 0) base.nestedUnder = '/' + segments.slice(0, nestedEnd).join('/');
    const containerSegment = segments[podIndex + 1];
    if (containerSegment === undefined) return base;
    let container = parseContainerSegment(containerSegment);
    let consumed = 1;
    // a Kata guest: the systemd cgroupsPath `slice:cri-containerd:<id>` with its colons turned into slashes
    const prefixed = RUNTIME_PREFIXES[containerSegment];
    const next = segments[podIndex + 2];
    if (prefixed && next !== undefined && new RegExp(`^${CONTAINER_ID}$`).test(next)) {
      container = { kind: 'container', containerId: next, runtime: prefixed };
      consumed = 2;
    }
    if (!container) return { ...base, subpath: '/' + segments.slice(podIndex + 1).join('/') };
    const out: CgroupAttribution = { ...base, ...container };
    const rest = segments.slice(podIndex + 1 + consumed);
    if (rest.length > 0) out.subpath = '/' + rest.join('/');
    return out;
  }
  // Kata legacy mode: the VMM and its threads run in /kata_overhead/<sandbox-id>, outside any pod cgroup.
  const overhead = segments.indexOf('kata_overhead');
  if (overhead >= 0 && segments[overhead + 1] && new RegExp(`^${CONTAINER_ID}$`).test(segments[overhead + 1]!)) {
    return { kind: 'kata-overhead', containerId: segments[overhead + 1]!, runtime: 'kata' };
  }
  const podman = parsePodmanPath(segments);
  if (podman) return podman;
  // Plain Docker, outside Kubernetes: /system.slice/docker-<id>.scope or /docker/<id>.
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    const scope = new RegExp(`^docker-(${CONTAINER_ID})\\.scope$`).exec(s);
    const cgroupfs = s === 'docker' && segments[i + 1] && new RegExp(`^${CONTAINER_ID}$`).test(segments[i + 1]!);
    if (scope || cgroupfs) {
      const id = scope ? scope[1]! : segments[i + 1]!;
      const rest = segments.slice(scope ? i + 1 : i + 2);
      const out: CgroupAttribution = { kind: 'docker', containerId: id, runtime: 'docker', driver: scope ? 'systemd' : 'cgroupfs' };
      if (rest.length > 0) out.subpath = '/' + rest.join('/');
      return out;
    }
  }
  return undefined;
}

const POD_ID = '[0-9a-f]{64}';

/** Podman: pods are the pod level (their id as UID), libpod-<id> their containers, libpod-conmon-<id> the monitors. */
function parsePodmanPath(segments: string[]): CgroupAttribution | undefined {
  const podRe = new RegExp(`^(?:machine-libpod_pod_)?(${POD_ID})(?:\\.slice)?$`);
  const pod = segments.findIndex((s, i) => (s.startsWith('machine-libpod_pod_') || segments[i - 1] === 'libpod_parent') && podRe.test(s));
  const ctrRe = new RegExp(`^libpod-(conmon-)?(${CONTAINER_ID})(?:\\.scope)?$`);
  const ctr = segments.findIndex((s, i) => i > pod && ctrRe.test(s));
  if (pod < 0 && ctr < 0) return undefined;
  const out: CgroupAttribution = { kind: 'pod', driver: segments.some((s) => s.endsWith('.slice')) ? 'systemd' : 'cgroupfs', runtime: 'podman' };
  if (pod >= 0) out.podUid = podRe.exec(segments[pod]!)![1]!;
  if (ctr < 0) {
    if (segments.length > pod + 1) out.subpath = '/' + segments.slice(pod + 1).join('/');
    return out;
  }
  const m = ctrRe.exec(segments[ctr]!)!;
  out.kind = m[1] ? 'conmon' : 'container';
  out.containerId = m[2]!;
  if (segments.length > ctr + 1) out.subpath = '/' + segments.slice(ctr + 1).join('/');
  return out;
}

/** Strips the runtime scheme from a Kubernetes containerID (`containerd://abc` → `abc`). */
export function bareContainerId(id: string): string {
  const i = id.indexOf('://');
  return i >= 0 ? id.slice(i + 3) : id;
}

/** The cgroup v2 path from /proc/PID/cgroup text (the `0::` line), or undefined on a v1-only system. */
export function parseProcCgroup(text: string): string | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('0::')) return line.slice(3).trim();
  }
  return undefined;
}

export interface MountInfoEntry {
  mountPoint: string;
  root: string;
  fsType: string;
  source: string;
}

function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Parses /proc/PID/mountinfo. */
export function parseMountInfo(text: string): MountInfoEntry[] {
  const out: MountInfoEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const l = left.split(' ');
    const r = right.split(' ');
    if (l.length < 5 || r.length < 2) continue;
    out.push({ root: unescapeMountField(l[3]!), mountPoint: unescapeMountField(l[4]!), fsType: r[0]!, source: r[1]! });
  }
  return out;
}

/** The cgroup2 mount point: `/sys/fs/cgroup` on unified hosts, `/sys/fs/cgroup/unified` on hybrid ones. */
export function findCgroup2Mount(entries: MountInfoEntry[]): string | undefined {
  const mounts = entries.filter((e) => e.fsType === 'cgroup2');
  // Prefer a mount that shows the whole hierarchy over one that shows a subtree.
  const full = mounts.find((e) => e.root === '/');
  return (full ?? mounts[0])?.mountPoint;
}
