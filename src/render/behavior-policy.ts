// The behavior report's "Policy" and "Service graph" sections. Policy: the rules the PR's run needs that the policy
// learned from the base runs lacks, as review questions, with the head's policy documents to apply when the change
// is intended. Service graph: the job's workloads and their connections, changes coloured (mermaid in the comment,
// interactive SVG in the HTML report). Pure.
import type { BehaviorDiff } from '../trace/diff.ts';
import { formatsOf, policyChanges, type PolicyChange } from '../trace/policy/changes.ts';
import { ciliumPolicyOf } from '../trace/policy/cilium.ts';
import { kubeArmorPolicyOf } from '../trace/policy/kubearmor.ts';
import { learnPolicies, type PolicySet } from '../trace/policy/model.ts';
import { networkPolicyOf } from '../trace/policy/networkpolicy.ts';
import { renderSeccomp, seccompProfileOf } from '../trace/policy/seccomp.ts';
import { renderYaml } from '../trace/policy/yaml.ts';
import { serviceGraph, type ServiceGraph } from '../trace/service-graph.ts';
import { serviceGraphMermaid } from './service-graph.ts';
import { serviceGraphSvg } from './service-graph-layout.ts';
import { escapeHtml } from './html.ts';
import { codeBlock } from './markdown.ts';

/** Grouped by this label when any workload has it (Juno's "service graph by label selectors"). */
const DEFAULT_GROUP_LABEL = 'app.kubernetes.io/part-of';

export interface PolicyReport {
  base: PolicySet;
  head: PolicySet;
  changes: PolicyChange[];
}

function policyReport(d: BehaviorDiff): PolicyReport {
  const base = learnPolicies(d.bases);
  const head = learnPolicies([d.head]);
  return { base, head, changes: policyChanges(base, head) };
}

/** The diff's service graph, grouped by `groupBy`, else by DEFAULT_GROUP_LABEL when the pods carry it. */
function behaviorGraph(d: BehaviorDiff, groupBy?: string): ServiceGraph {
  const labels = [...d.bases, d.head].flatMap((p) => Object.values(p.labels ?? {}));
  const label = groupBy ?? (labels.some((l) => l[DEFAULT_GROUP_LABEL] !== undefined) ? DEFAULT_GROUP_LABEL : undefined);
  return serviceGraph(d.head, d.bases, label ? { groupBy: label } : {});
}

const cache = new WeakMap<BehaviorDiff, Map<string, { policy: PolicyReport; graph: ServiceGraph }>>();

/** Policy report and graph of a diff, computed once per diff and grouping (the comment renders several shapes). */
export function behaviorExtras(d: BehaviorDiff, groupBy?: string): { policy: PolicyReport; graph: ServiceGraph } {
  let byGroup = cache.get(d);
  if (!byGroup) { byGroup = new Map(); cache.set(d, byGroup); }
  let x = byGroup.get(groupBy ?? '');
  if (!x) { x = { policy: policyReport(d), graph: behaviorGraph(d, groupBy) }; byGroup.set(groupBy ?? '', x); }
  return x;
}

export interface ExtraSectionOptions {
  maxRows: number;
  mermaid: boolean;
  moreNote: string;
  reportUrl?: string;
  groupBy?: string;
}

/** The comment's policy and service-graph sections for one shape of the comment (rows and graphs shrink to fit). */
export function behaviorExtraSections(d: BehaviorDiff, o: ExtraSectionOptions): string[] {
  const { policy, graph } = behaviorExtras(d, o.groupBy);
  const out: string[] = [];
  const rows = Number.isFinite(o.maxRows) ? o.maxRows : 1000;
  const p = policyMarkdown(policy, { maxQuestions: Math.max(rows, 3), yaml: o.mermaid && rows >= 20, moreNote: o.moreNote });
  if (p) out.push(p);
  if (o.mermaid) {
    const g = graphMarkdown(graph, { maxEdges: rows >= 100 ? 40 : 20, moreNote: o.moreNote, ...(o.reportUrl ? { link: o.reportUrl } : {}) });
    if (g) out.push(g);
  }
  return out;
}

/** The head's documents that apply a workload's changes, by format. */
function documentsFor(r: PolicyReport, workload: string, changes: readonly PolicyChange[]): Array<{ format: string; text: string; lang: 'yaml' | 'json' }> {
  const w = r.head.workloads.find((x) => x.id === workload);
  if (!w) return [];
  const formats = new Set(changes.flatMap((c) => formatsOf(c.kind)));
  const out: Array<{ format: string; text: string; lang: 'yaml' | 'json' }> = [];
  if (formats.has('networkpolicy')) out.push({ format: 'NetworkPolicy', text: renderYaml(networkPolicyOf(w, r.head)), lang: 'yaml' });
  if (formats.has('cilium')) out.push({ format: 'CiliumNetworkPolicy', text: renderYaml(ciliumPolicyOf(w, r.head)), lang: 'yaml' });
  if (formats.has('kubearmor')) out.push({ format: 'KubeArmorPolicy', text: renderYaml(kubeArmorPolicyOf(w, r.head)), lang: 'yaml' });
  const seccomp = formats.has('seccomp') ? seccompProfileOf(w) : undefined;
  if (seccomp) out.push({ format: `seccomp (${seccomp.file})`, text: renderSeccomp(seccomp), lang: 'json' });
  return out;
}

