// Behavior profile: a trace reduced to what it did, keyed by normalised identities (never pids), built one event
// at a time so a trace of any length is never held in memory. See docs/diff-format.md.
import { customItemKey, identityIndex, identityOf, type CustomItem } from './custom-items.ts';
import { SkipCounter, type AuditSkips } from './audit-parse.ts';
import type { CustomTraceEvent, GuestSummary, TraceEvent, TraceFooter, TraceHeader } from './format.ts';
import { PeerIndex } from './peers.ts';
import {
  addressIdentity, defaultIgnores, isSecretPath, normalizeArgs, normalizeDnsName, normalizeExe, normalizePath,
  normalizePort, scopeOf, unmapIpv4, type AddressClass, type Category, type IgnoreRules,
} from './profile-rules.ts';

const PROFILE_FORMAT = 'katabot-profile';
export const PROFILE_VERSION = '1.0';

export type FileAccess = 'read' | 'write' | 'create' | 'exec';

interface ItemBase {
  /** Human-readable normalised identity; the diff compares these. */
  key: string;
  /** Events behind the item. Shown, not compared. */
  count: number;
  /** `namespace/workload:container` in pod mode. */
  scope?: string;
}

export interface ProcessItem extends ItemBase {
  parent: string;
  exe: string;
  /** Normalised argv[1..], joined. */
  args: string;
  /** errno name of a failed exec other than a PATH search miss. */
  error?: string;
}

export interface FileItem extends ItemBase {
  access: FileAccess;
  path: string;
  /** EACCES/EPERM: the access was attempted and refused. */
  denied?: boolean;
  /** Executables that made the access (at most MAX_BY). */
  by: string[];
}

type NetworkDirection = 'egress' | 'ingress' | 'listen' | 'dns';

export interface NetworkItem extends ItemBase {
  direction: NetworkDirection;
  proto: string;
  /** Destination (egress, dns), peer (ingress) or bound address (listen) identity. */
  peer: string;
  peerClass: AddressClass | 'name';
  /** Server port, `<ephemeral>`, or '' for dns. */
  port: string;
  by: string[];
  /** Egress and ingress: the traced workloads at the other end (`namespace/workload`), matched by address within
   * the run (src/trace/peers.ts). Shown in the service graph and policies, not compared by the diff. */
  peers?: string[];
}

export type ApiLevel = 'stable' | 'beta' | 'alpha';

export interface ApiSpecSource {
  source: 'job' | 'config' | 'none';
  /** The artifact or setting it came from. */
  name: string;
  /** The spec's info.version (a cluster's /openapi/v2 says its Kubernetes version). */
  version: string;
}

export interface ApiItem extends ItemBase {
  verb: string;
  /** `v1`, `apps/v1`, or the path for non-resource requests. */
  apiVersion: string;
  resource: string;
  operationId: string | null;
  level: ApiLevel | null;
  group: string;
  category: string;
  /** `/api`, `/apis`, `/version` and group/resource listings: counted, hidden from PR comments by default. */
  discovery: boolean;
  /** `user agent (service account or user)`, at most MAX_BY. */
  by: string[];
}

/** Format 1.1: custom events of eBPF packages folded by their identity fields (src/trace/custom-items.ts), e.g.
 * `syscount/syscalls comm=curl`. The count (events behind the item) is shown, not compared. */
export interface CustomProfileItem extends CustomItem {
  /** `namespace/workload:container` in pod mode (the event's cgroup attribution), as other items. */
  scope?: string;
}

export type AnyItem = ProcessItem | FileItem | NetworkItem | ApiItem | CustomProfileItem;

export interface ProfileSource {
  source: string;
  host: string | null;
  kernel: string | null;
  start: string;
  mode: string;
  lost: number;
  events: number;
  /** Format 1.2, a node collector's trace: the Kata guests, by pod (`ns/workload`), traced or not and why. */
  guests?: ProfileGuest[];
}

interface ProfileGuest {
  pod: string;
  status: GuestSummary['status'];
  reason?: string;
  /** false: the guest's stream ended without its footer. */
  complete?: boolean;
}

