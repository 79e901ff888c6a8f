// PROW_CONFIG (Prow's config.yaml) and JOB_CONFIG (Prow's job config files), decoded as Prow decodes them
// (go-yaml.ts) and validated where katabot relies on them. Pure.
//
// Policy: values take the Go types Prow's structs give them; what Prow itself would reject in the fields katabot
// uses is rejected with a one-line error naming file, line and key; every other key of config.yaml is kept as
// written (Prow's config has hundreds), so katabot never refuses a config Prow accepts for reasons of its own.
import type { DecorationConfig, JobConfig, Periodic, Postsubmit, Presubmit, ProwConfig } from './prow-types.ts';
import { ConfigError, formatKeyPath, type KeyPath } from './errors.ts';
import { decodeGoYaml, positionOf, type Position } from './go-yaml.ts';
import { isPlainObject, typeName } from './yaml.ts';
import { compileGoRegExp, goRegExpProblem } from './go-regexp.ts';
import { isValidLabelKey, isValidLabelValue } from './k8s-labels.ts';
import { DEFAULT_NAMESPACE } from './prow-types.ts';

/** config.go jobNameRegex */
const JOB_NAME_RE = /^[A-Za-z0-9-._]+$/;

/** Labels decoration reserves (decorate.Labels() plus the build id); a job may not set them. */
const RESERVED_LABELS = new Set(['created-by-prow', 'prow.k8s.io/type', 'prow.k8s.io/id', 'prow.k8s.io/build-id']);

const PATH_STRATEGIES = ['legacy', 'single', 'explicit'];

type Path = Array<string | number>;

/** Raises a ConfigError for `path`; `where` finds its line (decoding the file again, only on this error path). */
type Fail = (path: KeyPath, problem: string) => never;

function failer(file: string, text: string | undefined, root: () => unknown): Fail {
  return (path, problem) => {
    let pos: Position | undefined;
    if (text !== undefined) {
      const positions = new WeakMap<object, Map<string | number, Position>>();
      try {
        const again = decodeGoYaml(text, file, root() as never, { positions });
        pos = positionOf(positions, again.value, path);
      } catch {
        pos = undefined;
      }
    }
    throw new ConfigError(file, path, problem, pos ? { line: pos.line, column: pos.column } : {});
  };
}

function checkRegex(fail: Fail, source: string, path: KeyPath): void {
  const problem = goRegExpProblem(source);
  if (problem !== undefined) fail(path, `invalid regular expression ${JSON.stringify(source)}: ${problem}`);
}

function checkUrl(fail: Fail, value: string, path: KeyPath): void {
  let ok = false;
  try {
    const u = new URL(value);
    ok = u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    ok = false;
  }
  if (!ok) fail(path, `must be an http(s) URL, got ${JSON.stringify(value)}`);
}

/** The decoration-config values katabot reads (job URLs, bucket paths). */
function checkDecorationConfig(fail: Fail, dc: DecorationConfig, path: Path): void {
  const gcs = dc.gcs_configuration;
  if (!gcs) return;
  const gp = [...path, 'gcs_configuration'];
  if (gcs.path_strategy !== undefined && !PATH_STRATEGIES.includes(gcs.path_strategy)) {
    fail([...gp, 'path_strategy'], `must be one of ${PATH_STRATEGIES.join(', ')}, got ${JSON.stringify(gcs.path_strategy)}`);
  }
  if (gcs.job_url_prefix) checkUrl(fail, gcs.job_url_prefix, [...gp, 'job_url_prefix']);
}

const NAMESPACE_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Where ProwJobs go: the environment's PROWJOB_NAMESPACE when set, else config.yaml's prowjob_namespace (the only
 * namespace plank watches), else Prow's default.
 */
export function prowJobNamespace(override: string | undefined, prow: ProwConfig): string {
  return override || prow.prowjob_namespace || DEFAULT_NAMESPACE;
}

