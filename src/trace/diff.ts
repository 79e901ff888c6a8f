// Behavior diff: base profile(s) → head profile. Items are compared by key (set semantics; counts are shown, not
// compared). With several base runs, items present in some but not all of them are flaky and reported apart.
// Added items carry risk hints. See docs/diff-format.md.
import {
  collapseProfiles, type AnyItem, type ApiItem, type BehaviorProfile, type CollapseOptions, type FileItem,
  type CustomProfileItem, type NetworkItem, type ProcessItem,
} from './profile.ts';
import {
  CATEGORIES, isPrivilegedExec, isSecretPath, isShell, isSystemPath, type Category, type IgnoreRules,
} from './profile-rules.ts';

export interface DiffEntry<T extends AnyItem = AnyItem> {
  item: T;
  /** Head count for added and flaky items present in head, else the largest base count. */
  count: number;
  risk: string[];
  /** Flaky items: in how many base runs, and whether in head. */
  presence?: { base: number; of: number; head: boolean };
}

export interface CategoryDiff<T extends AnyItem = AnyItem> {
  added: Array<DiffEntry<T>>;
  removed: Array<DiffEntry<T>>;
  flaky: Array<DiffEntry<T>>;
  /** Items in every base run and in head. */
  unchanged: number;
}

export interface BehaviorDiff {
  processes: CategoryDiff<ProcessItem>;
  files: CategoryDiff<FileItem>;
  network: CategoryDiff<NetworkItem>;
  k8sApi: CategoryDiff<ApiItem>;
  /** Custom events of eBPF packages (format 1.1), by `<package>/<event>` and identity fields. No risk hints. */
  custom: CategoryDiff<CustomProfileItem>;
  lostEvents: { base: number; head: number };
  baseRuns: number;
  /** The compared profiles after directory collapse (renderers draw full trees and graphs from them). */
  head: BehaviorProfile;
  bases: BehaviorProfile[];
}

/** docs/diff-format.md: the JSON `katabot diff --format json` prints. */
interface DiffJsonItem {
  key: string;
  count: number;
  risk: string[];
}

interface DiffJsonCategory {
  added: DiffJsonItem[];
  removed: DiffJsonItem[];
  flaky: DiffJsonItem[];
}

export interface DiffJson {
  processes: DiffJsonCategory;
  files: DiffJsonCategory;
  network: DiffJsonCategory;
  k8sApi: DiffJsonCategory;
  custom: DiffJsonCategory;
  summary: { added: number; removed: number; lostEvents: { base: number; head: number } };
}

export interface DiffOptions extends CollapseOptions {
  /** Applied again at diff time, so saved profiles built with other rules compare alike. */
  ignore?: IgnoreRules;
}

export const RISK = {
  newDestination: 'new outbound destination',
  privilegedExec: 'setuid/privileged exec',
  serverShell: 'shell spawned by a server',
  systemWrite: 'write under /etc, /usr or /boot',
  secretRead: 'reads a secret',
  k8sSecrets: 'Kubernetes secrets',
  k8sRbac: 'Kubernetes RBAC',
  k8sNodes: 'Kubernetes nodes',
  k8sPodExec: 'Kubernetes pods/exec',
} as const;

function processRisk(it: ProcessItem, head: BehaviorProfile): string[] {
  const r: string[] = [];
  if (isPrivilegedExec(it.exe)) r.push(RISK.privilegedExec);
  if (isShell(it.exe) && head.servers.includes(it.parent)) r.push(RISK.serverShell);
  return r;
}

function fileRisk(it: FileItem): string[] {
  const r: string[] = [];
  if ((it.access === 'write' || it.access === 'create') && isSystemPath(it.path)) r.push(RISK.systemWrite);
  if (isSecretPath(it.path)) r.push(RISK.secretRead);
  return r;
}

function networkRisk(it: NetworkItem): string[] {
  if (it.direction === 'egress' && it.peerClass !== 'loopback' && it.peerClass !== 'unspecified') return [RISK.newDestination];
  if (it.direction === 'dns' && !it.peer.endsWith('.arpa') && it.peer !== 'localhost') return [RISK.newDestination];
  return [];
}

function apiRisk(it: ApiItem): string[] {
  const [resource, sub] = it.resource.split('/');
  if (resource === 'secrets') return [RISK.k8sSecrets];
  if (it.group === 'rbac.authorization.k8s.io' || /^(cluster)?role(binding)?s$/.test(resource ?? '')) return [RISK.k8sRbac];
  if (resource === 'nodes') return [RISK.k8sNodes];
  if (resource === 'pods' && (sub === 'exec' || sub === 'attach' || sub === 'portforward')) return [RISK.k8sPodExec];
  return [];
}

function riskOf(cat: DiffCategory, it: AnyItem, head: BehaviorProfile): string[] {
  switch (cat) {
    case 'custom': return [];
    case 'processes': return processRisk(it as ProcessItem, head);
    case 'files': return fileRisk(it as FileItem);
    case 'network': return networkRisk(it as NetworkItem);
    case 'k8sApi': return apiRisk(it as ApiItem);
  }
}

/** The diffed categories: the behaviour categories of ignore rules, and custom events. */
type DiffCategory = Category | 'custom';
const DIFF_CATEGORIES: readonly DiffCategory[] = [...CATEGORIES, 'custom'];