export interface BehaviorProfile {
  format: typeof PROFILE_FORMAT;
  version: string;
  /** One entry per trace merged into the profile. */
  traces: ProfileSource[];
  /** Lost events of all merged traces (footer lost.total; a trace cut short counts as 1 at least). */
  lostEvents: number;
  events: number;
  auditEvents: number;
  /** Audit log lines that were not audit events, by reason (absent when none). */
  auditSkipped?: AuditSkips;
  /** The OpenAPI spec the audit logs were read with: the job's own (`job`), KATABOT_OPENAPI (`config`) or none. */
  apiSpec?: ApiSpecSource;
  /** Normalised executables that listened or accepted: their shell children are risky. */
  servers: string[];
  processes: ProcessItem[];
  files: FileItem[];
  network: NetworkItem[];
  k8sApi: ApiItem[];
  /** Custom events (trace format 1.1); absent in profiles of traces without any, and in older saved profiles. */
  custom?: CustomProfileItem[];
  /** Pod labels per workload (`namespace/workload`), from the trace header's pods; absent when none were known. */
  labels?: Record<string, Record<string, string>>;
}

function emptyProfile(): BehaviorProfile {
  return {
    format: PROFILE_FORMAT, version: PROFILE_VERSION, traces: [], lostEvents: 0, events: 0, auditEvents: 0, servers: [],
    processes: [], files: [], network: [], k8sApi: [],
  };
}

function byKey<T extends { key: string }>(a: T, b: T): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

const MAX_BY = 5;
const MAX_TRACKED_PIDS = 65536;
const PATH_CACHE_MAX = 100_000;
/** DNS names queried by a process are tied to its next connects for this long. */
const DNS_WINDOW_NS = 30_000_000_000;
/** Beyond this many distinct children a directory is collapsed while profiling (memory bound). */
export const HARD_COLLAPSE_CHILDREN = 1000;
/** A PATH search miss (execvp trying each PATH entry) and a missing file are probes, not behaviour. */
const PROBE_ERRORS = new Set(['ENOENT', 'ENOTDIR', 'ELOOP', 'ENAMETOOLONG']);
const DENIED_ERRORS = new Set(['EACCES', 'EPERM']);

export const ROOT_PARENT = '(root)';

/** Which process a pid names: pids of a Kata guest (format 1.2, `kernel: guest`) are the guest's own, so a merged
 * trace keys them by their guest; the host's stay plain numbers. */
type ProcKey = number | string;

function procKey(e: TraceEvent, pid: number): ProcKey {
  return e.kernel === 'guest' ? `${e.sandbox ?? `${e.namespace ?? ''}/${e.pod ?? ''}`}:${pid}` : pid;
}

function addBy(by: string[], exe: string): void {
  if (by.length < MAX_BY && !by.includes(exe)) {
    by.push(exe);
    by.sort();
  }
}

function scoped(scope: string, key: string): string {
  return scope ? `[${scope}] ${key}` : key;
}

function fileKey(access: FileAccess, path: string, denied?: boolean, scope?: string): string {
  return scoped(scope ?? '', `${access} ${path}${denied ? ' (denied)' : ''}`);
}

function processKey(parent: string, exe: string, args: string, error?: string, scope?: string): string {
  return scoped(scope ?? '', `${parent} → ${exe}${args ? ` ${args}` : ''}${error ? ` (${error})` : ''}`);
}

function networkKey(i: Pick<NetworkItem, 'direction' | 'proto' | 'peer' | 'port' | 'scope'>): string {
  const peer = i.peer.includes(':') && !i.peer.startsWith('[') && /^[0-9a-f:]+$/i.test(i.peer) ? `[${i.peer}]` : i.peer;
  switch (i.direction) {
    case 'egress': return scoped(i.scope ?? '', `${i.proto} → ${peer}:${i.port}`);
    case 'ingress': return scoped(i.scope ?? '', `${i.proto} :${i.port} ← ${peer}`);
    case 'listen': return scoped(i.scope ?? '', `listen ${i.proto} ${peer}:${i.port}`);
    case 'dns': return scoped(i.scope ?? '', `dns ${peer}`);
  }
}

/** open flags → one access: exclusive creation is `create`, anything that can modify is `write`, else `read`. */
function accessOf(flags: readonly string[] | undefined): FileAccess {
  const f = flags ?? [];
  if (f.includes('tmpfile') || (f.includes('create') && f.includes('excl'))) return 'create';
  if (f.includes('write') || f.includes('create') || f.includes('truncate') || f.includes('append')) return 'write';
  return 'read';
}

interface DnsPending {
  names: string[];
  ts: number;
  consumed: boolean;
}

export interface ProfileOptions {
  ignore?: IgnoreRules;
}

