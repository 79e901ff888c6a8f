// The katabot action's decisions, pure: its inputs read and checked, where its files go, the tracer's command
// line, the artifact's manifest and name, and the job summary. main.ts and post.ts carry them out on the runner.
import {
  ARTIFACT_PREFIX, DISPATCH_INPUTS, MANIFEST_FORMAT, MANIFEST_VERSION, type ActionManifest, type ActionRunFacts, type ActionScope,
} from '../src/trace/action-manifest.ts';
import { TRACE_FORMAT } from '../src/trace/format.ts';
import type { TraceFooter, TraceHeader } from '../src/trace/format.ts';

export { ARTIFACT_PREFIX, MANIFEST_FILE } from '../src/trace/action-manifest.ts';
/** Files in the artifact. */
export const ARTIFACT_FILES = { trace: 'trace.jsonl', ignore: 'ignore.txt', auditDir: 'audit', openapi: 'openapi-v2.json', guestDir: 'guest', log: 'tracer.log' } as const;

export type Scope = ActionScope;

export interface ActionInputs {
  /** `/trace --probe` list; empty: all of katabot's built-in probes. */
  probes: string;
  /** Ignore rules (docs/diff-format.md#ignores), one a line. */
  ignore: string;
  /** The job's name in behavior reports: stable across runs, distinct per matrix leg. */
  name: string;
  artifactName: string;
  scope: Scope;
  /** apiserver audit logs to upload, one path a line. */
  auditLogs: string[];
  /** The cluster's /openapi/v2 document, to map the audit log to operations. */
  openapi: string;
  /** Run by the post step before it stops the tracer (a guest tracer's collector), with KATABOT_TRACE_DIR set. */
  collectCommand: string;
  install: boolean;
  allowAnyBpftrace: boolean;
  readyTimeoutSeconds: number;
  retentionDays: number | undefined;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9 ._()+,=-]{0,99}$/;
const PROBES_RE = /^[a-z0-9@.,+-]*$/;

/** A name safe in an artifact name, a file name and a cgroup name. */
export function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 80) || 'job';
}

export function artifactNameFor(name: string): string {
  return `${ARTIFACT_PREFIX}${slug(name)}`;
}

function bool(name: string, value: string): boolean {
  const v = value.trim().toLowerCase();
  if (v === '' || v === 'false' || v === '0' || v === 'no') return false;
  if (v === 'true' || v === '1' || v === 'yes') return true;
  throw new Error(`input ${name}: ${JSON.stringify(value)} is not true or false`);
}

export function parseScope(value: string): Scope {
  const v = value.trim();
  if (v === '' || v === 'runner') return { kind: 'runner' };
  if (v === 'steps') return { kind: 'steps' };
  if (v.startsWith('cgroup:')) {
    const path = v.slice('cgroup:'.length).trim();
    if (!path.startsWith('/') || path.split('/').includes('..')) throw new Error(`input scope: cgroup:${path} is not an absolute cgroup path such as cgroup:/system.slice`);
    return { kind: 'cgroup', path };
  }
  throw new Error(`input scope: ${JSON.stringify(value)} is not runner, steps or cgroup:/PATH`);
}