function itemsOf(p: BehaviorProfile, cat: DiffCategory): AnyItem[] {
  return cat === 'custom' ? (p.custom ?? []) : (p[cat] as AnyItem[]);
}

function keep(cat: DiffCategory, it: AnyItem, ignore: IgnoreRules | undefined): boolean {
  if (!ignore) return true;
  if (cat === 'custom') return !ignore.custom.some((re) => re.test(it.key));
  if (ignore.keys[cat].some((re) => re.test(it.key))) return false;
  if (cat === 'files' && ignore.paths.some((re) => re.test((it as FileItem).path))) return false;
  return true;
}

function byEntryKey(a: DiffEntry, b: DiffEntry): number {
  return a.item.key < b.item.key ? -1 : a.item.key > b.item.key ? 1 : 0;
}

function diffCategory(cat: DiffCategory, bases: readonly BehaviorProfile[], head: BehaviorProfile, o: DiffOptions): CategoryDiff {
  const out: CategoryDiff = { added: [], removed: [], flaky: [], unchanged: 0 };
  const n = bases.length;
  const presence = new Map<string, { runs: number; item: AnyItem; max: number }>();
  for (const b of bases) {
    for (const it of itemsOf(b, cat)) {
      if (!keep(cat, it, o.ignore)) continue;
      const p = presence.get(it.key);
      if (p) { p.runs++; p.max = Math.max(p.max, it.count); } else presence.set(it.key, { runs: 1, item: it, max: it.count });
    }
  }
  const inHead = new Set<string>();
  for (const it of itemsOf(head, cat)) {
    if (!keep(cat, it, o.ignore)) continue;
    inHead.add(it.key);
    const p = presence.get(it.key);
    if (!p) out.added.push({ item: it, count: it.count, risk: riskOf(cat, it, head) });
    else if (p.runs < n) out.flaky.push({ item: it, count: it.count, risk: [], presence: { base: p.runs, of: n, head: true } });
    else out.unchanged++;
  }
  for (const [key, p] of presence) {
    if (inHead.has(key)) continue;
    if (p.runs < n) out.flaky.push({ item: p.item, count: p.max, risk: [], presence: { base: p.runs, of: n, head: false } });
    else out.removed.push({ item: p.item, count: p.max, risk: [] });
  }
  out.added.sort(byEntryKey);
  out.removed.sort(byEntryKey);
  out.flaky.sort(byEntryKey);
  return out;
}

/** An executable that appears as an added (removed) process is not listed again as an added (removed) file exec. */
function dropDuplicateExecs(files: CategoryDiff, processes: CategoryDiff): void {
  for (const side of ['added', 'removed'] as const) {
    const exes = new Set(processes[side].map((e) => `${e.item.scope ?? ''}\0${(e.item as ProcessItem).exe}`));
    files[side] = files[side].filter((e) => {
      const f = e.item as FileItem;
      return !(f.access === 'exec' && exes.has(`${f.scope ?? ''}\0${f.path}`));
    });
  }
}

/**
 * Diffs head against one or more base runs. Wide directories are collapsed on the union of all profiles first,
 * so the collapse cannot itself create changes.
 */
export function diffProfiles(bases: readonly BehaviorProfile[], head: BehaviorProfile, o: DiffOptions = {}): BehaviorDiff {
  if (bases.length === 0) throw new Error('a diff needs at least one base profile');
  const collapsed = collapseProfiles([head, ...bases], o);
  const h = collapsed[0]!;
  const bs = collapsed.slice(1);
  const d = {
    lostEvents: { base: bs.reduce((a, b) => a + b.lostEvents, 0), head: h.lostEvents },
    baseRuns: bs.length,
    head: h,
    bases: bs,
  } as BehaviorDiff;
  for (const cat of DIFF_CATEGORIES) (d as unknown as Record<DiffCategory, CategoryDiff>)[cat] = diffCategory(cat, bs, h, o);
  dropDuplicateExecs(d.files as CategoryDiff, d.processes as CategoryDiff);
  return d;
}

function jsonItem(e: DiffEntry): DiffJsonItem {
  return { key: e.item.key, count: e.count, risk: [...e.risk] };
}

export function diffToJson(d: BehaviorDiff): DiffJson {
  const cat = (c: CategoryDiff): DiffJsonCategory => ({ added: c.added.map(jsonItem), removed: c.removed.map(jsonItem), flaky: c.flaky.map(jsonItem) });
  let added = 0;
  let removed = 0;
  for (const c of DIFF_CATEGORIES) { added += d[c].added.length; removed += d[c].removed.length; }
  return {
    processes: cat(d.processes),
    files: cat(d.files),
    network: cat(d.network),
    k8sApi: cat(d.k8sApi),
    custom: cat(d.custom),
    summary: { added, removed, lostEvents: { ...d.lostEvents } },
  };
}

/** Added items with risk hints, in category order. */
export function riskyAdditions(d: BehaviorDiff): Array<{ category: Category; entry: DiffEntry }> {
  const out: Array<{ category: Category; entry: DiffEntry }> = [];
  for (const c of CATEGORIES) for (const e of d[c].added as DiffEntry[]) if (e.risk.length > 0) out.push({ category: c, entry: e });
  return out;
}

export function hasChanges(d: BehaviorDiff): boolean {
  return DIFF_CATEGORIES.some((c) => d[c].added.length > 0 || d[c].removed.length > 0);
}
