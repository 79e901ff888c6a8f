// Least-privilege rules learned from behaviour: what each workload of one or more runs needed (network peers and
// ports, DNS names, executables, files, protocols, system calls), read off their profiles. The formats
// (networkpolicy.ts, cilium.ts, kubearmor.ts, seccomp.ts) render these rules; changes.ts compares two sets. Pure.
// Several profiles widen the rules: the set holds for every run given (the head and its base runs).
import { workloadOfScope } from '../peers.ts';
import type { BehaviorProfile, FileItem, NetworkItem } from '../profile.ts';
import { EPHEMERAL_PORT_MIN } from '../profile-rules.ts';
import { x86_64SyscallName } from './syscalls-x86_64.ts';

/** Linux's default ip_local_port_range ends here: an `<ephemeral>` port becomes this range. */
const EPHEMERAL_PORT_MAX = 60999;

type PeerKind = 'workload' | 'service' | 'fqdn' | 'cidr' | 'world';

export interface Peer {
  kind: PeerKind;
  /** workload, service: `namespace/name`; fqdn: the DNS name; cidr: the block; world: `0.0.0.0/0`. */
  id: string;
}

export interface PortRule {
  proto: 'TCP' | 'UDP';
  port: number;
  /** A range: ephemeral ports (`<ephemeral>` in the profile). */
  endPort?: number;
}

export interface NetRule {
  peer: Peer;
  ports: PortRule[];
  /** Connections behind the rule (profile counts). */
  count: number;
}

export interface FileRule {
  /** A file (`/etc/hosts`) or, with `dir`, a directory ending in `/` (`/usr/lib/`), recursively unless `recursive` is false. */
  path: string;
  dir: boolean;
  readOnly: boolean;
  /** false: the directory itself (opening `/`), not what is below it. */
  recursive?: false;
}

export interface WorkloadPolicy {
  /** `namespace/workload`, as in profile scopes. */
  id: string;
  namespace: string;
  name: string;
  /** Pod labels the policies select on; `selectorGuessed` when the trace had none. */
  labels: Record<string, string>;
  selectorGuessed: boolean;
  containers: string[];
  egress: NetRule[];
  ingress: NetRule[];
  /** DNS names looked up (normalised; `<n>` placeholders may remain). */
  dns: string[];
  executables: string[];
  files: FileRule[];
  /** Paths a policy cannot name (relative paths): listed in comments. */
  unnamedPaths: string[];
  /** `tcp`, `udp`. */
  protocols: string[];
  /** System call names, from a syscall probe (custom items with a `syscall` or `nr` identity field). */
  syscalls: string[];
  /** Numbers the x86_64 table does not know. */
  unknownSyscalls: number[];
}

export interface PolicySet {
  /** What the rules were learned from: one line per trace (and the labels the caller gave). */
  runs: string[];
  workloads: WorkloadPolicy[];
}

export interface LearnOptions {
  /** Workload of a command-mode trace (no pods): namespace and name (default `default/job`). */
  namespace?: string;
  name?: string;
  /** Extra lines naming the runs (e.g. the files given on the command line). */
  runs?: string[];
}

const K8S_SERVICE_RE = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc(\.cluster\.local)?$/;

/** Labels that differ between pods of one workload (or between revisions): never selected on. */
const VOLATILE_LABELS = new Set([
  'pod-template-hash', 'controller-revision-hash', 'statefulset.kubernetes.io/pod-name', 'apps.kubernetes.io/pod-index',
  'batch.kubernetes.io/controller-uid', 'controller-uid', 'pod-template-generation',
]);
/** Identity labels: when a pod has any of them, the selector uses only those. */
const IDENTITY_LABELS = ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/component', 'app', 'k8s-app', 'name', 'component'];