/** Parent of a path (`/a/b` → `/a`; `a` → ''). */
function parentDir(path: string): string {
  const i = path.lastIndexOf('/');
  if (i < 0) return '';
  return i === 0 ? '/' : path.slice(0, i);
}

function isUnder(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir === '/' ? '/' : dir + '/');
}

/** Streaming builder: add() every event of one or more traces, then build(). */
export class ProfileBuilder {
  readonly #ignore: IgnoreRules;
  readonly #processes = new Map<string, ProcessItem>();
  readonly #files = new Map<string, FileItem>();
  readonly #network = new Map<string, NetworkItem>();
  readonly #api = new Map<string, ApiItem>();
  readonly #custom = new Map<string, CustomProfileItem>();
  /** Identity fields of the current trace's custom events, from its header's packages. */
  #identity = new Map<string, string[]>();
  readonly #servers = new Set<string>();
  readonly #exeByPid = new Map<ProcKey, string>();
  readonly #pathCache = new Map<string, string | null>();
  readonly #exeCache = new Map<string, string>();
  readonly #argsCache = new Map<string, string>();
  readonly #dnsCache = new Map<string, string>();
  /** File items by group (`access`, or `scope\0access`, `!` suffix when denied), then by path. */
  readonly #fileIdx = new Map<string, Map<string, FileItem>>();
  readonly #dnsByPid = new Map<ProcKey, DnsPending>();
  readonly #nameByIp = new Map<string, string>();
  /** Egress items keyed by an address block, with the addresses behind them: a name learned later re-keys them. */
  readonly #unnamed = new Map<string, Map<string, number>>();
  /** Children seen per `scope\0access\0dir`, to collapse very wide directories early. */
  readonly #children = new Map<string, Set<string>>();
  readonly #collapsed = new Map<string, string[]>();
  readonly #traces: ProfileSource[] = [];
  readonly #peers = new PeerIndex();
  readonly #labels = new Map<string, Record<string, string>>();
  #current: ProfileSource | undefined;
  #events = 0;
  #auditEvents = 0;
  readonly #auditSkips = new SkipCounter();
  #lost = 0;

  constructor(options: ProfileOptions = {}) {
    this.#ignore = options.ignore ?? defaultIgnores();
  }