/**
 * Parses Prow's config.yaml. `plank.default_decoration_configs` (the older map form) is converted to
 * `plank.default_decoration_config_entries` as Prow does ('*' first, then orgs, then org/repos; Prow iterates a
 * Go map there, katabot sorts by name); the deprecated `plank.job_url_prefix` becomes `job_url_prefix_config['*']`.
 */
export function parseProwConfig(text: string, file: string): ProwConfig {
  const raw = decodeGoYaml(text, file, { struct: 'ProwConfig' }).value;
  if (raw === undefined) return {};
  return prowConfigFromValue(raw as Record<string, unknown>, file, text);
}

/** Validates a decoded config.yaml (see parseProwConfig). `text`, when given, lets errors name a line. */
function prowConfigFromValue(raw: Record<string, unknown>, file: string, text?: string): ProwConfig {
  const fail = failer(file, text, () => ({ struct: 'ProwConfig' }));
  const cfg = raw as ProwConfig;
  for (const key of ['prowjob_namespace', 'pod_namespace'] as const) {
    const v = cfg[key];
    if (v !== undefined && v !== '' && !NAMESPACE_RE.test(v)) fail([key], `must be a Kubernetes namespace name, got ${JSON.stringify(v)}`);
  }
  (cfg.prowjob_default_entries ?? []).forEach((e, i) => {
    if (!e.config) fail(['prowjob_default_entries', i, 'config'], 'is required');
  });
  const plank = cfg.plank;
  if (plank) {
    const pp: Path = ['plank'];
    const prefixes = { ...(plank.job_url_prefix_config ?? {}) };
    for (const [k, v] of Object.entries(prefixes)) if (v !== '') checkUrl(fail, v, [...pp, 'job_url_prefix_config', k]);
    const legacy = plank['job_url_prefix'];
    if (legacy !== undefined && legacy !== null && typeof legacy !== 'string') fail([...pp, 'job_url_prefix'], `must be a string, got ${typeName(legacy)}`);
    const legacyPrefix = typeof legacy === 'string' ? legacy : '';
    if (legacyPrefix) {
      checkUrl(fail, legacyPrefix, [...pp, 'job_url_prefix']);
      if (!prefixes['*']) prefixes['*'] = legacyPrefix;
    }
    if (Object.keys(prefixes).length > 0 || plank.job_url_prefix_config !== undefined) plank.job_url_prefix_config = prefixes;
    const entries = plank.default_decoration_config_entries;
    const map = plank.default_decoration_configs;
    if (entries && entries.length > 0 && map && Object.keys(map).length > 0) {
      fail([...pp, 'default_decoration_configs'], 'plank.default_decoration_configs and plank.default_decoration_config_entries are mutually exclusive, use one or the other');
    }
    if (map && Object.keys(map).length > 0) {
      const keys = Object.keys(map);
      const ordered = [
        ...keys.filter((k) => k === '*'),
        ...keys.filter((k) => k !== '*' && !k.includes('/')).sort(),
        ...keys.filter((k) => k !== '*' && k.includes('/')).sort(),
      ];
      plank.default_decoration_config_entries = ordered.map((k) => {
        const dc = map[k] ?? {};
        checkDecorationConfig(fail, dc, [...pp, 'default_decoration_configs', k]);
        return { repo: k, config: dc };
      });
    } else if (entries) {
      entries.forEach((e, i) => {
        if (!e.config) fail([...pp, 'default_decoration_config_entries', i, 'config'], 'is required');
        checkDecorationConfig(fail, e.config, [...pp, 'default_decoration_config_entries', i, 'config']);
      });
    }
  }
  return cfg;
}

// ---------------------------------------------------------------------------------------------------------------
// Job config

interface Brancher { branches?: string[]; skip_branches?: string[] }

