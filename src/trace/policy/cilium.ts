// CiliumNetworkPolicy (cilium.io/v2) per workload: what the NetworkPolicy allows, with host names as FQDN rules
// and DNS restricted to the names the workload looked up (Cilium's DNS proxy enforces both). Pure.
import { namespaceOf, objectName, portText, type NetRule, type PolicySet, type PortRule, type WorkloadPolicy } from './model.ts';
import { DNS_LABELS, DNS_NAMESPACE } from './networkpolicy.ts';
import { provenance, type PolicyDoc } from './yaml.ts';

const NS_LABEL = 'k8s:io.kubernetes.pod.namespace';

function toPorts(list: readonly PortRule[]): Array<Record<string, unknown>> {
  return [{ ports: list.map((p) => ({ port: String(p.port), ...(p.endPort !== undefined ? { endPort: p.endPort } : {}), protocol: p.proto })) }];
}

/** A DNS name as a Cilium DNS matcher: exact, or a pattern where the profile normalised a label (`<n>` → `*`). */
function dnsMatcher(name: string): Record<string, string> {
  return name.includes('<') ? { matchPattern: name.replace(/<[a-z]+>/g, '*') } : { matchName: name };
}

function peerFields(r: NetRule, w: WorkloadPolicy, set: PolicySet, side: 'to' | 'from'): Record<string, unknown> {
  const p = r.peer;
  switch (p.kind) {
    case 'workload': {
      const peer = set.workloads.find((x) => x.id === p.id);
      const [ns, name] = p.id.split('/') as [string, string];
      return { [`${side}Endpoints`]: [{ matchLabels: { ...(peer?.labels ?? { 'app.kubernetes.io/name': name }), [NS_LABEL]: ns } }] };
    }
    case 'service': {
      const [namespace, serviceName] = p.id.split('/') as [string, string];
      return side === 'to' ? { toServices: [{ k8sService: { serviceName, namespace } }] } : { fromEndpoints: [{ matchLabels: { [NS_LABEL]: namespace } }] };
    }
    case 'cidr': return { [`${side}CIDR`]: [p.id] };
    case 'world': return { [`${side}Entities`]: ['world'] };
    case 'fqdn': return side === 'to' ? { toFQDNs: [dnsMatcher(p.id)] } : { fromEntities: ['world'] };
  }
  return {};
}

export function ciliumPolicyOf(w: WorkloadPolicy, set: PolicySet): PolicyDoc {
  const name = objectName(w.name, 'katabot');
  const ns = namespaceOf(w);
  const comments: PolicyDoc['comments'] = [];
  const egress: Array<Record<string, unknown>> = w.egress.map((r, i) => {
    comments.push({ path: ['spec', 'egress', i], text: `to ${r.peer.kind} ${r.peer.id}: ${r.ports.map(portText).join(', ')} (seen ${r.count}×)` });
    return { ...peerFields(r, w, set, 'to'), toPorts: toPorts(r.ports) };
  });
  if (w.dns.length > 0) {
    comments.push({ path: ['spec', 'egress', egress.length], text: `DNS through Cilium's proxy, only the ${w.dns.length} name${w.dns.length === 1 ? '' : 's'} looked up` });
    egress.push({
      toEndpoints: [{ matchLabels: { [NS_LABEL]: DNS_NAMESPACE, ...Object.fromEntries(Object.entries(DNS_LABELS).map(([k, v]) => [`k8s:${k}`, v])) } }],
      toPorts: [{ ports: [{ port: '53', protocol: 'ANY' }], rules: { dns: w.dns.map(dnsMatcher) } }],
    });
  }
  const ingress = w.ingress.map((r, i) => {
    comments.push({ path: ['spec', 'ingress', i], text: `from ${r.peer.kind} ${r.peer.id}: ${r.ports.map(portText).join(', ')} (seen ${r.count}×)` });
    return { ...peerFields(r, w, set, 'from'), toPorts: toPorts(r.ports) };
  });
  if (w.selectorGuessed) comments.push({ path: ['spec', 'endpointSelector'], text: 'the trace had no pod labels: check this selector' });
  // An empty rule list does not apply; one empty rule puts the direction in default deny.
  const value = {
    apiVersion: 'cilium.io/v2',
    kind: 'CiliumNetworkPolicy',
    metadata: { name, ...(ns ? { namespace: ns } : {}), labels: { 'app.kubernetes.io/managed-by': 'katabot' } },
    spec: {
      endpointSelector: { matchLabels: { ...w.labels } },
      ingress: ingress.length > 0 ? ingress : [{}],
      egress: egress.length > 0 ? egress : [{}],
    },
  };
  return { kind: 'CiliumNetworkPolicy', name, ...(ns ? { namespace: ns } : {}), workload: w.id, value, header: provenance(`CiliumNetworkPolicy for ${w.id}`, set.runs), comments };
}

export function ciliumPolicies(set: PolicySet): PolicyDoc[] {
  return set.workloads.map((w) => ciliumPolicyOf(w, set));
}
