// The behavior diff as a PR comment (one per PR and job, edited in place) and as the check run
// `katabot / behavior (<job>)`. Pure: a diff in, markdown out, always within GitHub's 65,535-character limit.
import { riskyAdditions, type BehaviorDiff, type CategoryDiff, type DiffEntry } from '../trace/diff.ts';
import type { ApiItem } from '../trace/profile.ts';
import { guestStatusText } from '../trace/guest.ts';
import { CATEGORIES, podOfScope, type Category } from '../trace/profile-rules.ts';
import { apiNotes, apiSection } from './behavior-apis.ts';
import { networkMermaid, processMermaid } from './behavior-mermaid.ts';
import { behaviorExtraSections } from './behavior-policy.ts';
import { codeBlock } from './markdown.ts';

/** GitHub's limit for comment bodies and check-run output fields. */
export const GITHUB_TEXT_LIMIT = 65_535;

export const CATEGORY_TITLES: Record<Category, string> = {
  processes: 'Processes',
  files: 'Files',
  network: 'Network',
  k8sApi: 'Kubernetes API',
};

/** Custom events of eBPF packages (trace format 1.1): compared like the others, never risky. */
export const CUSTOM_TITLE = 'Custom events (eBPF packages)';
const NO_ITEMS: CategoryDiff = { added: [], removed: [], flaky: [], unchanged: 0 };

export interface BehaviorRenderContext {
  job: string;
  /** e.g. `main`; shown as what the head was compared with. */
  baseRef?: string;
  baseSha?: string;
  headSha?: string;
  /** Link to the full HTML report; the comment links it when it had to be cut. */
  reportUrl?: string;
  /** Show discovery requests (/api, /apis, /version, group listings) in the comment; hidden by default. */
  showDiscovery?: boolean;
  /** Pod label the service graph groups workloads by (default app.kubernetes.io/part-of when pods have it). */
  groupBy?: string;
  limit?: number;
  /** A GitHub Actions run (the katabot action's trace): the report names its workflow, job and run attempt. */
  actions?: ActionsRunRef;
}

/** The GitHub Actions run a behavior report is about. */
export interface ActionsRunRef {
  workflow: string;
  /** The job as GitHub shows it (matrix values included). */
  job: string;
  attempt: number;
  /** The job's (or the run's) page. */
  url?: string;
}

function actionsLine(a: ActionsRunRef): string {
  const attempt = a.url ? `[attempt ${a.attempt}](${a.url})` : `attempt ${a.attempt}`;
  return `GitHub Actions: workflow ${code(a.workflow)} · job ${code(a.job)} · ${attempt}.`;
}

export function behaviorCommentMarker(job: string): string {
  return `<!-- katabot:behavior job=${JSON.stringify(job)} -->`;
}

export function behaviorCheckRunName(job: string): string {
  return `katabot / behavior (${job})`;
}

/** Inline code that survives tables: HTML-escaped, pipes as entities. */
function code(s: string): string {
  const esc = s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '&#124;').replace(/\n/g, ' ');
  return `<code>${esc}</code>`;
}

function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '&#124;');
}

/** The diff as shown: discovery requests hidden unless asked for. */
function visible(d: BehaviorDiff, showDiscovery: boolean): Record<Category, CategoryDiff> & { custom: CategoryDiff; hiddenDiscovery: number } {
  const hide = (c: CategoryDiff): CategoryDiff => ({
    added: c.added.filter((e) => !(e.item as ApiItem).discovery),
    removed: c.removed.filter((e) => !(e.item as ApiItem).discovery),
    flaky: c.flaky.filter((e) => !(e.item as ApiItem).discovery),
    unchanged: c.unchanged,
  });
  const k8sApi = showDiscovery ? d.k8sApi : hide(d.k8sApi);
  const hiddenDiscovery = showDiscovery ? 0
    : (d.k8sApi.added.length - k8sApi.added.length) + (d.k8sApi.removed.length - k8sApi.removed.length) + (d.k8sApi.flaky.length - k8sApi.flaky.length);
  return { processes: d.processes, files: d.files, network: d.network, k8sApi, custom: d.custom ?? NO_ITEMS, hiddenDiscovery };
}