/** Prow's Brancher.Intersects: could two jobs with these branch lists run for the same branch? */
function branchersIntersect(a: Brancher, b: Brancher, shouldRun: (br: Brancher, branch: string) => boolean): boolean {
  const aB = a.branches ?? [];
  const aS = a.skip_branches ?? [];
  const bB = b.branches ?? [];
  const bS = b.skip_branches ?? [];
  if ((aB.length === 0 && aS.length === 0) || (bB.length === 0 && bS.length === 0)) return true;
  if (aB.length > 0) {
    if (bB.length > 0) return aB.some((x) => bB.includes(x));
    return [...new Set(aB)].sort().some((x) => shouldRun(b, x));
  }
  if (bB.length === 0) return true;
  return branchersIntersect(b, a, shouldRun);
}

/** Compiled branch regexes by source: the same lists repeat across release-branch job files. */

function brancherShouldRun(br: Brancher, branch: string): boolean {
  const branches = br.branches ?? [];
  const skip = br.skip_branches ?? [];
  if (branches.length === 0 && skip.length === 0) return true;
  // compileGoRegExp caches per source, so a branch list shared by many jobs is compiled once.
  const test = (list: string[]): boolean => compileGoRegExp(list.join('|')).test(branch);
  if (skip.length > 0 && test(skip)) return false;
  return branches.length === 0 || test(branches);
}

function checkLabels(fail: Fail, job: Presubmit | Postsubmit | Periodic, path: Path): void {
  for (const [k, v] of Object.entries(job.labels ?? {})) {
    if (!isValidLabelKey(k)) fail([...path, 'labels', k], 'is not a valid Kubernetes label key');
    if (RESERVED_LABELS.has(k)) fail([...path, 'labels', k], 'is reserved for Prow');
    if (!isValidLabelValue(v)) fail([...path, 'labels', k], `value ${JSON.stringify(v)} is not a valid Kubernetes label value (63 characters or fewer: alphanumerics, '-', '_', '.', starting and ending alphanumeric)`);
  }
}

/** Checks shared by presubmits, postsubmits and periodics (Prow's validateJobBase, as far as katabot relies on it). */
function checkJobBase(fail: Fail, job: Presubmit | Postsubmit | Periodic, path: Path): void {
  if (!job.name) fail([...path, 'name'], 'is required');
  if (!JOB_NAME_RE.test(job.name)) fail([...path, 'name'], `${JSON.stringify(job.name)} must match ${JOB_NAME_RE.source}`);
  for (const key of ['max_concurrency', 'clone_depth'] as const) {
    const v = job[key];
    if (v !== undefined && v < 0) fail([...path, key], `must be a non-negative integer, got ${v}`);
  }
  checkLabels(fail, job, path);
  const agent = job.agent;
  if ((agent === undefined || agent === '' || agent === 'kubernetes') && job.spec === undefined) {
    fail([...path, 'spec'], 'is required for a job run by the kubernetes agent');
  }
  if (job.spec && (job.spec.containers ?? []).length === 0) fail([...path, 'spec', 'containers'], 'must list at least one container');
  if (job.decoration_config) checkDecorationConfig(fail, job.decoration_config, [...path, 'decoration_config']);
  (job.extra_refs ?? []).forEach((r, i) => {
    for (const key of ['org', 'repo'] as const) if (!r[key]) fail([...path, 'extra_refs', i, key], 'is required');
  });
  for (const key of ['branches', 'skip_branches'] as const) {
    const list = (job as Brancher)[key];
    if (list && list.length > 0) checkRegex(fail, list.join('|'), [...path, key]);
  }
}

function checkChangeRules(fail: Fail, job: Presubmit | Postsubmit, path: Path): void {
  const { always_run: alwaysRun, run_if_changed: ric, skip_if_only_changed: sioc } = job;
  if (ric && sioc) fail([...path, 'skip_if_only_changed'], 'run_if_changed and skip_if_only_changed are mutually exclusive');
  if (alwaysRun && ric) fail([...path, 'run_if_changed'], 'always_run and run_if_changed are mutually exclusive');
  if (alwaysRun && sioc) fail([...path, 'skip_if_only_changed'], 'always_run and skip_if_only_changed are mutually exclusive');
  if (ric) checkRegex(fail, ric, [...path, 'run_if_changed']);
  if (sioc) checkRegex(fail, sioc, [...path, 'skip_if_only_changed']);
}