/** The inputs, checked; a bad one throws one line naming it (main.ts puts it in the summary, the job goes on). */
export function parseInputs(get: (name: string) => string, env: Record<string, string | undefined>): ActionInputs {
  const name = (get('name') || env['GITHUB_JOB'] || 'job').trim();
  if (!NAME_RE.test(name)) throw new Error(`input name: ${JSON.stringify(name)} is not a job name (letters, digits, spaces and ._()+,=-, at most 100)`);
  const probes = get('probes').replace(/\s+/g, '');
  if (!PROBES_RE.test(probes)) throw new Error(`input probes: ${JSON.stringify(probes)} is not a comma-separated list of package names`);
  const timeout = Number(get('ready-timeout') || '120');
  if (!Number.isFinite(timeout) || timeout <= 0) throw new Error(`input ready-timeout: ${JSON.stringify(get('ready-timeout'))} is not a number of seconds`);
  const retention = get('retention-days').trim();
  const retentionDays = retention === '' ? undefined : Number(retention);
  if (retentionDays !== undefined && (!Number.isInteger(retentionDays) || retentionDays < 1 || retentionDays > 90)) throw new Error(`input retention-days: ${JSON.stringify(retention)} is not a whole number of days from 1 to 90`);
  const artifactName = get('artifact-name').trim() || artifactNameFor(name);
  if (!artifactName.startsWith(ARTIFACT_PREFIX) || /[":<>|*?\\/\r\n]/.test(artifactName)) {
    throw new Error(`input artifact-name: ${JSON.stringify(artifactName)} must start with ${ARTIFACT_PREFIX} (katabot finds traces by it) and hold no " : < > | * ? \\ /`);
  }
  return {
    probes,
    ignore: get('ignore'),
    name,
    artifactName,
    scope: parseScope(get('scope')),
    auditLogs: get('audit-log').split('\n').map((l) => l.trim()).filter((l) => l !== ''),
    openapi: get('openapi').trim(),
    collectCommand: get('collect-command').trim(),
    install: bool('install', get('install') || 'true'),
    allowAnyBpftrace: bool('allow-any-bpftrace', get('allow-any-bpftrace')),
    readyTimeoutSeconds: timeout,
    retentionDays,
  };
}

/** Where the action keeps its files on the runner: `$RUNNER_TEMP/katabot/<name>`. */
export interface ActionPaths {
  dir: string;
  /** Uploaded as the artifact, whole; also KATABOT_TRACE_DIR for hooks (guest traces go to its guest/). */
  artifactDir: string;
  trace: string;
  ready: string;
  stop: string;
  log: string;
  /** `katabot-traced` lives here (scope steps). */
  binDir: string;
}

export function actionPaths(runnerTemp: string, name: string): ActionPaths {
  const dir = `${runnerTemp.replace(/\/+$/, '')}/katabot/${slug(name)}`;
  const artifactDir = `${dir}/artifact`;
  return { dir, artifactDir, trace: `${artifactDir}/${ARTIFACT_FILES.trace}`, ready: `${dir}/ready`, stop: `${dir}/stop`, log: `${dir}/${ARTIFACT_FILES.log}`, binDir: `${dir}/bin` };
}

/** The cgroup later steps join through `katabot-traced` (scope steps). */
export function stepsCgroup(env: Record<string, string | undefined>, name: string): string {
  return `/katabot/steps-${slug(env['GITHUB_RUN_ID'] ?? 'run')}-${slug(env['GITHUB_RUN_ATTEMPT'] ?? '1')}-${slug(name)}`;
}

/** `katabot trace --host …`, as the bundled tracer takes it. */
export function tracerArgs(inputs: ActionInputs, paths: ActionPaths, env: Record<string, string | undefined>): string[] {
  const args = ['trace', '--host', '--no-summary', '--out', paths.trace, '--ready-file', paths.ready, '--until-file', paths.stop];
  if (inputs.scope.kind === 'cgroup') args.push('--cgroup', inputs.scope.path);
  if (inputs.scope.kind === 'steps') args.push('--cgroup', stepsCgroup(env, inputs.name));
  if (inputs.probes !== '') args.push('--probe', inputs.probes);
  return args;
}

/** `katabot-traced CMD…`: joins the traced cgroup, then becomes CMD (scope steps). */
export function tracedWrapper(cgroupDir: string, asRoot: boolean): string {
  const join = asRoot ? `echo $$ > '${cgroupDir}/cgroup.procs'` : `echo $$ | sudo -n tee '${cgroupDir}/cgroup.procs' > /dev/null`;
  return `#!/bin/sh
# katabot-traced CMD ARGS…: runs CMD inside the cgroup the katabot action traces (scope: steps).
${join} || echo "katabot-traced: cannot join ${cgroupDir}; $1 runs untraced" >&2
exec "$@"
`;
}

/** What the post step found; the manifest and the summary say it. */
export type TraceStatus =
  | { state: 'traced'; header: TraceHeader; footer: TraceFooter | undefined }
  | { state: 'failed'; reason: string };

export type RunFacts = ActionRunFacts;

interface EventPayload {
  pull_request?: { number?: number; head?: { sha?: string }; base?: { ref?: string } };
  /** workflow_dispatch inputs: a `/trace` dispatch names the PR (docs/github-action.md#trace). */
  inputs?: Record<string, unknown>;
}

export function runFacts(env: Record<string, string | undefined>, event: EventPayload | undefined): RunFacts {
  const facts: RunFacts = {
    repository: env['GITHUB_REPOSITORY'] ?? '',
    workflow: env['GITHUB_WORKFLOW'] ?? '',
    workflowRef: env['GITHUB_WORKFLOW_REF'] ?? '',
    job: env['GITHUB_JOB'] ?? '',
    runId: Number(env['GITHUB_RUN_ID'] ?? 0),
    runAttempt: Number(env['GITHUB_RUN_ATTEMPT'] ?? 1),
    event: env['GITHUB_EVENT_NAME'] ?? '',
    sha: env['GITHUB_SHA'] ?? '',
    ref: env['GITHUB_REF'] ?? '',
  };
  const pr = event?.pull_request;
  if (pr?.number !== undefined && pr.head?.sha && pr.base?.ref) facts.pull = { number: pr.number, headSha: pr.head.sha, baseRef: pr.base.ref };
  const number = Number(event?.inputs?.[DISPATCH_INPUTS.pr]);
  const sha = String(event?.inputs?.[DISPATCH_INPUTS.sha] ?? '');
  if (!facts.pull && Number.isInteger(number) && number > 0 && /^[0-9a-f]{40}$/.test(sha)) {
    facts.pull = { number, headSha: sha, baseRef: env['GITHUB_REF_NAME'] ?? facts.ref.replace(/^refs\/heads\//, '') };
  }
  return facts;
}

export type Manifest = ActionManifest;

function eventTotal(footer: TraceFooter | undefined): number {
  return footer ? Object.values(footer.counts).reduce((a, b) => a + b, 0) : 0;
}

export function buildManifest(inputs: ActionInputs, run: RunFacts, status: TraceStatus, files: Manifest['files']): Manifest {
  return {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    name: inputs.name,
    run,
    scope: inputs.scope,
    probes: inputs.probes,
    files,
    status: status.state === 'traced' ? { state: 'traced', lost: status.footer?.lost.total ?? -1, events: eventTotal(status.footer) } : status,
  };
}

/** The first line (header) and the last (footer) of a trace, as the post step reads them. */
export function headerAndFooter(first: string, last: string): { header: TraceHeader; footer: TraceFooter | undefined } | undefined {
  let header: TraceHeader;
  try {
    header = JSON.parse(first) as TraceHeader;
  } catch {
    return undefined;
  }
  if (header.type !== 'header' || header.format !== TRACE_FORMAT) return undefined;
  try {
    const f = JSON.parse(last) as TraceFooter;
    return { header, footer: f.type === 'footer' ? f : undefined };
  } catch {
    return { header, footer: undefined };
  }
}

/** The job summary: what was traced, events by kind, lost events; or why nothing was. */
export function summaryMarkdown(inputs: Pick<ActionInputs, 'name' | 'artifactName' | 'scope'>, status: TraceStatus, upload: { ok: true; id?: number; size?: number } | { ok: false; reason: string } | undefined): string {
  const lines = [`### katabot trace · \`${inputs.name}\``, ''];
  if (status.state === 'failed') {
    lines.push(`**Not traced:** ${status.reason}`, '', 'The job itself is not affected: tracing never fails it.');
    return lines.join('\n') + '\n';
  }
  const scope = inputs.scope.kind === 'runner' ? 'the whole runner' : inputs.scope.kind === 'steps' ? 'the commands run through `katabot-traced`' : `cgroup \`${inputs.scope.path}\``;
  lines.push(`Traced ${scope} with ${status.header.source} ${status.header.bpftrace ?? ''} on kernel \`${status.header.kernel ?? '?'}\`.`.replace(/ {2,}/g, ' '), '');
  const f = status.footer;
  if (!f) {
    lines.push('> [!WARNING]', '> The trace has no footer: the tracer did not stop cleanly. Counts are unknown and the trace is low confidence.', '');
  } else {
    lines.push('| exec | exit | open | connect | accept | listen | dns | lost |', '|---:|---:|---:|---:|---:|---:|---:|---:|');
    lines.push(`| ${[f.counts.exec, f.counts.exit, f.counts.open, f.counts.connect, f.counts.accept, f.counts.listen, f.counts.dns, f.lost.total].join(' | ')} |`, '');
    if (f.lost.total > 0) lines.push(`> [!WARNING]`, `> ${f.lost.total} event${f.lost.total === 1 ? ' was' : 's were'} lost (reported ${f.lost.reported}, gap ${f.lost.gap}, incomplete ${f.lost.incomplete}): the behavior diff of this run is low confidence.`, '');
    if (f.malformed > 0) lines.push(`${f.malformed} line${f.malformed === 1 ? '' : 's'} of tracer output could not be read.`, '');
    if (f.custom?.failed?.length) lines.push(`Packages that did not start: ${f.custom.failed.map((x) => `\`${x}\``).join(', ')}.`, '');
  }
  if (upload?.ok) lines.push(`Uploaded as artifact \`${inputs.artifactName}\`${upload.size !== undefined ? ` (${upload.size} bytes)` : ''}; katabot diffs it against the base branch and reports on the pull request.`);
  else if (upload) lines.push(`**Not uploaded:** ${upload.reason}`);
  return lines.join('\n') + '\n';
}