function lostWarning(d: BehaviorDiff): string | undefined {
  const { base, head } = d.lostEvents;
  if (base === 0 && head === 0) return undefined;
  const parts: string[] = [];
  if (head > 0) parts.push(`the head trace lost ${head} event${head === 1 ? '' : 's'}`);
  if (base > 0) parts.push(`the base trace${d.baseRuns > 1 ? 's' : ''} lost ${base} event${base === 1 ? '' : 's'}`);
  return `> [!WARNING]\n> **Lost events:** ${parts.join(' and ')}. Items may be missing from ${head > 0 && base > 0 ? 'both sides' : head > 0 ? 'the head' : 'the base'}, so `
    + `${head > 0 ? 'removals' : 'additions'} may not be real; treat this diff as low confidence.`;
}

/** A Kata guest of the compared node traces and what its trace says about it. */
export interface GuestStatusLine {
  pod: string;
  side: 'head' | 'base';
  text: string;
}

/** Kata guests of node traces: every head guest, and base guests that were not (fully) traced, so a guest that
 * could not be traced (confidential, no BTF, no tracer) is never silently missing. Empty without guests. */
export function guestStatuses(d: BehaviorDiff): GuestStatusLine[] {
  const out: GuestStatusLine[] = [];
  const seen = new Set<string>();
  const sides: Array<['head' | 'base', BehaviorDiff['head'][]]> = [['head', [d.head]], ['base', d.bases]];
  for (const [side, profiles] of sides) {
    for (const g of profiles.flatMap((p) => p.traces.flatMap((t) => t.guests ?? []))) {
      // the base is shown only where it could not be traced: its traced guests are what the head is compared with
      if (side === 'base' && g.status === 'traced' && g.complete !== false) continue;
      const line: GuestStatusLine = { pod: g.pod, side, text: guestStatusText(g) };
      const key = `${line.pod}\0${side}\0${line.text}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(line);
    }
  }
  return out;
}

function guestLines(d: BehaviorDiff): string | undefined {
  const lines = guestStatuses(d).map((g) => `- ${code(g.pod)}${g.side === 'base' ? ' (base)' : ''}: ${escapeText(g.text)}`);
  return lines.length > 0 ? `**Kata guests**\n\n${lines.join('\n')}` : undefined;
}

function comparedWith(d: BehaviorDiff, ctx: BehaviorRenderContext): string {
  const base = [ctx.baseRef ? `\`${ctx.baseRef}\`` : 'the base', ctx.baseSha ? `@ \`${ctx.baseSha.slice(0, 12)}\`` : ''].filter(Boolean).join(' ');
  const runs = d.baseRuns > 1 ? ` (${d.baseRuns} base runs)` : '';
  const head = ctx.headSha ? ` · head \`${ctx.headSha.slice(0, 12)}\`` : '';
  return `Compared with ${base}${runs}${head}.`;
}

function anyCustom(c: CategoryDiff): boolean {
  return c.added.length + c.removed.length + c.flaky.length + c.unchanged > 0;
}

function summaryTable(v: Record<Category, CategoryDiff> & { custom: CategoryDiff }, showFlaky: boolean): string {
  const rows = [showFlaky ? '| | Added | Removed | Flaky | Unchanged |' : '| | Added | Removed | Unchanged |', showFlaky ? '|---|---:|---:|---:|---:|' : '|---|---:|---:|---:|'];
  for (const c of CATEGORIES) {
    const d = v[c];
    const cells = [CATEGORY_TITLES[c], String(d.added.length), String(d.removed.length), ...(showFlaky ? [String(d.flaky.length)] : []), String(d.unchanged)];
    rows.push(`| ${cells.join(' | ')} |`);
  }
  // Only for traces with custom events, so other comments stay as they were.
  if (anyCustom(v.custom)) {
    const d = v.custom;
    rows.push(`| ${[CUSTOM_TITLE, String(d.added.length), String(d.removed.length), ...(showFlaky ? [String(d.flaky.length)] : []), String(d.unchanged)].join(' | ')} |`);
  }
  return rows.join('\n');
}

function riskLines(risky: Array<{ category: Category; entry: DiffEntry }>, max: number): string {
  const lines = risky.slice(0, max).map(({ category, entry }) => `- ${CATEGORY_TITLES[category]}: ${code(entry.item.key)} — ${entry.risk.map(escapeText).join(', ')}`);
  if (risky.length > max) lines.push(`- …and ${risky.length - max} more`);
  return lines.join('\n');
}

interface Shape {
  maxRows: number;
  mermaid: boolean;
}

/** Items of several pods (a node's trace: runc pods, Kata guests and their sandboxes) are grouped by pod, each group
 * under a row naming it; items of one pod or none keep their order. */
export function byPod<S extends string, T extends { item: { scope?: string } }>(entries: Array<[S, T]>): Array<[S, T] | string> {
  const pods = new Set(entries.map(([, e]) => podOfScope(e.item.scope ?? '')));
  if (pods.size < 2) return entries;
  const out: Array<[S, T] | string> = [];
  for (const pod of [...pods].sort()) {
    out.push(pod);
    for (const entry of entries) if (podOfScope(entry[1].item.scope ?? '') === pod) out.push(entry);
  }
  return out;
}

function itemRows(c: CategoryDiff, maxRows: number, moreNote: string): string {
  const entries: Array<[string, DiffEntry]> = [...c.added.map((e) => ['+', e] as [string, DiffEntry]), ...c.removed.map((e) => ['−', e] as [string, DiffEntry])];
  if (entries.length === 0 || maxRows <= 0) return entries.length === 0 ? '' : `_${entries.length} changes; ${moreNote}_`;
  const lines = ['| | Item | Count | Risk |', '|---|---|---:|---|'];
  let shown = 0;
  for (const row of byPod(entries)) {
    if (shown >= maxRows) break;
    if (typeof row === 'string') { lines.push(`| | **${row ? code(row) : 'outside pods'}** | | |`); continue; }
    const [sign, e] = row;
    lines.push(`| ${sign} | ${code(e.item.key)} | ${e.count} | ${e.risk.map(escapeText).join(', ')} |`);
    shown++;
  }
  if (entries.length > maxRows) lines.push(`\n_…and ${entries.length - maxRows} more; ${moreNote}_`);
  return lines.join('\n');
}

function section(title: string, summary: string, body: string): string {
  return `<details><summary><b>${title}</b> · ${summary}</summary>\n\n${body}\n\n</details>`;
}

function moreNote(ctx: BehaviorRenderContext): string {
  return ctx.reportUrl ? `see the [full report](${ctx.reportUrl})` : 'see the full report (`katabot diff --format html`)';
}

/** Everything above the collapsible sections: heading, comparison, lost-events warning, counts, risky items. */
function head(d: BehaviorDiff, ctx: BehaviorRenderContext, v: ReturnType<typeof visible>, maxRisk: number): string {
  const parts = [`### Behavior diff · \`${ctx.job}\``, ctx.actions ? `${actionsLine(ctx.actions)} ${comparedWith(d, ctx)}` : comparedWith(d, ctx)];
  const lost = lostWarning(d);
  if (lost) parts.push(lost);
  const guests = guestLines(d);
  if (guests) parts.push(guests);
  const changed = CATEGORIES.some((c) => v[c].added.length > 0 || v[c].removed.length > 0) || v.custom.added.length + v.custom.removed.length > 0;
  if (!changed) parts.push('**No behavior changes.**');
  const anyFlaky = CATEGORIES.some((c) => v[c].flaky.length > 0) || v.custom.flaky.length > 0;
  parts.push(summaryTable(v, anyFlaky || d.baseRuns > 1));
  const risky = riskyAdditions({ ...d, ...v } as BehaviorDiff);
  if (risky.length > 0) parts.push(`**Risky additions (${risky.length})**\n\n${riskLines(risky, maxRisk)}`);
  parts.push(...apiNotes(d, ctx.showDiscovery ?? false));
  if (v.hiddenDiscovery > 0) parts.push(`<sub>${v.hiddenDiscovery} API discovery change${v.hiddenDiscovery === 1 ? '' : 's'} (/api, /apis, /version, group listings) not shown.</sub>`);
  return parts.join('\n\n');
}

function sections(d: BehaviorDiff, ctx: BehaviorRenderContext, v: ReturnType<typeof visible>, shape: Shape): string {
  const out: string[] = [];
  const note = moreNote(ctx);
  for (const c of CATEGORIES) {
    const cd = v[c];
    if (cd.added.length === 0 && cd.removed.length === 0) continue;
    const body: string[] = [];
    if (shape.mermaid && c === 'processes') { const m = processMermaid(d); if (m) body.push(codeBlock(m, 'mermaid')); }
    if (shape.mermaid && c === 'network') { const m = networkMermaid(d); if (m) body.push(codeBlock(m, 'mermaid')); }
    body.push(itemRows(cd, shape.maxRows, note));
    out.push(section(CATEGORY_TITLES[c], `+${cd.added.length} −${cd.removed.length}`, body.join('\n\n')));
  }
  const api = apiSection(d, { maxRows: shape.maxRows, moreNote: note, showDiscovery: ctx.showDiscovery ?? false });
  if (api) out.push(api);
  if (v.custom.added.length + v.custom.removed.length > 0) {
    // Items are `<package>/<event> field=value …`; the count (events behind the item) is shown, not compared.
    out.push(section(CUSTOM_TITLE, `+${v.custom.added.length} −${v.custom.removed.length}`, itemRows(v.custom, shape.maxRows, note)));
  }
  // policy changes and the service graph (src/render/behavior-policy.ts)
  out.push(...behaviorExtraSections(d, { maxRows: shape.maxRows, mermaid: shape.mermaid, moreNote: note, ...(ctx.reportUrl ? { reportUrl: ctx.reportUrl } : {}), ...(ctx.groupBy ? { groupBy: ctx.groupBy } : {}) }));
  const flaky: string[] = [];
  let nFlaky = 0;
  const flakyGroups: Array<[string, CategoryDiff]> = [...CATEGORIES.map((c) => [CATEGORY_TITLES[c], v[c]] as [string, CategoryDiff]), [CUSTOM_TITLE, v.custom]];
  for (const [title, cd] of flakyGroups) {
    for (const e of cd.flaky) {
      nFlaky++;
      if (flaky.length < shape.maxRows) {
        const p = e.presence;
        flaky.push(`| ${title} | ${code(e.item.key)} | ${p ? `${p.base}/${p.of}` : ''} | ${p?.head ? 'yes' : 'no'} |`);
      }
    }
  }
  if (nFlaky > 0) {
    const table = shape.maxRows > 0 ? ['| | Item | In base runs | In head |', '|---|---|---:|---|', ...flaky].join('\n') : '';
    const more = nFlaky > flaky.length ? `\n\n_…and ${nFlaky - flaky.length} more; ${note}_` : '';
    out.push(section('Flaky', `${nFlaky} item${nFlaky === 1 ? '' : 's'} varied between base runs and are not counted as changes`, table + more));
  }
  return out.join('\n\n');
}

function footer(ctx: BehaviorRenderContext): string {
  return ctx.reportUrl ? `<sub>[Full behavior report](${ctx.reportUrl}) · katabot</sub>` : '<sub>katabot</sub>';
}

const SHAPES: readonly Shape[] = [
  { maxRows: Infinity, mermaid: true },
  { maxRows: 200, mermaid: true },
  { maxRows: 100, mermaid: true },
  { maxRows: 50, mermaid: true },
  { maxRows: 20, mermaid: true },
  { maxRows: 20, mermaid: false },
  { maxRows: 5, mermaid: false },
  { maxRows: 0, mermaid: false },
];

const TRUNCATED = (ctx: BehaviorRenderContext): string =>
  `> [!NOTE]\n> This comment was shortened to fit GitHub's limit; ${moreNote(ctx)} for every item.`;

/** Fits a body into the limit; the last resort cuts it and says so. */
function fit(build: (shape: Shape) => string, ctx: BehaviorRenderContext, limit: number): string {
  for (const [i, shape] of SHAPES.entries()) {
    const body = build(shape);
    const withNote = i === 0 ? body : `${body}\n\n${TRUNCATED(ctx)}`;
    if (withNote.length <= limit) return withNote;
  }
  const tail = `\n\n${TRUNCATED(ctx)}`;
  const body = build(SHAPES[SHAPES.length - 1]!);
  let cut = body.slice(0, Math.max(0, limit - tail.length - 2));
  // do not leave half an HTML entity or tag behind
  cut = cut.replace(/<[^>]*$/, '').replace(/&[^;\s]*$/, '');
  return `${cut}…${tail}`.slice(0, limit);
}

/** The PR comment: marker, counts, lost-events warning, risky items, collapsible sections with mermaid graphs. */
export function renderBehaviorComment(d: BehaviorDiff, ctx: BehaviorRenderContext): string {
  const limit = ctx.limit ?? GITHUB_TEXT_LIMIT;
  const v = visible(d, ctx.showDiscovery ?? false);
  const marker = behaviorCommentMarker(ctx.job);
  return fit((shape) => {
    const maxRisk = Number.isFinite(shape.maxRows) ? Math.max(5, shape.maxRows) : 1000;
    const parts = [marker, head(d, ctx, v, maxRisk)];
    const s = sections(d, ctx, v, shape);
    if (s) parts.push(s);
    parts.push(footer(ctx));
    return parts.join('\n\n');
  }, ctx, limit);
}

export interface BehaviorCheckRun {
  name: string;
  status: 'completed';
  conclusion: 'neutral' | 'action_required';
  output: { title: string; summary: string; text?: string };
}

/**
 * The check run: neutral when nothing risky was added (nothing changed, or only harmless changes),
 * action_required when a risky item was added. Its summary is the comment's summary part.
 */
export function behaviorCheckRun(d: BehaviorDiff, ctx: BehaviorRenderContext): BehaviorCheckRun {
  const limit = ctx.limit ?? GITHUB_TEXT_LIMIT;
  const v = visible(d, ctx.showDiscovery ?? false);
  const risky = riskyAdditions({ ...d, ...v } as BehaviorDiff);
  let added = 0;
  let removed = 0;
  for (const c of CATEGORIES) { added += v[c].added.length; removed += v[c].removed.length; }
  added += v.custom.added.length;
  removed += v.custom.removed.length;
  const title = risky.length > 0 ? `${risky.length} risky addition${risky.length === 1 ? '' : 's'}, ${added} added, ${removed} removed`
    : added + removed === 0 ? 'No behavior changes' : `${added} added, ${removed} removed`;
  const summary = fit((shape) => head(d, ctx, v, Number.isFinite(shape.maxRows) ? Math.max(5, shape.maxRows) : 1000), ctx, limit);
  const text = added + removed + CATEGORIES.reduce((a, c) => a + v[c].flaky.length, 0) + v.custom.flaky.length > 0
    ? fit((shape) => sections(d, ctx, v, shape), ctx, limit) : undefined;
  const run: BehaviorCheckRun = {
    name: behaviorCheckRunName(ctx.job),
    status: 'completed',
    conclusion: risky.length > 0 ? 'action_required' : 'neutral',
    output: { title: title.slice(0, 255), summary },
  };
  if (text) run.output.text = text;
  return run;
}

/** Where a pull request's traced job gets its baseline from: runs of a workflow on the base branch. */
export interface BaselineAdvice {
  job: string;
  baseRef: string;
  headSha: string;
  actions: ActionsRunRef;
  /** The workflows whose base-branch runs make baselines, e.g. `ci-nightly.yaml` or the PR's own workflow. */
  workflows: string[];
  /** Base runs that were looked at but carry no trace of this job (none: the workflows had no runs there). */
  looked: number;
}

/**
 * The check run when no baseline exists yet: it says so, and which run will make one. Never a diff against nothing.
 */
export function noBaselineCheckRun(a: BaselineAdvice): BehaviorCheckRun {
  const where = a.workflows.map((w) => code(w)).join(' or ');
  const summary = [
    `### Behavior diff · \`${a.job}\``,
    `${actionsLine(a.actions)} Head \`${a.headSha.slice(0, 12)}\`.`,
    `**No baseline yet:** no successful push or scheduled run of ${where} on \`${a.baseRef}\` has uploaded a katabot trace of ${code(a.job)}`
      + (a.looked > 0 ? ` (${a.looked} run${a.looked === 1 ? '' : 's'} looked at).` : '.'),
    `The next push to \`${a.baseRef}\` or scheduled (nightly) run of ${where} with the katabot action makes one; this check is filled in when the job runs again after it. Nothing was compared.`,
  ].join('\n\n');
  return {
    name: behaviorCheckRunName(a.job),
    status: 'completed',
    conclusion: 'neutral',
    output: { title: 'No baseline yet', summary: summary.slice(0, GITHUB_TEXT_LIMIT) },
  };
}