function checkPresubmit(fail: Fail, p: Presubmit, path: Path): void {
  checkJobBase(fail, p, path);
  checkChangeRules(fail, p, path);
  const trigger = p.trigger ?? '';
  const rerun = p.rerun_command ?? '';
  if ((trigger === '') !== (rerun === '')) {
    fail([...path, trigger === '' ? 'trigger' : 'rerun_command'], 'trigger and rerun_command must be set together (or neither, for the /test <name> defaults)');
  }
  if (trigger !== '') {
    checkRegex(fail, trigger, [...path, 'trigger']);
    if (!compileGoRegExp(trigger).test(rerun)) fail([...path, 'rerun_command'], `${JSON.stringify(rerun)} does not match trigger ${JSON.stringify(trigger)}`);
  }
}

function checkPostsubmit(fail: Fail, p: Postsubmit, path: Path): void {
  checkJobBase(fail, p, path);
  checkChangeRules(fail, p, path);
}

function checkPeriodic(fail: Fail, p: Periodic, path: Path): void {
  checkJobBase(fail, p, path);
  const set = [p.interval, p.minimum_interval, p.cron].filter((x) => x !== undefined && x !== '').length;
  if (set !== 1) fail(path, 'a periodic needs exactly one of cron, interval and minimum_interval');
}

/** A Prow preset: a job whose labels include all of `labels` gets its env, volumes, mounts and tolerations. */
export interface Preset {
  labels?: Record<string, string>;
  env?: unknown[];
  volumes?: unknown[];
  volumeMounts?: unknown[];
  tolerations?: unknown[];
}

/** Where a job was written: its file, key path and line (for duplicate-name messages). */
export interface JobOrigin { file: string; path: Path; line?: number }

/** One job config file, decoded and validated, presets not yet applied. Plain data (it crosses worker threads). */
export interface JobFile {
  path: string;
  presets: Preset[];
  presubmits: Record<string, Presubmit[]>;
  postsubmits: Record<string, Postsubmit[]>;
  periodics: Periodic[];
  decorate_all_jobs?: boolean;
  /** Lines of the jobs, parallel to the lists above. */
  lines: { presubmits: Record<string, number[]>; postsubmits: Record<string, number[]>; periodics: number[] };
}

const JOB_LINE_TYPES = new Set(['Presubmit', 'Postsubmit', 'Periodic']);

/**
 * Decodes and checks one job config file (`presubmits: {org/repo: [...]}`, `postsubmits`, `periodics`,
 * `presets`, `decorate_all_jobs`; other top-level keys are ignored, so Prow's config.yaml may be passed too):
 * job names, trigger/rerun_command pairing, the mutual exclusion of always_run / run_if_changed /
 * skip_if_only_changed, Go RE2 regexes, label syntax. Throws a one-line ConfigError naming file, line and key.
 */