/** The labels a policy selects a workload's pods by: its identity labels, else all stable ones. */
export function selectorLabels(labels: Record<string, string>): Record<string, string> {
  const stable = Object.entries(labels).filter(([k]) => !VOLATILE_LABELS.has(k));
  const identity = stable.filter(([k]) => IDENTITY_LABELS.includes(k));
  return Object.fromEntries((identity.length > 0 ? identity : stable).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function peerKey(p: Peer): string {
  return `${p.kind}:${p.id}`;
}

export function portText(p: PortRule): string {
  return `${p.proto}/${p.port}${p.endPort !== undefined ? `-${p.endPort}` : ''}`;
}

function portOf(proto: string, port: string): PortRule | undefined {
  const P = proto.toLowerCase() === 'udp' ? 'UDP' : 'TCP';
  if (port === '<ephemeral>') return { proto: P, port: EPHEMERAL_PORT_MIN, endPort: EPHEMERAL_PORT_MAX };
  const n = Number(port);
  return Number.isInteger(n) && n > 0 && n < 65536 ? { proto: P, port: n } : undefined;
}

function splitWorkload(id: string, o: LearnOptions): { namespace: string; name: string } {
  if (id === '') return { namespace: o.namespace ?? 'default', name: o.name ?? 'job' };
  const i = id.indexOf('/');
  return i < 0 ? { namespace: o.namespace ?? 'default', name: id } : { namespace: id.slice(0, i), name: id.slice(i + 1) };
}

/** The peer of a network item, or undefined for loopback and unknown addresses (no policy governs them). */
function peersOf(it: NetworkItem): Peer[] {
  if (it.peers && it.peers.length > 0) return it.peers.map((id) => ({ kind: 'workload', id }));
  switch (it.peerClass) {
    case 'name': {
      const svc = K8S_SERVICE_RE.exec(it.peer);
      return [svc ? { kind: 'service', id: `${svc[3]}/${svc[1]}` } : { kind: 'fqdn', id: it.peer }];
    }
    case 'private': return [{ kind: 'cidr', id: it.peer }];
    case 'link-local': return [{ kind: 'cidr', id: it.peer.includes('/') ? it.peer : `${it.peer}/32` }];
    case 'public': return [{ kind: 'world', id: '0.0.0.0/0' }];
    default: return [];
  }
}

class Builder {
  readonly id: string;
  readonly labels: Record<string, string> = {};
  readonly containers = new Set<string>();
  readonly egress = new Map<string, NetRule>();
  readonly ingress = new Map<string, NetRule>();
  readonly dns = new Set<string>();
  readonly executables = new Set<string>();
  /** path (dirs end in `/`) → read only so far */
  readonly files = new Map<string, boolean>();
  readonly unnamedPaths = new Set<string>();
  readonly protocols = new Set<string>();
  readonly syscalls = new Set<string>();
  readonly unknownSyscalls = new Set<number>();
  hasLabels = false;

  constructor(id: string) {
    this.id = id;
  }

  net(rules: Map<string, NetRule>, peer: Peer, port: PortRule, count: number): void {
    const k = peerKey(peer);
    let r = rules.get(k);
    if (!r) { r = { peer, ports: [], count: 0 }; rules.set(k, r); }
    r.count += count;
    if (!r.ports.some((p) => portText(p) === portText(port))) r.ports.push(port);
  }

  file(f: FileItem): void {
    if (f.denied) return; // refused: the workload did without it
    if (f.access === 'exec') { this.executables.add(f.path); return; }
    const rule = fileRuleOf(f.path);
    if (!rule) { this.unnamedPaths.add(f.path); return; }
    const readOnly = f.access === 'read';
    this.files.set(rule.path, (this.files.get(rule.path) ?? true) && readOnly);
  }

  build(o: LearnOptions): WorkloadPolicy {
    const { namespace, name } = splitWorkload(this.id, o);
    const byPeer = (a: NetRule, b: NetRule): number => compare(peerKey(a.peer), peerKey(b.peer));
    const sortPorts = (r: NetRule): NetRule => ({ ...r, ports: [...r.ports].sort((a, b) => compare(a.proto, b.proto) || a.port - b.port) });
    const files: FileRule[] = [...this.files].map(([path, readOnly]) => ({ path, dir: path.endsWith('/'), readOnly, ...(path === '/' ? { recursive: false as const } : {}) }));
    // a file under a recursive directory rule that allows at least as much adds nothing
    const dirs = files.filter((f) => f.dir && f.recursive !== false);
    const kept = files.filter((f) => f.dir || !dirs.some((d) => f.path.startsWith(d.path) && (!d.readOnly || f.readOnly)));
    return {
      id: this.id || `${namespace}/${name}`,
      namespace,
      name,
      labels: this.hasLabels ? selectorLabels(this.labels) : { 'app.kubernetes.io/name': name },
      selectorGuessed: !this.hasLabels,
      containers: [...this.containers].sort(),
      egress: [...this.egress.values()].map(sortPorts).sort(byPeer),
      ingress: [...this.ingress.values()].map(sortPorts).sort(byPeer),
      dns: [...this.dns].sort(),
      executables: [...this.executables].sort(),
      files: kept.sort((a, b) => compare(a.path, b.path)),
      unnamedPaths: [...this.unnamedPaths].sort(),
      protocols: [...this.protocols].sort(),
      syscalls: [...this.syscalls].sort(),
      unknownSyscalls: [...this.unknownSyscalls].sort((a, b) => a - b),
    };
  }
}

/**
 * The rule for a normalised profile path: `dir/**` is the directory, recursively; a path with a placeholder
 * (`/tmp/tmp.<tmp>/x`, `/proc/<pid>/stat`) widens to the directory above its first placeholder, because the real
 * name differs from run to run. Relative paths cannot be named: undefined.
 */
export function fileRuleOf(path: string): { path: string; dir: boolean } | undefined {
  if (!path.startsWith('/')) return undefined;
  if (path === '/') return { path, dir: true }; // the root directory itself (its listing), see FileRule.recursive
  if (path.endsWith('/**')) return { path: `${path.slice(0, -3)}/`.replace(/^\/\/$/, '/'), dir: true };
  const segments = path.split('/');
  const i = segments.findIndex((s) => s.includes('<'));
  if (i < 0) return { path, dir: false };
  return { path: `${segments.slice(0, i).join('/')}/`, dir: true };
}

/** The `syscall` name or `nr` (x86_64) of a custom item's identity; undefined when it has neither. */
function syscallOf(identity: Record<string, string>): { name: string } | { nr: number } | undefined {
  if (identity['syscall']) return { name: identity['syscall'].replace(/^(tracepoint:)?syscalls:sys_enter_/, '') };
  const nr = identity['nr'];
  if (nr === undefined || !/^[0-9]+$/.test(nr)) return undefined;
  const name = x86_64SyscallName(Number(nr));
  return name ? { name } : { nr: Number(nr) };
}

/** A short description of each trace behind a profile. */
function describeRuns(p: BehaviorProfile): string[] {
  return p.traces.map((t) => `${t.source} ${t.mode} trace on ${t.host ?? 'an unknown host'} started ${t.start || '?'}`);
}

/** Learns the rules of every workload in the profiles (their union: a rule any run needed is kept). */
export function learnPolicies(profiles: readonly BehaviorProfile[], o: LearnOptions = {}): PolicySet {
  const builders = new Map<string, Builder>();
  const of = (scope: string | undefined): Builder => {
    const id = workloadOfScope(scope ?? '');
    let b = builders.get(id);
    if (!b) { b = new Builder(id); builders.set(id, b); }
    const container = scope?.includes(':') ? scope.slice(scope.lastIndexOf(':') + 1) : undefined;
    if (container) b.containers.add(container);
    return b;
  };
  for (const p of profiles) {
    for (const it of p.network) {
      const b = of(it.scope);
      if (it.direction === 'dns') {
        b.dns.add(it.peer);
        b.protocols.add(it.proto.toLowerCase());
        continue;
      }
      b.protocols.add(it.proto.toLowerCase());
      if (it.direction === 'listen') continue;
      const port = portOf(it.proto, it.port);
      if (!port) continue;
      for (const peer of peersOf(it)) b.net(it.direction === 'egress' ? b.egress : b.ingress, peer, port, it.count);
    }
    for (const it of p.processes) if (!it.error && it.exe !== '?') of(it.scope).executables.add(it.exe);
    for (const f of p.files) of(f.scope).file(f);
    for (const c of p.custom ?? []) {
      const s = syscallOf(c.identity);
      if (!s) continue;
      const b = of(c.scope);
      if ('name' in s) b.syscalls.add(s.name);
      else b.unknownSyscalls.add(s.nr);
    }
    for (const [id, labels] of Object.entries(p.labels ?? {})) {
      const b = builders.get(id) ?? of(id);
      Object.assign(b.labels, labels);
      b.hasLabels = true;
    }
  }
  const runs = [...(o.runs ?? []), ...profiles.flatMap(describeRuns)];
  const workloads = [...builders.values()].map((b) => b.build(o)).sort((a, b) => compare(a.id, b.id));
  // a service named like a traced workload of its namespace (the usual convention) is that workload
  const ids = new Set(workloads.map((w) => w.id));
  for (const w of workloads) {
    for (const r of w.egress) if (r.peer.kind === 'service' && ids.has(r.peer.id)) r.peer = { kind: 'workload', id: r.peer.id };
  }
  return { runs, workloads };
}

/** A workload's name as a Kubernetes object name: placeholders and other invalid characters become dashes. */
export function objectName(base: string, suffix: string): string {
  const clean = base.toLowerCase().replace(/[^a-z0-9.-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '') || 'workload';
  return `${clean.slice(0, 253 - suffix.length - 1)}-${suffix}`;
}

/** A namespace usable in metadata, or undefined when the profile's is a placeholder (`e2e-<rand>`). */
export function namespaceOf(w: WorkloadPolicy): string | undefined {
  return /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(w.namespace) && w.namespace.length <= 63 ? w.namespace : undefined;
}
