// `katabot.json`, the manifest in every artifact the katabot action uploads: which run and job the trace is of,
// what was traced, and the files beside it. Written by action/post.ts, read by katabot when it picks the artifact
// up (src/behavior/actions-artifact.ts). Pure.

/** Every katabot trace artifact's name starts with this; katabot looks for it in completed workflow runs. */
export const ARTIFACT_PREFIX = 'katabot-trace-';
export const MANIFEST_FILE = 'katabot.json';
export const MANIFEST_FORMAT = 'katabot-actions-trace';
export const MANIFEST_VERSION = 1;
/** The workflow_dispatch inputs of a workflow `/trace` dispatches for a PR (docs/github-action.md#trace). */
export const DISPATCH_INPUTS = { trace: 'katabot-trace', pr: 'katabot-pr', sha: 'katabot-sha' } as const;

/** What the action traced: the whole runner, one cgroup subtree, or the commands run through `katabot-traced`. */
export type ActionScope = { kind: 'runner' } | { kind: 'cgroup'; path: string } | { kind: 'steps' };

/** The run the artifact belongs to, from the variables Actions sets and the event payload. */
export interface ActionRunFacts {
  repository: string;
  workflow: string;
  workflowRef: string;
  /** The job's id in the workflow (GITHUB_JOB). */
  job: string;
  runId: number;
  runAttempt: number;
  event: string;
  sha: string;
  ref: string;
  /** The PR a pull_request / pull_request_target event is about, or a `/trace` dispatch names: number, head, base. */
  pull?: { number: number; headSha: string; baseRef: string };
}

export interface ActionManifest {
  format: typeof MANIFEST_FORMAT;
  version: number;
  /** The job's name in behavior reports (the action's input `name`). */
  name: string;
  run: ActionRunFacts;
  scope: ActionScope;
  probes: string;
  /** Files in the artifact, relative to its root. */
  files: { trace?: string; audit: string[]; openapi?: string; guest: string[]; ignore?: string };
  status: { state: 'traced'; lost: number; events: number } | { state: 'failed'; reason: string };
}

const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
/** Paths inside the zip: relative, no `..`. */
const isEntry = (v: unknown): v is string => typeof v === 'string' && v !== '' && !v.startsWith('/') && !v.split('/').includes('..');

/** Why a parsed katabot.json is not a manifest this katabot reads, or undefined. */
export function manifestProblem(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not a JSON object';
  const m = v as Record<string, unknown>;
  if (m['format'] !== MANIFEST_FORMAT) return `format is ${JSON.stringify(m['format'])}, expected ${MANIFEST_FORMAT}`;
  if (m['version'] !== MANIFEST_VERSION) return `version ${JSON.stringify(m['version'])} is not ${MANIFEST_VERSION}`;
  if (typeof m['name'] !== 'string' || m['name'] === '') return 'name is missing';
  const run = m['run'] as Record<string, unknown> | undefined;
  if (typeof run !== 'object' || run === null || typeof run['runId'] !== 'number' || typeof run['workflow'] !== 'string') return 'run is missing or incomplete';
  const files = m['files'] as Record<string, unknown> | undefined;
  if (typeof files !== 'object' || files === null) return 'files is missing';
  if (files['trace'] !== undefined && !isEntry(files['trace'])) return 'files.trace is not a path inside the artifact';
  for (const list of ['audit', 'guest'] as const) {
    if (!isStringList(files[list]) || !(files[list] as string[]).every(isEntry)) return `files.${list} is not a list of paths inside the artifact`;
  }
  for (const one of ['openapi', 'ignore'] as const) if (files[one] !== undefined && !isEntry(files[one])) return `files.${one} is not a path inside the artifact`;
  return undefined;
}