export function parseJobFile(path: string, text: string): JobFile {
  const jobLines = new WeakMap<object, number>();
  const raw = decodeGoYaml(text, path, { struct: 'JobConfig' }, { onStruct: (type, value, pos) => { if (JOB_LINE_TYPES.has(type)) jobLines.set(value, pos.line); } }).value as
    | { presets?: Preset[]; presubmits?: Record<string, Presubmit[]>; postsubmits?: Record<string, Postsubmit[]>; periodics?: Periodic[]; decorate_all_jobs?: boolean }
    | undefined;
  const out: JobFile = { path, presets: [], presubmits: {}, postsubmits: {}, periodics: [], lines: { presubmits: {}, postsubmits: {}, periodics: [] } };
  if (raw === undefined) return out;
  const fail = failer(path, text, () => ({ struct: 'JobConfig' }));
  if (raw.decorate_all_jobs !== undefined) out.decorate_all_jobs = raw.decorate_all_jobs;
  out.presets = raw.presets ?? [];
  out.presets.forEach((p, i) => {
    for (const key of ['env', 'volumes', 'volumeMounts'] as const) {
      (p[key] ?? []).forEach((x, j) => {
        if (!isPlainObject(x) || !x['name']) fail(['presets', i, key, j, 'name'], 'is required');
      });
    }
  });
  for (const kind of ['presubmits', 'postsubmits'] as const) {
    for (const [orgRepo, list] of Object.entries(raw[kind] ?? {})) {
      if (!/^[^/\s]+\/[^\s]+$/.test(orgRepo)) fail([kind, orgRepo], 'keys must be org/repo');
      if (list === null) continue;
      list.forEach((job, i) => {
        const p: Path = [kind, orgRepo, i];
        if (kind === 'presubmits') checkPresubmit(fail, job as Presubmit, p);
        else checkPostsubmit(fail, job as Postsubmit, p);
      });
      (out[kind] as Record<string, Array<Presubmit | Postsubmit>>)[orgRepo] = list;
      out.lines[kind][orgRepo] = list.map((j) => jobLines.get(j) ?? 0);
    }
  }
  (raw.periodics ?? []).forEach((job, i) => checkPeriodic(fail, job, ['periodics', i]));
  out.periodics = raw.periodics ?? [];
  out.lines.periodics = out.periodics.map((j) => jobLines.get(j) ?? 0);
  return out;
}

/** One `.prow.yaml` or `.prow/*.yaml` file, decoded as Prow's ProwYAML and checked; presets not yet applied. */
export interface ProwYamlFile {
  path: string;
  presets: Preset[];
  presubmits: Presubmit[];
  postsubmits: Postsubmit[];
  lines: { presubmits: number[]; postsubmits: number[] };
}

/** Decodes and checks an in-repo config file (ReadProwYAML): jobs are lists here, not maps by org/repo. */
export function parseProwYamlFile(path: string, text: string): ProwYamlFile {
  const jobLines = new WeakMap<object, number>();
  const raw = decodeGoYaml(text, path, { struct: 'ProwYAML' }, { onStruct: (type, value, pos) => { if (JOB_LINE_TYPES.has(type)) jobLines.set(value, pos.line); } }).value as
    | { presets?: Preset[]; presubmits?: Presubmit[]; postsubmits?: Postsubmit[] }
    | undefined;
  const fail = failer(path, text, () => ({ struct: 'ProwYAML' }));
  const presubmits = raw?.presubmits ?? [];
  const postsubmits = raw?.postsubmits ?? [];
  presubmits.forEach((p, i) => checkPresubmit(fail, p, ['presubmits', i]));
  postsubmits.forEach((p, i) => checkPostsubmit(fail, p, ['postsubmits', i]));
  return {
    path,
    presets: raw?.presets ?? [],
    presubmits,
    postsubmits,
    lines: { presubmits: presubmits.map((j) => jobLines.get(j) ?? 0), postsubmits: postsubmits.map((j) => jobLines.get(j) ?? 0) },
  };
}

/** Prow's mergePreset test: the job has every label of the preset (a preset without labels matches every job). */
export function presetMatches(preset: Preset, labels: Record<string, string> | undefined): boolean {
  return Object.entries(preset.labels ?? {}).every(([k, v]) => labels?.[k] === v);
}

/** Go's cmp.Equal on plain data (tolerations). */
function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/**
 * Prow's mergePreset, for one job: every preset whose labels the job has adds its env and volume mounts to each
 * container, its volumes and tolerations to the pod; a name (or toleration) the pod spec already has is an error,
 * as in Prow. Returns a new job; the input is not changed.
 */
