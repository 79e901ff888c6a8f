// KubeArmorPolicy (security.kubearmor.com/v1, action Allow) per workload: the executables it ran, the files it
// read (read-only) and wrote, with wide directories collapsed as the profile collapses them, the network
// protocols and DNS names it used. Paths the profile normalised (temp names, pids) widen to their directory. Pure.
import { DEFAULT_FILE_IGNORES } from '../profile-rules.ts';
import { fileRuleOf, namespaceOf, objectName, type FileRule, type PolicySet, type WorkloadPolicy } from './model.ts';
import { provenance, type PolicyDoc } from './yaml.ts';

/** KubeArmor's limit on a path. */
const MAX_PATH = 200;

/**
 * What every process touches and the profile leaves out as noise (katabot's default ignores: the loader cache,
 * locales, /dev/null…): an allow-list without it would stop the workload. Read-write, as /dev/null and ttys are.
 * A glob inside a segment (gconv under /usr/lib/<arch>) stays a pattern (KubeArmor's matchPatterns).
 */
function runtimeFiles(): { rules: FileRule[]; patterns: string[] } {
  const out = new Map<string, FileRule>();
  const patterns: string[] = [];
  for (const glob of DEFAULT_FILE_IGNORES) {
    const inner = glob.replace(/\/\*\*$/, '');
    if (inner.includes('*')) { patterns.push(glob.replace(/\*\*$/, '*')); continue; }
    const rule = fileRuleOf(glob);
    if (rule) out.set(rule.path, { ...rule, readOnly: false });
  }
  return { rules: [...out.values()].sort((a, b) => (a.path < b.path ? -1 : 1)), patterns: patterns.sort() };
}

function fits(f: FileRule): FileRule {
  if (f.path.length <= MAX_PATH) return f;
  // too long for KubeArmor: the deepest directory that fits
  let dir = f.path.slice(0, MAX_PATH);
  dir = dir.slice(0, dir.lastIndexOf('/') + 1);
  return { path: dir, dir: true, readOnly: f.readOnly };
}

function fileEntries(rules: readonly FileRule[]): { matchPaths: Array<Record<string, unknown>>; matchDirectories: Array<Record<string, unknown>> } {
  const matchPaths: Array<Record<string, unknown>> = [];
  const matchDirectories: Array<Record<string, unknown>> = [];
  const seen = new Set<string>();
  for (const raw of rules) {
    const f = fits(raw);
    if (seen.has(f.path)) continue;
    seen.add(f.path);
    const ro = f.readOnly ? { readOnly: true } : {};
    if (f.dir) matchDirectories.push({ dir: f.path, ...(f.recursive === false ? {} : { recursive: true }), ...ro });
    else matchPaths.push({ path: f.path, ...ro });
  }
  return { matchPaths, matchDirectories };
}

export function kubeArmorPolicyOf(w: WorkloadPolicy, set: PolicySet): PolicyDoc {
  const name = objectName(w.name, 'katabot');
  const ns = namespaceOf(w);
  const comments: PolicyDoc['comments'] = [];
  const exes: FileRule[] = w.executables.map((e) => fileRuleOf(e)).filter((r) => r !== undefined).map((r) => ({ ...r, readOnly: false }));
  const proc = fileEntries(exes);
  const runtime = runtimeFiles();
  const files = fileEntries([...w.files, ...runtime.rules.filter((r) => !w.files.some((f) => f.path === r.path))]);
  const spec: Record<string, unknown> = { selector: { matchLabels: { ...w.labels } } };
  if (proc.matchPaths.length + proc.matchDirectories.length > 0) {
    spec['process'] = {
      ...(proc.matchPaths.length > 0 ? { matchPaths: proc.matchPaths } : {}),
      ...(proc.matchDirectories.length > 0 ? { matchDirectories: proc.matchDirectories } : {}),
    };
    comments.push({ path: ['spec', 'process'], text: `${w.executables.length} executable${w.executables.length === 1 ? '' : 's'} run` });
  }
  spec['file'] = {
    ...(files.matchPaths.length > 0 ? { matchPaths: files.matchPaths } : {}),
    ...(files.matchDirectories.length > 0 ? { matchDirectories: files.matchDirectories } : {}),
    matchPatterns: runtime.patterns.map((pattern) => ({ pattern })),
  };
  comments.push({
    path: ['spec', 'file'],
    text: 'files opened (readOnly: only read), placeholders widened to their directory; plus the loader cache, locales and devices every process needs'
      + (w.unnamedPaths.length > 0 ? `\nnot expressible (relative paths): ${w.unnamedPaths.slice(0, 5).join(', ')}${w.unnamedPaths.length > 5 ? ', …' : ''}` : ''),
  });
  if (w.protocols.length > 0 || w.dns.length > 0) {
    spec['network'] = {
      ...(w.protocols.length > 0 ? { matchProtocols: w.protocols.map((protocol) => ({ protocol })) } : {}),
      ...(w.dns.length > 0 ? { matchDNSQueries: w.dns.map((domain) => ({ domain: domain.replace(/<[a-z]+>/g, '*') })) } : {}),
    };
  }
  if (w.selectorGuessed) comments.push({ path: ['spec', 'selector'], text: 'the trace had no pod labels: check this selector' });
  spec['action'] = 'Allow';
  const value = {
    apiVersion: 'security.kubearmor.com/v1',
    kind: 'KubeArmorPolicy',
    metadata: { name, ...(ns ? { namespace: ns } : {}), labels: { 'app.kubernetes.io/managed-by': 'katabot' } },
    spec,
  };
  return { kind: 'KubeArmorPolicy', name, ...(ns ? { namespace: ns } : {}), workload: w.id, value, header: provenance(`KubeArmorPolicy for ${w.id}`, set.runs), comments };
}

export function kubeArmorPolicies(set: PolicySet): PolicyDoc[] {
  return set.workloads.map((w) => kubeArmorPolicyOf(w, set));
}
