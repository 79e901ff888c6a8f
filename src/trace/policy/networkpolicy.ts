// Kubernetes NetworkPolicy (networking.k8s.io/v1) per workload: egress to the peers and ports it used, DNS to the
// cluster resolver when it looked names up, ingress from the clients it served; nothing else. Pure.
import { namespaceOf, objectName, portText, type NetRule, type Peer, type PolicySet, type PortRule, type WorkloadPolicy } from './model.ts';
import { provenance, type PolicyDoc } from './yaml.ts';

/** The cluster DNS pods (CoreDNS and kube-dns keep this label). */
export const DNS_NAMESPACE = 'kube-system';
export const DNS_LABELS = { 'k8s-app': 'kube-dns' } as const;
/** Private blocks kept out of the "world" peer: in-cluster traffic gets its own rules. */
const PRIVATE_BLOCKS = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'] as const;

const NS_LABEL = 'kubernetes.io/metadata.name';

function ports(list: readonly PortRule[]): Array<Record<string, unknown>> {
  return list.map((p) => ({ protocol: p.proto, port: p.port, ...(p.endPort !== undefined ? { endPort: p.endPort } : {}) }));
}

/** A peer as NetworkPolicyPeers, or [] for "any destination on these ports" (a host name NetworkPolicy cannot name). */
function peerOf(peer: Peer, self: WorkloadPolicy, set: PolicySet): Array<Record<string, unknown>> {
  switch (peer.kind) {
    case 'workload': {
      const w = set.workloads.find((x) => x.id === peer.id);
      const [ns, name] = peer.id.split('/') as [string, string];
      const out: Record<string, unknown> = { podSelector: { matchLabels: w?.labels ?? { 'app.kubernetes.io/name': name } } };
      if (ns !== self.namespace) out['namespaceSelector'] = { matchLabels: { [NS_LABEL]: ns } };
      return [out];
    }
    case 'service': return [{ namespaceSelector: { matchLabels: { [NS_LABEL]: peer.id.split('/')[0] } } }];
    case 'cidr': return [{ ipBlock: { cidr: peer.id } }];
    case 'world': return [{ ipBlock: { cidr: '0.0.0.0/0', except: [...PRIVATE_BLOCKS] } }];
    case 'fqdn': return [];
  }
}

function peerComment(r: NetRule, direction: 'to' | 'from'): string {
  const what = r.peer.kind === 'workload' ? `workload ${r.peer.id}`
    : r.peer.kind === 'service' ? `service ${r.peer.id} (its pods were not traced: the namespace is allowed)`
      : r.peer.kind === 'fqdn' ? `${r.peer.id} (a NetworkPolicy cannot name hosts: any destination on these ports; the CiliumNetworkPolicy names it)`
        : r.peer.kind === 'world' ? 'public addresses' : r.peer.id;
  return `${direction} ${what}: ${r.ports.map(portText).join(', ')} (seen ${r.count}×)`;
}

function rule(r: NetRule, w: WorkloadPolicy, set: PolicySet, side: 'to' | 'from'): Record<string, unknown> {
  const peers = peerOf(r.peer, w, set);
  return { ...(peers.length > 0 ? { [side]: peers } : {}), ports: ports(r.ports) };
}

export function networkPolicyOf(w: WorkloadPolicy, set: PolicySet): PolicyDoc {
  const name = objectName(w.name, 'katabot');
  const ns = namespaceOf(w);
  const comments: PolicyDoc['comments'] = [];
  const egress: Array<Record<string, unknown>> = w.egress.map((r, i) => {
    comments.push({ path: ['spec', 'egress', i], text: peerComment(r, 'to') });
    return rule(r, w, set, 'to');
  });
  if (w.dns.length > 0) {
    const shown = w.dns.slice(0, 10).join(', ') + (w.dns.length > 10 ? `, …${w.dns.length - 10} more` : '');
    comments.push({ path: ['spec', 'egress', egress.length], text: `DNS, to the cluster resolver: ${shown}` });
    egress.push({
      to: [{ namespaceSelector: { matchLabels: { [NS_LABEL]: DNS_NAMESPACE } }, podSelector: { matchLabels: { ...DNS_LABELS } } }],
      ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
    });
  }
  const ingress = w.ingress.map((r, i) => {
    comments.push({ path: ['spec', 'ingress', i], text: peerComment(r, 'from') });
    return rule(r, w, set, 'from');
  });
  if (w.selectorGuessed) comments.push({ path: ['spec', 'podSelector'], text: 'the trace had no pod labels: check this selector' });
  if (!ns) comments.push({ path: ['metadata'], text: `namespace ${w.namespace} is generated: apply this in the run's namespace` });
  const value = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, ...(ns ? { namespace: ns } : {}), labels: { 'app.kubernetes.io/managed-by': 'katabot' } },
    spec: {
      podSelector: { matchLabels: { ...w.labels } },
      policyTypes: ['Ingress', 'Egress'],
      ...(ingress.length > 0 ? { ingress } : {}),
      ...(egress.length > 0 ? { egress } : {}),
    },
  };
  const header = provenance(`NetworkPolicy for ${w.id}${egress.length + ingress.length === 0 ? ' (no traffic seen: denies all)' : ''}`, set.runs);
  return { kind: 'NetworkPolicy', name, ...(ns ? { namespace: ns } : {}), workload: w.id, value, header, comments };
}

export function networkPolicies(set: PolicySet): PolicyDoc[] {
  return set.workloads.map((w) => networkPolicyOf(w, set));
}
