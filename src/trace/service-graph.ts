// The service graph of a job's cluster, from its profiles' network items keyed by workload: workloads (pod owners)
// and the services, hosts and address blocks they talked to as nodes; observed connections as edges with protocol,
// port and count; the DNS names a peer was reached by as its labels. Diffed like the behavior diff (an edge in
// head and no base run is added, in every base run and not head removed, in some base runs flaky), and grouped by
// a pod label (Juno's PoC #3: "service graph by label selectors"). Pure; renderers are in src/report.
import { workloadOfScope } from './peers.ts';
import type { BehaviorProfile, NetworkItem } from './profile.ts';

type NodeKind = 'workload' | 'service' | 'host' | 'block' | 'world';
export type GraphStatus = 'added' | 'removed' | 'flaky' | 'same';

export interface GraphNode {
  id: string;
  kind: NodeKind;
  /** DNS names the node was reached by (egress peers), sorted. */
  names: string[];
  /** Server ports it listened on (`tcp/8080`). */
  listens: string[];
  /** Value of the grouping label (workloads with that label only). */
  group?: string;
  status: GraphStatus;
}

export interface GraphEdge {
  /** `from → to proto/port`: what the diff compares. */
  id: string;
  from: string;
  to: string;
  proto: string;
  port: string;
  /** Connections behind the edge (head's, else the largest base count). */
  count: number;
  status: GraphStatus;
}

export interface ServiceGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
  /** The label nodes are grouped by, when asked. */
  groupBy?: string;
  /** Runs behind the graph: head's traces, and how many base runs it was compared with. */
  baseRuns: number;
}

/** The workload of a command-mode trace (no pods). */
const JOB_NODE = 'job';
const K8S_SERVICE_RE = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc(\.cluster\.local)?$/;

interface Part {
  nodes: Map<string, { kind: NodeKind; names: Set<string>; listens: Set<string> }>;
  edges: Map<string, Omit<GraphEdge, 'status'>>;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The node a peer identity stands for: a Kubernetes service name, another host name, or an address class. */
function peerNode(it: NetworkItem): { id: string; kind: NodeKind; name?: string } | undefined {
  switch (it.peerClass) {
    case 'name': {
      const svc = K8S_SERVICE_RE.exec(it.peer);
      return svc ? { id: `${svc[3]}/${svc[1]}`, kind: 'service', name: it.peer } : { id: it.peer, kind: 'host', name: it.peer };
    }
    case 'private': case 'link-local': return { id: it.peer, kind: 'block' };
    case 'public': return { id: 'public', kind: 'world' };
    default: return undefined; // loopback and unknown addresses stay inside the workload
  }
}

function partOf(p: BehaviorProfile): Part {
  const part: Part = { nodes: new Map(), edges: new Map() };
  const node = (id: string, kind: NodeKind) => {
    let n = part.nodes.get(id);
    if (!n) { n = { kind, names: new Set(), listens: new Set() }; part.nodes.set(id, n); }
    // a traced workload is a workload, whatever else named it first
    if (kind === 'workload') n.kind = 'workload';
    return n;
  };
  const edge = (from: string, to: string, it: NetworkItem, count: number) => {
    const id = `${from} → ${to} ${it.proto}/${it.port}`;
    if (!part.edges.has(id)) part.edges.set(id, { id, from, to, proto: it.proto, port: it.port, count });
  };
  // egress first: a connection between two traced workloads is seen from both ends, and the client's side counts
  // it per server; the server's ingress item only adds clients that were not traced (or not matched)
  const ordered = [...p.network.filter((it) => it.direction !== 'ingress'), ...p.network.filter((it) => it.direction === 'ingress')];
  for (const it of ordered) {
    const self = it.scope ? workloadOfScope(it.scope) : JOB_NODE;
    node(self, 'workload');
    if (it.direction === 'listen') { node(self, 'workload').listens.add(`${it.proto}/${it.port}`); continue; }
    if (it.direction === 'dns') continue;
    const known = peerNode(it);
    const peers = it.peers && it.peers.length > 0 ? it.peers.map((id) => ({ id, kind: 'workload' as NodeKind })) : known ? [known] : [];
    for (const peer of peers) {
      const n = node(peer.id, peer.kind);
      if (it.direction === 'egress') {
        if (known?.name) n.names.add(known.name);
        const id = `${self} → ${peer.id} ${it.proto}/${it.port}`;
        const e = part.edges.get(id);
        if (e) e.count += it.count; else edge(self, peer.id, it, it.count);
      } else {
        // an ingress item's count covers all its clients: split evenly, at least one
        edge(peer.id, self, it, Math.max(1, Math.round(it.count / peers.length)));
      }
    }
  }
  // (a service named like a traced workload of its namespace shares its id `namespace/name`: one node, the workload)
  return part;
}

function statusOf(inHead: boolean, inBases: number, bases: number): GraphStatus {
  if (bases === 0) return 'same';
  if (inHead) return inBases === 0 ? 'added' : inBases < bases ? 'flaky' : 'same';
  return inBases === bases ? 'removed' : 'flaky';
}

export interface GraphOptions {
  /** A pod label: workloads with the same value are drawn as one group. */
  groupBy?: string;
}

/**
 * The graph of head, with base runs (none for a plain graph) giving each node and edge its status. Nodes and edges
 * only in base runs are kept, so removals show.
 */
export function serviceGraph(head: BehaviorProfile, bases: readonly BehaviorProfile[] = [], o: GraphOptions = {}): ServiceGraph {
  const h = partOf(head);
  const bs = bases.map(partOf);
  const nodeIds = new Set([...h.nodes.keys(), ...bs.flatMap((b) => [...b.nodes.keys()])]);
  const edgeIds = new Set([...h.edges.keys(), ...bs.flatMap((b) => [...b.edges.keys()])]);
  const labels: Record<string, Record<string, string>> = {};
  for (const p of [...bases, head]) Object.assign(labels, p.labels ?? {});
  const nodes: GraphNode[] = [...nodeIds].sort(compare).map((id) => {
    const all = [h.nodes.get(id), ...bs.map((b) => b.nodes.get(id))].filter((n) => n !== undefined);
    const names = new Set(all.flatMap((n) => [...n.names]));
    const listens = new Set(all.flatMap((n) => [...n.listens]));
    const kind = all.some((n) => n.kind === 'workload') ? 'workload' : all[0]!.kind;
    const group = o.groupBy && kind === 'workload' ? labels[id]?.[o.groupBy] : undefined;
    const status = statusOf(h.nodes.has(id), bs.filter((b) => b.nodes.has(id)).length, bs.length);
    return { id, kind, names: [...names].sort(), listens: [...listens].sort(), ...(group !== undefined ? { group } : {}), status };
  });
  const edges: GraphEdge[] = [...edgeIds].sort(compare).map((id) => {
    const inHead = h.edges.get(id);
    const inBases = bs.map((b) => b.edges.get(id)).filter((e) => e !== undefined);
    const e = inHead ?? inBases[0]!;
    const count = inHead ? inHead.count : Math.max(...inBases.map((x) => x.count));
    return { ...e, count, status: statusOf(inHead !== undefined, inBases.length, bs.length) };
  });
  return { nodes, edges, ...(o.groupBy ? { groupBy: o.groupBy } : {}), baseRuns: bases.length };
}

/** The graph as JSON (the export and the dashboard's data): nodes and edges in id order. */
export function serviceGraphJson(g: ServiceGraph): string {
  return JSON.stringify(g, null, 2) + '\n';
}
