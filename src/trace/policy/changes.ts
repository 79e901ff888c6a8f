// Policy changes a PR brings: the rules its run needs that the base branch's policy lacks (a new egress, a new
// binary, a write under /etc), each phrased as the question a maintainer asks in review, with the documents to
// apply when the change is intended. Pure. The same run traced twice needs no change: rules are normalised.
import { isSecretPath, isSystemPath } from '../profile-rules.ts';
import { portText, type FileRule, type NetRule, type PolicySet, type WorkloadPolicy } from './model.ts';

export type ChangeKind = 'workload' | 'egress' | 'ingress' | 'dns' | 'exec' | 'file' | 'protocol' | 'syscall';

export interface PolicyChange {
  workload: string;
  kind: ChangeKind;
  /** The rule, e.g. `workload:shop/db TCP/5432`, `/usr/bin/curl`, `write /etc/app.conf`. */
  rule: string;
  /** The review question. */
  question: string;
  /** Deserves a second look: egress outside the job, a write under /etc, /usr or /boot, a secret. */
  risky: boolean;
}

/** Which policy documents a change is applied with. */
export function formatsOf(kind: ChangeKind): Array<'networkpolicy' | 'cilium' | 'kubearmor' | 'seccomp'> {
  switch (kind) {
    case 'egress': case 'ingress': case 'dns': return ['networkpolicy', 'cilium'];
    case 'exec': case 'file': case 'protocol': return ['kubearmor'];
    case 'syscall': return ['seccomp'];
    case 'workload': return ['networkpolicy', 'cilium', 'kubearmor', 'seccomp'];
  }
}

function code(s: string): string {
  return `\`${s}\``;
}

function peerText(r: NetRule): string {
  switch (r.peer.kind) {
    case 'workload': return code(r.peer.id);
    case 'service': return `service ${code(r.peer.id)}`;
    case 'fqdn': return code(r.peer.id);
    case 'cidr': return `addresses in ${code(r.peer.id)}`;
    case 'world': return 'public addresses';
  }
}

function netRules(w: WorkloadPolicy | undefined, side: 'egress' | 'ingress'): Set<string> {
  const out = new Set<string>();
  for (const r of w?.[side] ?? []) for (const p of r.ports) out.add(`${r.peer.kind}:${r.peer.id} ${portText(p)}`);
  return out;
}

/** Does the base allow this file access: the same path, or a directory above it, with at least this access? */
function fileCovered(f: FileRule, base: readonly FileRule[]): boolean {
  return base.some((b) => (b.path === f.path || (b.dir && b.recursive !== false && f.path.startsWith(b.path))) && (!b.readOnly || f.readOnly));
}

/** Rules in head's policy that base's lacks, per workload in id order, then by kind and rule. */
export function policyChanges(base: PolicySet, head: PolicySet): PolicyChange[] {
  const out: PolicyChange[] = [];
  const byId = new Map(base.workloads.map((w) => [w.id, w]));
  for (const w of head.workloads) {
    const b = byId.get(w.id);
    const id = code(w.id);
    const add = (kind: ChangeKind, rule: string, question: string, risky = false): void => {
      out.push({ workload: w.id, kind, rule, question, risky });
    };
    if (!b) add('workload', w.id, `${id} is a new workload: should this job run it?`);
    for (const side of ['egress', 'ingress'] as const) {
      const known = netRules(b, side);
      for (const r of w[side]) {
        for (const p of r.ports) {
          const rule = `${r.peer.kind}:${r.peer.id} ${portText(p)}`;
          if (known.has(rule)) continue;
          const port = `${p.proto} ${p.port}${p.endPort !== undefined ? `-${p.endPort}` : ''}`;
          if (side === 'egress') add('egress', rule, `Should ${id} connect to ${peerText(r)} on ${port}?`, r.peer.kind !== 'workload');
          else add('ingress', rule, `Should ${id} accept ${port} from ${peerText(r)}?`, r.peer.kind === 'world');
        }
      }
    }
    const dns = new Set(b?.dns ?? []);
    for (const n of w.dns) if (!dns.has(n)) add('dns', n, `Should ${id} look up ${code(n)}?`, !n.endsWith('.local') && !n.includes('.svc'));
    const exes = new Set(b?.executables ?? []);
    for (const e of w.executables) if (!exes.has(e)) add('exec', e, `Should ${id} run ${code(e)}?`);
    for (const f of w.files) {
      if (fileCovered(f, b?.files ?? [])) continue;
      const access = f.readOnly ? 'read' : 'write';
      const what = f.dir ? `files under ${code(f.path)}` : code(f.path);
      add('file', `${access} ${f.path}`, `Should ${id} ${access} ${what}?`, (!f.readOnly && isSystemPath(f.path)) || isSecretPath(f.path));
    }
    const protocols = new Set(b?.protocols ?? []);
    for (const p of w.protocols) if (!protocols.has(p)) add('protocol', p, `Should ${id} use ${p.toUpperCase()}?`);
    const calls = new Set(b?.syscalls ?? []);
    for (const s of w.syscalls) if (!calls.has(s)) add('syscall', s, `Should ${id} call ${code(s)}?`);
  }
  return out;
}