export function applyPresets<J extends Presubmit | Postsubmit | Periodic>(job: J, presets: readonly Preset[], fail: (problem: string) => never): J {
  if (!job.spec) return job;
  const matching = presets.filter((p) => presetMatches(p, job.labels));
  if (matching.length === 0) return job;
  const out = structuredClone(job);
  const spec = out.spec as unknown as Record<string, unknown[] | undefined> & { containers: Array<Record<string, unknown[] | undefined>> };
  const byName = (list: unknown[] | undefined, name: unknown): boolean => (list ?? []).some((x) => (x as { name?: unknown }).name === name);
  for (const preset of matching) {
    for (const e of preset.env ?? []) {
      for (const c of spec.containers) {
        if (byName(c['env'], (e as { name: unknown }).name)) fail(`job ${job.name} failed to merge presets for podspec: env var duplicated in pod spec: ${String((e as { name: unknown }).name)}`);
        (c['env'] ??= []).push(structuredClone(e));
      }
    }
    for (const v of preset.volumes ?? []) {
      if (byName(spec['volumes'], (v as { name: unknown }).name)) fail(`job ${job.name} failed to merge presets for podspec: volume duplicated in pod spec: ${String((v as { name: unknown }).name)}`);
      (spec['volumes'] ??= []).push(structuredClone(v));
    }
    for (const m of preset.volumeMounts ?? []) {
      for (const c of spec.containers) {
        if (byName(c['volumeMounts'], (m as { name: unknown }).name)) fail(`job ${job.name} failed to merge presets for podspec: volume mount duplicated in pod spec: ${String((m as { name: unknown }).name)}`);
        (c['volumeMounts'] ??= []).push(structuredClone(m));
      }
    }
    for (const t of preset.tolerations ?? []) {
      if ((spec['tolerations'] ?? []).some((x) => deepEqual(x, t))) fail(`job ${job.name} failed to merge presets for podspec: toleration duplicated in pod spec: ${JSON.stringify(t)}`);
      (spec['tolerations'] ??= []).push(structuredClone(t));
    }
  }
  return out;
}

/** Prow's mergeJobConfigs check: no two presets may select the same `label:value` pair. */
export function checkPresets(files: ReadonlyArray<Pick<JobFile, 'path' | 'presets'>>): void {
  const seen = new Map<string, string>();
  for (const f of files) {
    f.presets.forEach((p, i) => {
      for (const [k, v] of Object.entries(p.labels ?? {})) {
        const pair = `${k}:${v}`;
        const first = seen.get(pair);
        if (first !== undefined) throw new ConfigError(f.path, ['presets', i, 'labels', k], `duplicated preset 'label:value' pair ${JSON.stringify(pair)} (first in ${first})`);
        seen.set(pair, f.path);
      }
    });
  }
}

/** All presets of the files, in file order (Prow appends them as it reads the files). */
function presetsOf(files: ReadonlyArray<Pick<JobFile, 'presets'>>): Preset[] {
  return files.flatMap((f) => f.presets);
}

/** A job file with presets applied to its jobs. */
export type AppliedJobFile = JobFile;

/** applyPresets for every job of a file. */
export function applyPresetsToFile(file: JobFile, presets: readonly Preset[]): AppliedJobFile {
  if (presets.length === 0) return file;
  const fail = (path: Path, line: number | undefined) => (problem: string): never => {
    throw new ConfigError(file.path, path, problem, line ? { line } : {});
  };
  const out: JobFile = { ...file, presubmits: {}, postsubmits: {}, periodics: [] };
  for (const kind of ['presubmits', 'postsubmits'] as const) {
    for (const [orgRepo, list] of Object.entries(file[kind])) {
      (out[kind] as Record<string, unknown[]>)[orgRepo] = list.map((j, i) => applyPresets(j, presets, fail([kind, orgRepo, i], file.lines[kind][orgRepo]?.[i])));
    }
  }
  out.periodics = file.periodics.map((j, i) => applyPresets(j, presets, fail(['periodics', i], file.lines.periodics[i])));
  return out;
}