function byWorkload(changes: readonly PolicyChange[]): Map<string, PolicyChange[]> {
  const m = new Map<string, PolicyChange[]>();
  for (const c of changes) m.set(c.workload, [...(m.get(c.workload) ?? []), c]);
  return m;
}

// ---------------------------------------------------------------------------------------------------------------
// markdown (comment, check run)

interface PolicyMarkdownOptions {
  /** Questions listed at most (the rest are counted). */
  maxQuestions: number;
  /** Include the documents to apply. */
  yaml: boolean;
  moreNote: string;
}

/** The comment's policy section, or undefined when the PR needs no rule the base lacks. */
function policyMarkdown(r: PolicyReport, o: PolicyMarkdownOptions): string | undefined {
  if (r.changes.length === 0) return undefined;
  const lines: string[] = ['Rules this PR\'s run needs that the policy learned from the base branch lacks. If a change is intended, the policy to apply is below it.', ''];
  let shown = 0;
  for (const [workload, changes] of byWorkload(r.changes)) {
    const list = changes.slice(0, Math.max(0, o.maxQuestions - shown));
    shown += list.length;
    if (list.length === 0) continue;
    lines.push(`**\`${workload}\`**`, '');
    for (const c of list) lines.push(`- ${c.risky ? '⚠️ ' : ''}${c.question}`);
    if (list.length < changes.length) lines.push(`- …and ${changes.length - list.length} more`);
    if (o.yaml) {
      for (const doc of documentsFor(r, workload, changes)) {
        lines.push('', `<details><summary>${doc.format} for <code>${workload}</code></summary>`, '', codeBlock(doc.text.trimEnd(), doc.lang), '', '</details>');
      }
    }
    lines.push('');
  }
  if (shown < r.changes.length) lines.push(`_…${r.changes.length - shown} more rules; ${o.moreNote}_`);
  const risky = r.changes.filter((c) => c.risky).length;
  const summary = `${r.changes.length} new rule${r.changes.length === 1 ? '' : 's'}${risky ? `, ${risky} to look at` : ''}`;
  return `<details><summary><b>Policy</b> · ${summary}</summary>\n\n${lines.join('\n').trimEnd()}\n\n</details>`;
}

/** The comment's service-graph section: mermaid, cut to `maxEdges` with a pointer to the full graph. */
function graphMarkdown(g: ServiceGraph, o: { maxEdges: number; moreNote: string; link?: string }): string | undefined {
  const m = serviceGraphMermaid(g, { maxEdges: o.maxEdges, ...(o.link ? { link: o.link } : {}) });
  if (!m) return undefined;
  const changed = g.edges.filter((e) => e.status === 'added' || e.status === 'removed');
  const summary = `${g.nodes.length} nodes, ${g.edges.length} edges${changed.length ? ` · +${changed.filter((e) => e.status === 'added').length} −${changed.filter((e) => e.status === 'removed').length}` : ''}`;
  const cut = g.edges.length > o.maxEdges ? `\n\n_Showing the ${o.maxEdges} changed and busiest of ${g.edges.length} edges; ${o.moreNote}._` : '';
  return `<details><summary><b>Service graph</b> · ${summary}</summary>\n\n${codeBlock(m.trimEnd(), 'mermaid')}${cut}\n\n</details>`;
}

// ---------------------------------------------------------------------------------------------------------------
// HTML report


/** Inline `code` spans of a question as HTML. */
function questionHtml(q: string): string {
  return escapeHtml(q).replace(/`([^`]+)`/g, '<code>$1</code>');
}

export function policyHtml(r: PolicyReport): string {
  if (r.changes.length === 0) {
    return `<p class="empty">No policy change: the rules this run needs are all in the policy learned from the base run${r.base.runs.length === 1 ? '' : 's'}.</p>`;
  }
  const parts: string[] = ['<p class="muted">Rules this run needs that the policy learned from the base branch lacks, with the head\'s policy to apply if intended.</p>'];
  for (const [workload, changes] of byWorkload(r.changes)) {
    parts.push(`<h3><code>${escapeHtml(workload)}</code></h3><ul class="policy">${changes.map((c) => `<li class="${c.risky ? 'risky' : ''}">${c.risky ? '<span class="badge removed">look</span> ' : ''}${questionHtml(c.question)}</li>`).join('')}</ul>`);
    for (const doc of documentsFor(r, workload, changes)) {
      parts.push(`<details><summary>${escapeHtml(doc.format)} for <code>${escapeHtml(workload)}</code></summary><pre class="policy-doc">${escapeHtml(doc.text)}</pre></details>`);
    }
  }
  return parts.join('\n');
}

export function graphHtml(g: ServiceGraph): string {
  return serviceGraphSvg(g);
}

export const POLICY_CSS = `
ul.policy{margin:4px 0 8px}ul.policy li.risky{color:#cf222e}pre.policy-doc{background:#f6f8fa;border:1px solid #d1d9e0;padding:8px;overflow:auto;font-size:12px}
`;