  /** Starts a trace (several traces may be merged into one profile). */
  begin(header: TraceHeader): void {
    this.#current = {
      source: String(header.source ?? '?'), host: header.host ?? null, kernel: header.kernel ?? null, start: String(header.start ?? ''),
      mode: String(header.target?.mode ?? '?'),
      lost: 0, events: 0,
    };
    this.#traces.push(this.#current);
    this.#identity = identityIndex(header.packages);
    for (const pod of header.target?.pods ?? []) {
      if (pod.labels && Object.keys(pod.labels).length > 0) this.#labels.set(scopeOf({ pod: pod.name, namespace: pod.namespace }), { ...pod.labels });
    }
    this.#exeByPid.clear();
    this.#dnsByPid.clear();
  }

  /** Ends the current trace with its footer (a rebuilt footer, `incomplete: -1`, counts as one lost event). */
  end(footer: TraceFooter): void {
    const lost = Math.max(0, footer.lost.total) + (footer.lost.incomplete < 0 ? 1 : 0);
    if (this.#current) this.#current.lost = lost;
    if (this.#current && footer.guests && footer.guests.length > 0) {
      this.#current.guests = footer.guests.map((g) => {
        const out: ProfileGuest = { pod: scopeOf({ pod: g.pod, namespace: g.namespace }), status: g.status };
        if (g.reason !== undefined) out.reason = g.reason;
        if (g.complete === false) out.complete = false;
        return out;
      }).sort((a, b) => (a.pod < b.pod ? -1 : a.pod > b.pod ? 1 : 0));
    }
    this.#lost += lost;
  }

  add(e: TraceEvent): void {
    this.#events++;
    if (this.#current) this.#current.events++;
    const n = e.count ?? 1;
    switch (e.kind) {
      case 'exec': this.#exec(e, n); break;
      case 'exit':
        if (e.pid > 0) { this.#exeByPid.delete(procKey(e, e.pid)); this.#dnsByPid.delete(procKey(e, e.pid)); }
        break;
      case 'open': this.#open(e, n); break;
      case 'connect': this.#connect(e, n); break;
      case 'accept': this.#accept(e, n); break;
      case 'listen': this.#listen(e, n); break;
      case 'dns': this.#dns(e, n); break;
    }
  }

  /** Adds one custom event (format 1.1), as an item keyed by its package, event and identity fields. */
  addCustom(e: CustomTraceEvent): void {
    const category = `${e.package}/${e.name}`;
    const identity = identityOf(e, this.#identity.get(category));
    const scope = scopeOf(e);
    const key = scoped(scope, customItemKey(category, identity));
    if (this.#ignore.custom.some((re) => re.test(key))) return;
    const it = this.#custom.get(key);
    if (it) it.count++;
    else this.#custom.set(key, { key, category, package: e.package, name: e.name, identity, count: 1, ...(scope ? { scope } : {}) });
  }

  /** Counts the lines of an audit log that were skipped (audit-parse.ts). */
  addAuditSkips(s: AuditSkips): void {
    this.#auditSkips.merge(s);
  }

  /** Adds one Kubernetes API request (see audit.ts). */
  addApi(item: Omit<ApiItem, 'count' | 'by'>, by: string | undefined, n = 1): void {
    this.#auditEvents++;
    if (this.#ignore.keys.k8sApi.some((re) => re.test(item.key))) return;
    let it = this.#api.get(item.key);
    if (!it) {
      it = { ...item, count: 0, by: [] };
      this.#api.set(item.key, it);
    }
    it.count += n;
    if (by) addBy(it.by, by);
  }

  #remember(e: TraceEvent, exe: string): void {
    if (e.pid <= 0) return;
    const pid = procKey(e, e.pid);
    if (this.#exeByPid.get(pid) === exe) return;
    this.#exeByPid.delete(pid);
    this.#exeByPid.set(pid, exe);
    if (this.#exeByPid.size > MAX_TRACKED_PIDS) {
      const oldest = this.#exeByPid.keys().next().value;
      if (oldest !== undefined) this.#exeByPid.delete(oldest);
    }
  }

  #exeOf(e: TraceEvent): string {
    return e.exe ?? (e.pid > 0 ? this.#exeByPid.get(procKey(e, e.pid)) : undefined) ?? e.comm ?? '?';
  }

  /** normalizeArgs, cached per argv (argv repeat: the same tools run with the same flags). */
  #args(argv: readonly string[] | undefined): string {
    if (!argv || argv.length <= 1) return '';
    const raw = argv.length === 2 ? argv[1]! : argv.slice(1).join('\0');
    let n = this.#argsCache.get(raw);
    if (n === undefined) {
      n = normalizeArgs(argv);
      if (this.#argsCache.size >= PATH_CACHE_MAX) this.#argsCache.clear();
      this.#argsCache.set(raw, n);
    }
    return n;
  }

  /** normalizeExe, cached: every event names its executable. */
  #normExe(raw: string): string {
    let n = this.#exeCache.get(raw);
    if (n === undefined) {
      n = normalizeExe(raw);
      if (this.#exeCache.size >= PATH_CACHE_MAX) this.#exeCache.clear();
      this.#exeCache.set(raw, n);
    }
    return n;
  }

  #exec(e: TraceEvent, n: number): void {
    const failed = e.result !== undefined && e.result < 0;
    if (failed && PROBE_ERRORS.has(e.error ?? '')) return;
    const parentRaw = e.parent_exe ?? (e.ppid !== undefined ? this.#exeByPid.get(procKey(e, e.ppid)) : undefined);
    const parent = parentRaw === undefined ? ROOT_PARENT : this.#normExe(parentRaw);
    const exe = e.exe ?? e.comm ? this.#normExe((e.exe ?? e.comm)!) : normalizeExe(undefined);
    const args = this.#args(e.argv);
    const scope = scopeOf(e);
    const error = failed ? e.error ?? `E${-(e.result ?? 0)}` : undefined;
    const key = processKey(parent, exe, args, error, scope);
    if (!this.#ignored('processes', key)) {
      let it = this.#processes.get(key);
      if (!it) {
        it = { key, count: 0, parent, exe, args };
        if (scope) it.scope = scope;
        if (error) it.error = error;
        this.#processes.set(key, it);
      }
      it.count += n;
    }
    if (failed) return;
    if (e.exe) this.#remember(e, e.exe);
    this.#fileAccess('exec', exe, false, scope, exe, n);
  }

  #ignored(cat: Category, key: string): boolean {
    const rules = this.#ignore.keys[cat];
    return rules.length > 0 && rules.some((re) => re.test(key));
  }

  /** Normalised path, or null when ignored. */
  #path(raw: string): string | null {
    let p = this.#pathCache.get(raw);
    if (p !== undefined) return p;
    const norm = normalizePath(raw);
    p = this.#ignore.paths.some((re) => re.test(norm)) ? null : norm;
    if (this.#pathCache.size >= PATH_CACHE_MAX) this.#pathCache.clear();
    this.#pathCache.set(raw, p);
    return p;
  }

  #open(e: TraceEvent, n: number): void {
    if (e.path === undefined) return;
    let denied = false;
    if (e.result !== undefined && e.result < 0) {
      if (!DENIED_ERRORS.has(e.error ?? '')) return;
      denied = true;
    }
    const path = this.#path(e.path);
    if (path === null) return;
    const exe = this.#normExe(this.#exeOf(e));
    this.#fileAccess(accessOf(e.flags), path, denied, scopeOf(e), exe, n);
  }

  #fileAccess(access: FileAccess, rawPath: string, denied: boolean, scope: string, exe: string, n: number): void {
    const idxKey = scope ? `${scope}\0${access}${denied ? '!' : ''}` : denied ? `${access}!` : access;
    let idx = this.#fileIdx.get(idxKey);
    if (!idx) { idx = new Map(); this.#fileIdx.set(idxKey, idx); }
    let it = idx.get(rawPath);
    if (!it) {
      const group = `${scope}\0${access}`;
      let path = rawPath;
      const collapsed = this.#collapsed.get(group);
      if (collapsed && !isSecretPath(path)) {
        const dir = collapsed.find((d) => isUnder(path, d));
        if (dir !== undefined) path = `${dir === '/' ? '' : dir}/**`;
      }
      const key = fileKey(access, path, denied, scope);
      if (this.#ignored('files', key)) return;
      it = this.#files.get(key);
      if (!it) {
        it = { key, count: 0, access, path, by: [] };
        if (denied) it.denied = true;
        if (scope) it.scope = scope;
        this.#files.set(key, it);
        this.#trackChild(group, path);
        // this path made its directory collapse: the item was merged into dir/**, count it there
        if (this.#files.get(key) !== it) { this.#fileAccess(access, rawPath, denied, scope, exe, n); return; }
      }
      idx.set(rawPath, it);
    }
    it.count += n;
    if (it.by.length < MAX_BY) addBy(it.by, exe);
  }

  /** Memory bound: a directory with more than HARD_COLLAPSE_CHILDREN children becomes `dir/**` now. */
  #trackChild(group: string, path: string): void {
    if (path.endsWith('/**')) return;
    const dir = parentDir(path);
    if (dir === '' || dir === '/') return;
    const k = `${group}\0${dir}`;
    let set = this.#children.get(k);
    if (!set) { set = new Set(); this.#children.set(k, set); }
    set.add(path);
    if (set.size <= HARD_COLLAPSE_CHILDREN) return;
    this.#children.delete(k);
    this.#fileIdx.clear();
    const list = this.#collapsed.get(group) ?? [];
    list.push(dir);
    this.#collapsed.set(group, list);
    const [scope, access] = group.split('\0') as [string, FileAccess];
    for (const [key, it] of [...this.#files]) {
      if ((it.scope ?? '') !== scope || it.access !== access || !isUnder(it.path, dir) || isSecretPath(it.path)) continue;
      this.#files.delete(key);
      const path2 = `${dir}/**`;
      const key2 = fileKey(access, path2, it.denied, it.scope);
      const into = this.#files.get(key2);
      if (into) {
        into.count += it.count;
        for (const b of it.by) addBy(into.by, b);
      } else {
        this.#files.set(key2, { ...it, key: key2, path: path2 });
      }
    }
  }

  #net(item: Omit<NetworkItem, 'key' | 'count' | 'by'>, exe: string, n: number): string | undefined {
    const key = networkKey(item);
    if (this.#ignored('network', key)) return undefined;
    let it = this.#network.get(key);
    if (!it) {
      it = { key, count: 0, ...item, by: [] };
      if (!item.scope) delete it.scope;
      this.#network.set(key, it);
    }
    it.count += n;
    if (it.by.length < MAX_BY) addBy(it.by, exe);
    return key;
  }

  #dns(e: TraceEvent, n: number): void {
    if (!e.query) return;
    let name = this.#dnsCache.get(e.query);
    if (name === undefined) {
      name = normalizeDnsName(e.query);
      if (this.#dnsCache.size >= PATH_CACHE_MAX) this.#dnsCache.clear();
      this.#dnsCache.set(e.query, name);
    }
    const exe = this.#normExe(this.#exeOf(e));
    this.#net({ direction: 'dns', proto: e.proto ?? 'udp', peer: name, peerClass: 'name', port: '', scope: scopeOf(e) }, exe, n);
    if (e.pid <= 0 || name.endsWith('.arpa')) return;
    const pid = procKey(e, e.pid);
    let p = this.#dnsByPid.get(pid);
    if (!p || p.consumed || e.ts - p.ts > DNS_WINDOW_NS) {
      p = { names: [], ts: e.ts, consumed: false };
      this.#dnsByPid.set(pid, p);
      if (this.#dnsByPid.size > MAX_TRACKED_PIDS) this.#dnsByPid.delete(this.#dnsByPid.keys().next().value!);
    }
    p.ts = e.ts;
    if (!p.names.includes(name)) p.names.push(name);
  }

  /** The DNS name a process looked up just before connecting, when exactly one (search-domain expansions dropped). */
  #nameFor(e: TraceEvent, ip: string): string | undefined {
    const known = this.#nameByIp.get(ip);
    if (known) return known;
    const p = e.pid > 0 ? this.#dnsByPid.get(procKey(e, e.pid)) : undefined;
    if (!p || e.ts - p.ts > DNS_WINDOW_NS) return undefined;
    const names = p.names.filter((a) => !p.names.some((b) => b !== a && a.startsWith(b + '.')));
    p.consumed = true;
    if (names.length !== 1) return undefined;
    this.#nameByIp.set(ip, names[0]!);
    if (this.#nameByIp.size > MAX_TRACKED_PIDS) this.#nameByIp.delete(this.#nameByIp.keys().next().value!);
    return names[0];
  }

  #connect(e: TraceEvent, n: number): void {
    const ip = unmapIpv4(e.daddr ?? '');
    const id = addressIdentity(ip);
    let peer = id.id;
    let peerClass: NetworkItem['peerClass'] = id.cls;
    if (id.cls !== 'loopback' && id.cls !== 'unspecified' && id.cls !== 'unknown') {
      const name = this.#nameFor(e, ip);
      if (name) { peer = name; peerClass = 'name'; }
    }
    const exe = this.#normExe(this.#exeOf(e));
    const scope = scopeOf(e);
    const key = this.#net({ direction: 'egress', proto: e.proto ?? 'tcp', peer, peerClass, port: normalizePort(e.dport), scope }, exe, n);
    this.#peers.own(scope, e.saddr);
    if (key) this.#peers.saw(key, ip);
    if (key && peerClass !== 'name' && peerClass !== 'loopback' && peerClass !== 'unspecified' && peerClass !== 'unknown') {
      let ips = this.#unnamed.get(key);
      if (!ips) { ips = new Map(); this.#unnamed.set(key, ips); }
      if (ips.size < 4096 || ips.has(ip)) ips.set(ip, (ips.get(ip) ?? 0) + n);
    }
  }

  /** Connections made before (or without) the lookup that named their address move to the name's item. */
  #renameLearned(): void {
    for (const [key, ips] of this.#unnamed) {
      const it = this.#network.get(key);
      if (!it) continue;
      for (const [ip, n] of ips) {
        const name = this.#nameByIp.get(ip);
        if (!name) continue;
        const named = { direction: it.direction, proto: it.proto, peer: name, peerClass: 'name' as const, port: it.port, ...(it.scope ? { scope: it.scope } : {}) };
        const nkey = networkKey(named);
        let into = this.#network.get(nkey);
        if (!into) { into = { key: nkey, count: 0, ...named, by: [...it.by] }; this.#network.set(nkey, into); }
        into.count += n;
        it.count -= n;
        this.#peers.move(key, nkey, ip);
      }
      if (it.count <= 0) this.#network.delete(key);
    }
    this.#unnamed.clear();
  }

  #accept(e: TraceEvent, n: number): void {
    const id = addressIdentity(e.daddr);
    const exe = this.#normExe(this.#exeOf(e));
    this.#servers.add(exe);
    const scope = scopeOf(e);
    const key = this.#net({ direction: 'ingress', proto: e.proto ?? 'tcp', peer: id.id, peerClass: id.cls, port: normalizePort(e.sport), scope }, exe, n);
    this.#peers.own(scope, e.saddr);
    if (key) this.#peers.saw(key, e.daddr);
  }

  #listen(e: TraceEvent, n: number): void {
    const id = addressIdentity(e.saddr ?? '0.0.0.0');
    const exe = this.#normExe(this.#exeOf(e));
    this.#servers.add(exe);
    const scope = scopeOf(e);
    this.#net({ direction: 'listen', proto: e.proto ?? 'tcp', peer: id.id, peerClass: id.cls, port: normalizePort(e.sport), scope }, exe, n);
    this.#peers.own(scope, e.saddr);
  }

  build(): BehaviorProfile {
    this.#renameLearned();
    const p = emptyProfile();
    p.traces = this.#traces.map((t) => ({ ...t }));
    p.lostEvents = this.#lost;
    p.events = this.#events;
    p.auditEvents = this.#auditEvents;
    if (this.#auditSkips.total > 0) p.auditSkipped = this.#auditSkips.summary();
    p.servers = [...this.#servers].sort();
    p.processes = [...this.#processes.values()].sort(byKey);
    p.files = [...this.#files.values()].sort(byKey);
    p.network = [...this.#network.values()].map((it) => {
      const peers = it.direction === 'egress' || it.direction === 'ingress' ? this.#peers.peersOf(it.key) : undefined;
      return peers ? { ...it, peers } : it;
    }).sort(byKey);
    p.k8sApi = [...this.#api.values()].sort(byKey);
    if (this.#labels.size > 0) p.labels = Object.fromEntries([...this.#labels].sort(([a], [b]) => (a < b ? -1 : 1)));
    if (this.#custom.size > 0) p.custom = [...this.#custom.values()].map((c) => ({ ...c, identity: { ...c.identity } })).sort(byKey);
    return p;
  }
}

/** Profile of an in-memory trace (tests, small traces). */
export function profileTrace(
  trace: { header: TraceHeader; events: Iterable<TraceEvent>; footer: TraceFooter; custom?: Iterable<CustomTraceEvent> },
  options: ProfileOptions = {},
): BehaviorProfile {
  const b = new ProfileBuilder(options);
  b.begin(trace.header);
  for (const e of trace.events) b.add(e);
  for (const e of trace.custom ?? []) b.addCustom(e);
  b.end(trace.footer);
  return b.build();
}

// ---------------------------------------------------------------------------------------------------------------
// Directory collapse over several profiles

/** Directories with more direct children than this become `dir/**` (decided over all compared profiles). */
const DEFAULT_COLLAPSE_THRESHOLD = 20;
/** `/usr/lib` (depth 2) may collapse; `/etc` (depth 1) never does. */
const MIN_COLLAPSE_DEPTH = 2;

export interface CollapseOptions {
  threshold?: number;
  minDepth?: number;
}

function depthOf(dir: string): number {
  return dir.split('/').filter((s) => s !== '').length;
}

/**
 * Collapses wide directories to `dir/**`, deciding on the union of all profiles' paths per (scope, access), so a
 * directory is collapsed in every profile or in none: crossing the threshold on one side cannot show up as
 * "19 files removed, 1 added". Secret paths are never collapsed. Returns new profiles.
 */
export function collapseProfiles(profiles: readonly BehaviorProfile[], o: CollapseOptions = {}): BehaviorProfile[] {
  const threshold = o.threshold ?? DEFAULT_COLLAPSE_THRESHOLD;
  const minDepth = o.minDepth ?? MIN_COLLAPSE_DEPTH;
  const groups = new Map<string, Set<string>>();
  for (const p of profiles) {
    for (const f of p.files) {
      if (f.access === 'exec') continue; // executables stay listed one by one, like processes
      const g = `${f.scope ?? ''}\0${f.access}`;
      let s = groups.get(g);
      if (!s) { s = new Set(); groups.set(g, s); }
      s.add(f.path);
    }
  }
  // per group: directories to collapse, shallowest first
  const wide = new Map<string, string[]>();
  for (const [g, paths] of groups) {
    const children = new Map<string, Set<string>>();
    const forced = new Set<string>();
    for (const path of paths) {
      if (path.endsWith('/**')) { forced.add(path.slice(0, -3) || '/'); continue; }
      let child = path;
      for (let dir = parentDir(path); dir !== '' ; dir = parentDir(dir)) {
        let s = children.get(dir);
        if (!s) { s = new Set(); children.set(dir, s); }
        s.add(child);
        if (dir === '/') break;
        child = dir;
      }
    }
    const dirs = [...forced];
    for (const [dir, kids] of children) if (kids.size > threshold && depthOf(dir) >= minDepth) dirs.push(dir);
    dirs.sort((a, b) => depthOf(a) - depthOf(b) || (a < b ? -1 : 1));
    if (dirs.length > 0) wide.set(g, dirs);
  }
  if (wide.size === 0) return profiles.map((p) => p);
  return profiles.map((p) => {
    const files = new Map<string, FileItem>();
    for (const f of p.files) {
      const dirs = wide.get(`${f.scope ?? ''}\0${f.access}`);
      let path = f.path;
      if (dirs && !isSecretPath(path)) {
        const base = path.endsWith('/**') ? path.slice(0, -3) || '/' : path;
        const dir = dirs.find((d) => isUnder(base, d));
        if (dir !== undefined) path = `${dir === '/' ? '' : dir}/**`;
      }
      const key = fileKey(f.access, path, f.denied, f.scope);
      const into = files.get(key);
      if (into) {
        into.count += f.count;
        for (const b of f.by) addBy(into.by, b);
      } else {
        files.set(key, { ...f, key, path, by: [...f.by] });
      }
    }
    return { ...p, files: [...files.values()].sort(byKey) };
  });
}

/** Merges profiles of one run (several trace files, or a trace and an audit log). */
export function mergeProfiles(profiles: readonly BehaviorProfile[]): BehaviorProfile {
  const out = emptyProfile();
  const maps = { processes: new Map<string, AnyItem>(), files: new Map<string, AnyItem>(), network: new Map<string, AnyItem>(), k8sApi: new Map<string, AnyItem>() };
  const servers = new Set<string>();
  const custom = new Map<string, CustomProfileItem>();
  const labels = new Map<string, Record<string, string>>();
  const skipped = new SkipCounter();
  for (const p of profiles) {
    for (const [w, l] of Object.entries(p.labels ?? {})) labels.set(w, { ...labels.get(w), ...l });
    skipped.merge(p.auditSkipped);
    if (p.apiSpec && (!out.apiSpec || out.apiSpec.source === 'none')) out.apiSpec = { ...p.apiSpec };
    for (const it of p.custom ?? []) {
      const into = custom.get(it.key);
      if (into) into.count += it.count;
      else custom.set(it.key, { ...it, identity: { ...it.identity } });
    }
    out.traces.push(...p.traces);
    out.lostEvents += p.lostEvents;
    out.events += p.events;
    out.auditEvents += p.auditEvents;
    for (const s of p.servers) servers.add(s);
    for (const cat of ['processes', 'files', 'network', 'k8sApi'] as const) {
      for (const it of p[cat] as AnyItem[]) {
        const into = maps[cat].get(it.key);
        if (!into) {
          maps[cat].set(it.key, 'by' in it ? { ...it, by: [...it.by], ...('peers' in it && it.peers ? { peers: [...it.peers] } : {}) } as AnyItem : { ...it });
          continue;
        }
        into.count += it.count;
        if ('by' in into && 'by' in it) for (const b of it.by) addBy(into.by, b);
        if (cat === 'network') mergePeers(into as NetworkItem, it as NetworkItem);
      }
    }
  }
  if (skipped.total > 0) out.auditSkipped = skipped.summary();
  out.servers = [...servers].sort();
  out.processes = ([...maps.processes.values()] as ProcessItem[]).sort(byKey);
  out.files = ([...maps.files.values()] as FileItem[]).sort(byKey);
  out.network = ([...maps.network.values()] as NetworkItem[]).sort(byKey);
  out.k8sApi = ([...maps.k8sApi.values()] as ApiItem[]).sort(byKey);
  if (custom.size > 0) out.custom = [...custom.values()].sort(byKey);
  if (labels.size > 0) out.labels = Object.fromEntries([...labels].sort(([a], [b]) => (a < b ? -1 : 1)));
  return out;
}

function mergePeers(into: NetworkItem, it: NetworkItem): void {
  if (!it.peers) return;
  into.peers = [...new Set([...(into.peers ?? []), ...it.peers])].sort();
}

/** Checks that a parsed JSON value is a profile (for `katabot diff` given saved profiles). */
export function isProfile(value: unknown): value is BehaviorProfile {
  return typeof value === 'object' && value !== null && (value as { format?: unknown }).format === PROFILE_FORMAT;
}