/**
 * Merges job files (presets applied) into one JobConfig, a file at a time: a generator the caller drives, so a large
 * config can be assembled without holding the event loop (each step is one file). Jobs of a repo from several files
 * are concatenated in file order; duplicate names are refused (per repo when their branches intersect, as Prow's
 * validation; globally for periodics).
 */
export function* assembleJobConfigSteps(files: readonly AppliedJobFile[]): Generator<void, JobConfig> {
  const out: JobConfig = { presubmits: {}, postsubmits: {}, periodics: [] };
  const origins = new Map<object, JobOrigin>();
  const origin = (file: string, path: Path, line: number | undefined): JobOrigin => (line ? { file, path, line } : { file, path });
  for (const f of files) {
    if (f.decorate_all_jobs !== undefined) out.decorate_all_jobs = f.decorate_all_jobs;
    for (const kind of ['presubmits', 'postsubmits'] as const) {
      for (const [orgRepo, list] of Object.entries(f[kind])) {
        const target = (out[kind][orgRepo] ??= []) as Array<Presubmit | Postsubmit>;
        list.forEach((job, i) => {
          origins.set(job, origin(f.path, [kind, orgRepo, i], f.lines[kind][orgRepo]?.[i]));
          target.push(job);
        });
      }
    }
    f.periodics.forEach((job, i) => {
      origins.set(job, origin(f.path, ['periodics', i], f.lines.periodics[i]));
      out.periodics.push(job);
    });
    yield;
  }
  checkDuplicates(out, (job) => origins.get(job) ?? { file: '<job config>', path: [] });
  return out;
}

/** Runs a step generator to its end at once. */
function runSteps<T>(steps: Generator<void, T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** Duplicate job names: per repo when branches intersect (presubmits, postsubmits), globally for periodics. */
export function checkDuplicates(jobs: Pick<JobConfig, 'presubmits' | 'postsubmits' | 'periodics'>, originOf: (job: object) => JobOrigin): void {
  const where = (o: JobOrigin): string => `${o.file}: ${formatKeyPath(o.path)}`;
  const raise = (o: JobOrigin, problem: string): never => {
    throw new ConfigError(o.file, [...o.path, 'name'], problem, o.line ? { line: o.line } : {});
  };
  for (const kind of ['presubmits', 'postsubmits'] as const) {
    for (const list of Object.values(jobs[kind]) as Array<Array<Presubmit | Postsubmit>>) {
      const byName = new Map<string, Array<Presubmit | Postsubmit>>();
      for (const job of list) {
        const same = byName.get(job.name);
        const clash = same?.find((a) => branchersIntersect(a, job, brancherShouldRun));
        if (clash) raise(originOf(job), `duplicate ${kind.slice(0, -1)} ${JSON.stringify(job.name)} for the same branches (first defined at ${where(originOf(clash))})`);
        if (same) same.push(job);
        else byName.set(job.name, [job]);
      }
    }
  }
  const seen = new Map<string, Periodic>();
  for (const p of jobs.periodics) {
    const first = seen.get(p.name);
    if (first) raise(originOf(p), `duplicate periodic ${JSON.stringify(p.name)} (first defined at ${where(originOf(first))})`);
    seen.set(p.name, p);
  }
}

/**
 * Parses and merges Prow job config files: parseJobFile for each, presets (from every file) applied to every
 * job, then assembleJobConfig. Throws a one-line ConfigError naming the file, line and key path.
 */
export function parseJobConfig(files: ReadonlyArray<{ path: string; text: string }>): JobConfig {
  const parsed = files.map((f) => parseJobFile(f.path, f.text));
  checkPresets(parsed);
  const presets = presetsOf(parsed);
  const jobs = runSteps(assembleJobConfigSteps(parsed.map((f) => applyPresetsToFile(f, presets))));
  if (presets.length > 0) jobs.presets = presets as Array<Record<string, unknown>>;
  return jobs;
}
