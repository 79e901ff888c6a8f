// PROW_CONFIG (Prow's config.yaml) and JOB_CONFIG (Prow's job config files). Pure.
//
// Policy: validate what katabot relies on and reject what Prow itself would reject for those fields; ignore every
// other key (Prow's config has hundreds), so katabot never refuses a config Prow accepts for reasons of its own.
import type { DecorationConfig, JobConfig, Periodic, Postsubmit, Presubmit, ProwConfig, ProwJobDefault } from '../jobs/types.ts';
import { ConfigError, formatKeyPath, type KeyPath } from './errors.ts';
import { isPlainObject, parseYaml, typeName } from './yaml.ts';
import { compileGoRegExp, goRegExpProblem } from './go-regexp.ts';
import { isValidLabelKey, isValidLabelValue } from '../jobs/labels.ts';

/** config.go jobNameRegex */
export const JOB_NAME_RE = /^[A-Za-z0-9-._]+$/;

/** Labels decoration reserves (decorate.Labels() plus the build id); a job may not set them. */
const RESERVED_LABELS = new Set(['created-by-prow', 'prow.k8s.io/type', 'prow.k8s.io/id', 'prow.k8s.io/build-id']);

const PATH_STRATEGIES = ['legacy', 'single', 'explicit'];

type Path = Array<string | number>;

function fail(file: string, path: KeyPath, problem: string): never {
  throw new ConfigError(file, path, problem);
}

function optString(file: string, obj: Record<string, unknown>, key: string, path: Path): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') fail(file, [...path, key], `must be a string, got ${typeName(v)}`);
  return v;
}

function optBool(file: string, obj: Record<string, unknown>, key: string, path: Path): boolean | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') fail(file, [...path, key], `must be true or false, got ${typeName(v)}`);
  return v;
}

function optMapping(file: string, obj: Record<string, unknown>, key: string, path: Path): Record<string, unknown> | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (!isPlainObject(v)) fail(file, [...path, key], `must be a mapping, got ${typeName(v)}`);
  return v;
}

function optList(file: string, obj: Record<string, unknown>, key: string, path: Path): unknown[] | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) fail(file, [...path, key], `must be a list, got ${typeName(v)}`);
  return v;
}

function optStringList(file: string, obj: Record<string, unknown>, key: string, path: Path): string[] | undefined {
  const list = optList(file, obj, key, path);
  if (list === undefined) return undefined;
  list.forEach((x, i) => {
    if (typeof x !== 'string') fail(file, [...path, key, i], `must be a string, got ${typeName(x)}`);
  });
  return list as string[];
}

function optStringMap(file: string, obj: Record<string, unknown>, key: string, path: Path): Record<string, string> | undefined {
  const m = optMapping(file, obj, key, path);
  if (m === undefined) return undefined;
  for (const [k, v] of Object.entries(m)) {
    if (typeof v !== 'string') fail(file, [...path, key, k], `must be a string, got ${typeName(v)} (quote it)`);
  }
  return m as Record<string, string>;
}

function checkRegex(file: string, source: string, path: KeyPath): void {
  const problem = goRegExpProblem(source);
  if (problem !== undefined) fail(file, path, `invalid regular expression ${JSON.stringify(source)}: ${problem}`);
}

function checkUrl(file: string, value: string, path: KeyPath): void {
  let ok = false;
  try {
    const u = new URL(value);
    ok = u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    ok = false;
  }
  if (!ok) fail(file, path, `must be an http(s) URL, got ${JSON.stringify(value)}`);
}

/** The decoration-config fields katabot reads (job URLs, bucket paths); the rest passes through. */
function checkDecorationConfig(file: string, dc: Record<string, unknown>, path: Path): DecorationConfig {
  for (const key of ['timeout', 'grace_period', 'gcs_credentials_secret', 's3_credentials_secret']) optString(file, dc, key, path);
  const images = optMapping(file, dc, 'utility_images', path);
  if (images) for (const key of Object.keys(images)) optString(file, images, key, [...path, 'utility_images']);
  const gcs = optMapping(file, dc, 'gcs_configuration', path);
  if (gcs) {
    const gp = [...path, 'gcs_configuration'];
    for (const key of ['bucket', 'path_prefix', 'default_org', 'default_repo', 'job_url_prefix']) optString(file, gcs, key, gp);
    const strategy = optString(file, gcs, 'path_strategy', gp);
    if (strategy !== undefined && !PATH_STRATEGIES.includes(strategy)) {
      fail(file, [...gp, 'path_strategy'], `must be one of ${PATH_STRATEGIES.join(', ')}, got ${JSON.stringify(strategy)}`);
    }
    const prefix = gcs['job_url_prefix'];
    if (typeof prefix === 'string' && prefix !== '') checkUrl(file, prefix, [...gp, 'job_url_prefix']);
  }
  optBool(file, dc, 'skip_cloning', path);
  optStringList(file, dc, 'ssh_key_secrets', path);
  return dc as DecorationConfig;
}

function checkEntries<C>(file: string, list: unknown[], path: Path, checkConfig: (c: Record<string, unknown>, p: Path) => C): Array<{ repo?: string; cluster?: string; config: C }> {
  return list.map((e, i) => {
    const p = [...path, i];
    if (!isPlainObject(e)) fail(file, p, `must be a mapping, got ${typeName(e)}`);
    const repo = optString(file, e, 'repo', p);
    const cluster = optString(file, e, 'cluster', p);
    const config = optMapping(file, e, 'config', p);
    if (config === undefined) fail(file, [...p, 'config'], 'is required');
    const out: { repo?: string; cluster?: string; config: C } = { config: checkConfig(config, [...p, 'config']) };
    if (repo !== undefined) out.repo = repo;
    if (cluster !== undefined) out.cluster = cluster;
    return out;
  });
}

/**
 * Parses Prow's config.yaml. Keys katabot reads are type-checked; `plank.default_decoration_configs` (the older
 * map form) is converted to `plank.default_decoration_config_entries` as Prow does ('*' first, then orgs, then
 * org/repos; Prow iterates a Go map there, katabot sorts by name); the deprecated `plank.job_url_prefix` becomes
 * `job_url_prefix_config['*']`. Everything else is kept as written.
 */
export function parseProwConfig(text: string, file: string): ProwConfig {
  const raw = parseYaml(text, file, { version: '1.1' });
  if (raw === null || raw === undefined) return {};
  if (!isPlainObject(raw)) fail(file, [], `must be a mapping, got ${typeName(raw)}`);
  return prowConfigFromValue(raw, file);
}

export function prowConfigFromValue(raw: Record<string, unknown>, file: string): ProwConfig {
  const cfg: ProwConfig = structuredClone(raw);
  for (const key of ['prowjob_namespace', 'pod_namespace']) {
    const v = optString(file, cfg, key, []);
    if (v !== undefined && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(v)) fail(file, [key], `must be a Kubernetes namespace name, got ${JSON.stringify(v)}`);
  }
  optBool(file, cfg, 'decorate_all_jobs', []);
  optMapping(file, cfg, 'deck', []);
  const pjDefaults = optList(file, cfg, 'prowjob_default_entries', []);
  if (pjDefaults) {
    cfg.prowjob_default_entries = checkEntries(file, pjDefaults, ['prowjob_default_entries'], (c, p) => {
      optString(file, c, 'tenant_id', p);
      return c as ProwJobDefault;
    });
  }
  const plank = optMapping(file, cfg, 'plank', []);
  if (plank) {
    const pp: Path = ['plank'];
    const prefixes = optStringMap(file, plank, 'job_url_prefix_config', pp) ?? {};
    for (const [k, v] of Object.entries(prefixes)) if (v !== '') checkUrl(file, v, [...pp, 'job_url_prefix_config', k]);
    const legacyPrefix = optString(file, plank, 'job_url_prefix', pp);
    if (legacyPrefix) {
      checkUrl(file, legacyPrefix, [...pp, 'job_url_prefix']);
      if (!prefixes['*']) prefixes['*'] = legacyPrefix;
    }
    if (Object.keys(prefixes).length > 0 || plank['job_url_prefix_config'] !== undefined) plank['job_url_prefix_config'] = prefixes;
    optString(file, plank, 'job_url_template', pp);
    optBool(file, plank, 'jobURLPrefixDisableAppendStorageProvider', pp);
    const entries = optList(file, plank, 'default_decoration_config_entries', pp);
    const map = optMapping(file, plank, 'default_decoration_configs', pp);
    if (entries && entries.length > 0 && map && Object.keys(map).length > 0) {
      fail(file, [...pp, 'default_decoration_configs'], 'plank.default_decoration_configs and plank.default_decoration_config_entries are mutually exclusive, use one or the other');
    }
    if (map && Object.keys(map).length > 0) {
      const keys = Object.keys(map);
      const ordered = [
        ...keys.filter((k) => k === '*'),
        ...keys.filter((k) => k !== '*' && !k.includes('/')).sort(),
        ...keys.filter((k) => k !== '*' && k.includes('/')).sort(),
      ];
      plank['default_decoration_config_entries'] = ordered.map((k) => {
        const dc = map[k];
        if (!isPlainObject(dc)) fail(file, [...pp, 'default_decoration_configs', k], `must be a mapping, got ${typeName(dc)}`);
        return { repo: k, config: checkDecorationConfig(file, dc, [...pp, 'default_decoration_configs', k]) };
      });
    } else if (entries) {
      plank['default_decoration_config_entries'] = checkEntries(file, entries, [...pp, 'default_decoration_config_entries'], (c, p) => checkDecorationConfig(file, c, p));
    }
  }
  return cfg;
}

// ---------------------------------------------------------------------------------------------------------------
// Job config

interface Brancher { branches?: string[]; skip_branches?: string[] }

/** Prow's Brancher.Intersects: could two jobs with these branch lists run for the same branch? */
export function branchersIntersect(a: Brancher, b: Brancher, shouldRun: (br: Brancher, branch: string) => boolean): boolean {
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

function brancherShouldRun(br: Brancher, branch: string): boolean {
  const branches = br.branches ?? [];
  const skip = br.skip_branches ?? [];
  if (branches.length === 0 && skip.length === 0) return true;
  const test = (list: string[]): boolean => compileGoRegExp(list.join('|')).test(branch);
  if (skip.length > 0 && test(skip)) return false;
  return branches.length === 0 || test(branches);
}

interface Origin { file: string; path: Path }

function checkLabels(file: string, job: Record<string, unknown>, path: Path): void {
  const labels = optStringMap(file, job, 'labels', path);
  if (labels) {
    for (const [k, v] of Object.entries(labels)) {
      if (!isValidLabelKey(k)) fail(file, [...path, 'labels', k], 'is not a valid Kubernetes label key');
      if (RESERVED_LABELS.has(k)) fail(file, [...path, 'labels', k], 'is reserved for Prow');
      if (!isValidLabelValue(v)) fail(file, [...path, 'labels', k], `value ${JSON.stringify(v)} is not a valid Kubernetes label value (63 characters or fewer: alphanumerics, '-', '_', '.', starting and ending alphanumeric)`);
    }
  }
  optStringMap(file, job, 'annotations', path);
}

/** Fields shared by presubmits, postsubmits and periodics (Prow's JobBase + UtilityConfig). */
function checkJobBase(file: string, job: unknown, path: Path): Record<string, unknown> {
  if (!isPlainObject(job)) fail(file, path, `must be a mapping, got ${typeName(job)}`);
  const name = job['name'];
  if (name === undefined || name === null || name === '') fail(file, [...path, 'name'], 'is required');
  if (typeof name !== 'string') fail(file, [...path, 'name'], `must be a string, got ${typeName(name)}`);
  if (!JOB_NAME_RE.test(name)) fail(file, [...path, 'name'], `${JSON.stringify(name)} must match ${JOB_NAME_RE.source}`);
  for (const key of ['cluster', 'namespace', 'agent', 'path_alias', 'clone_uri', 'job_queue_name']) optString(file, job, key, path);
  for (const key of ['decorate', 'skip_submodules', 'skip_fetch_head', 'error_on_eviction', 'hidden']) optBool(file, job, key, path);
  for (const key of ['max_concurrency', 'clone_depth']) {
    const v = job[key];
    if (v !== undefined && v !== null && !(typeof v === 'number' && Number.isInteger(v) && v >= 0)) {
      fail(file, [...path, key], `must be a non-negative integer, got ${typeName(v)}`);
    }
  }
  checkLabels(file, job, path);
  const agent = job['agent'];
  const spec = optMapping(file, job, 'spec', path);
  if ((agent === undefined || agent === '' || agent === 'kubernetes') && spec === undefined) {
    fail(file, [...path, 'spec'], 'is required for a job run by the kubernetes agent');
  }
  if (spec) {
    const containers = optList(file, spec, 'containers', [...path, 'spec']);
    if (!containers || containers.length === 0) fail(file, [...path, 'spec', 'containers'], 'must list at least one container');
    containers.forEach((c, i) => {
      const cp = [...path, 'spec', 'containers', i];
      if (!isPlainObject(c)) fail(file, cp, `must be a mapping, got ${typeName(c)}`);
      optString(file, c, 'name', cp);
      optString(file, c, 'image', cp);
    });
  }
  const dc = optMapping(file, job, 'decoration_config', path);
  if (dc) checkDecorationConfig(file, dc, [...path, 'decoration_config']);
  const extraRefs = optList(file, job, 'extra_refs', path);
  extraRefs?.forEach((r, i) => {
    const rp = [...path, 'extra_refs', i];
    if (!isPlainObject(r)) fail(file, rp, `must be a mapping, got ${typeName(r)}`);
    for (const key of ['org', 'repo']) {
      if (typeof r[key] !== 'string' || r[key] === '') fail(file, [...rp, key], 'is required');
    }
  });
  for (const key of ['branches', 'skip_branches']) {
    const list = optStringList(file, job, key, path);
    if (list && list.length > 0) checkRegex(file, list.join('|'), [...path, key]);
  }
  return job;
}

function checkChangeRules(file: string, job: Record<string, unknown>, path: Path): void {
  const alwaysRun = optBool(file, job, 'always_run', path);
  const ric = optString(file, job, 'run_if_changed', path);
  const sioc = optString(file, job, 'skip_if_only_changed', path);
  if (ric && sioc) fail(file, [...path, 'skip_if_only_changed'], 'run_if_changed and skip_if_only_changed are mutually exclusive');
  if (alwaysRun && ric) fail(file, [...path, 'run_if_changed'], 'always_run and run_if_changed are mutually exclusive');
  if (alwaysRun && sioc) fail(file, [...path, 'skip_if_only_changed'], 'always_run and skip_if_only_changed are mutually exclusive');
  if (ric) checkRegex(file, ric, [...path, 'run_if_changed']);
  if (sioc) checkRegex(file, sioc, [...path, 'skip_if_only_changed']);
}

function checkPresubmit(file: string, job: unknown, path: Path): Presubmit {
  const p = checkJobBase(file, job, path);
  checkChangeRules(file, p, path);
  for (const key of ['optional', 'skip_report']) optBool(file, p, key, path);
  optString(file, p, 'context', path);
  const trigger = optString(file, p, 'trigger', path) ?? '';
  const rerun = optString(file, p, 'rerun_command', path) ?? '';
  if ((trigger === '') !== (rerun === '')) {
    fail(file, [...path, trigger === '' ? 'trigger' : 'rerun_command'], 'trigger and rerun_command must be set together (or neither, for the /test <name> defaults)');
  }
  if (trigger !== '') {
    checkRegex(file, trigger, [...path, 'trigger']);
    if (!compileGoRegExp(trigger).test(rerun)) {
      fail(file, [...path, 'rerun_command'], `${JSON.stringify(rerun)} does not match trigger ${JSON.stringify(trigger)}`);
    }
  }
  return p as Presubmit;
}

function checkPostsubmit(file: string, job: unknown, path: Path): Postsubmit {
  const p = checkJobBase(file, job, path);
  checkChangeRules(file, p, path);
  optBool(file, p, 'skip_report', path);
  optString(file, p, 'context', path);
  return p as Postsubmit;
}

function checkPeriodic(file: string, job: unknown, path: Path): Periodic {
  const p = checkJobBase(file, job, path);
  const interval = optString(file, p, 'interval', path);
  const minInterval = optString(file, p, 'minimum_interval', path);
  const cron = optString(file, p, 'cron', path);
  const set = [interval, minInterval, cron].filter((x) => x !== undefined && x !== '').length;
  if (set !== 1) fail(file, path, 'a periodic needs exactly one of cron, interval and minimum_interval');
  return p as Periodic;
}

interface Preset {
  labels: Record<string, string>;
  env: unknown[];
  volumes: unknown[];
  volumeMounts: unknown[];
  origin: Origin;
}

function checkPreset(file: string, preset: unknown, path: Path): Preset {
  if (!isPlainObject(preset)) fail(file, path, `must be a mapping, got ${typeName(preset)}`);
  const labels = optStringMap(file, preset, 'labels', path) ?? {};
  const lists: Record<'env' | 'volumes' | 'volumeMounts', unknown[]> = { env: [], volumes: [], volumeMounts: [] };
  for (const key of ['env', 'volumes', 'volumeMounts'] as const) {
    const list = optList(file, preset, key, path) ?? [];
    list.forEach((x, i) => {
      if (!isPlainObject(x) || typeof x['name'] !== 'string') fail(file, [...path, key, i, 'name'], 'is required');
    });
    lists[key] = list;
  }
  return { labels, ...lists, origin: { file, path } };
}

/** Prow's mergePreset: a preset whose labels all match the job's adds env, volumes and mounts; duplicates are errors. */
function applyPresets(job: Presubmit | Postsubmit | Periodic, presets: readonly Preset[], origin: Origin): void {
  const labels = job.labels ?? {};
  const spec = job.spec as unknown as Record<string, unknown> | undefined;
  if (!spec) return;
  for (const preset of presets) {
    if (!Object.entries(preset.labels).every(([k, v]) => labels[k] === v)) continue;
    const containers = (Array.isArray(spec['containers']) ? spec['containers'] : []) as Array<Record<string, unknown>>;
    const append = (target: Record<string, unknown>, key: string, items: unknown[], what: string): void => {
      if (items.length === 0) return;
      const cur = (Array.isArray(target[key]) ? target[key] : []) as Array<Record<string, unknown>>;
      for (const item of items as Array<Record<string, unknown>>) {
        if (cur.some((x) => x['name'] === item['name'])) {
          fail(origin.file, origin.path, `preset (${preset.origin.file}) ${what} ${JSON.stringify(item['name'])} duplicates one the job already has`);
        }
        cur.push(structuredClone(item));
      }
      target[key] = cur;
    };
    append(spec, 'volumes', preset.volumes, 'volume');
    for (const c of containers) {
      append(c, 'env', preset.env, 'env var');
      append(c, 'volumeMounts', preset.volumeMounts, 'volume mount');
    }
  }
}

/**
 * Parses and merges Prow job config files (`presubmits: {org/repo: [...]}`, `postsubmits`, `periodics`,
 * `presets`, `decorate_all_jobs`; other top-level keys are ignored, so Prow's config.yaml may be passed too).
 * Jobs of the same repo from several files are concatenated in file order. Validates job names, trigger/rerun_command
 * pairing, the mutual exclusion of always_run / run_if_changed / skip_if_only_changed, regexes (Go RE2), label
 * syntax, and duplicate job names (per repo when their branches intersect, as Prow's validation; globally for
 * periodics). Presets are applied. Throws a one-line ConfigError naming the file and key path.
 */
export function parseJobConfig(files: ReadonlyArray<{ path: string; text: string }>): JobConfig {
  const out: JobConfig = { presubmits: {}, postsubmits: {}, periodics: [] };
  const origins = new Map<object, Origin>();
  const presets: Preset[] = [];
  for (const { path: file, text } of files) {
    const raw = parseYaml(text, file, { version: '1.1' });
    if (raw === null || raw === undefined) continue;
    if (!isPlainObject(raw)) fail(file, [], `must be a mapping, got ${typeName(raw)}`);
    const dec = optBool(file, raw, 'decorate_all_jobs', []);
    if (dec !== undefined) out.decorate_all_jobs = dec;
    (optList(file, raw, 'presets', []) ?? []).forEach((p, i) => presets.push(checkPreset(file, p, ['presets', i])));
    for (const kind of ['presubmits', 'postsubmits'] as const) {
      const byRepo = optMapping(file, raw, kind, []);
      if (!byRepo) continue;
      for (const [orgRepo, list] of Object.entries(byRepo)) {
        if (!/^[^/\s]+\/[^\s]+$/.test(orgRepo)) fail(file, [kind, orgRepo], 'keys must be org/repo');
        if (list === null) continue;
        if (!Array.isArray(list)) fail(file, [kind, orgRepo], `must be a list of jobs, got ${typeName(list)}`);
        const target = (out[kind][orgRepo] ??= []) as Array<Presubmit | Postsubmit>;
        list.forEach((job, i) => {
          const path: Path = [kind, orgRepo, i];
          const checked = kind === 'presubmits' ? checkPresubmit(file, job, path) : checkPostsubmit(file, job, path);
          origins.set(checked, { file, path });
          target.push(checked);
        });
      }
    }
    (optList(file, raw, 'periodics', []) ?? []).forEach((job, i) => {
      const checked = checkPeriodic(file, job, ['periodics', i]);
      origins.set(checked, { file, path: ['periodics', i] });
      out.periodics.push(checked);
    });
  }

  const originOf = (job: object): Origin => origins.get(job) ?? { file: '<job config>', path: [] };
  const where = (o: Origin): string => `${o.file}: ${formatKeyPath(o.path)}`;
  for (const kind of ['presubmits', 'postsubmits'] as const) {
    for (const jobs of Object.values(out[kind]) as Array<Array<Presubmit | Postsubmit>>) {
      for (let i = 0; i < jobs.length; i++) {
        for (let j = 0; j < i; j++) {
          const a = jobs[j] as Presubmit | Postsubmit;
          const b = jobs[i] as Presubmit | Postsubmit;
          if (a.name === b.name && branchersIntersect(a, b, brancherShouldRun)) {
            const o = originOf(b);
            fail(o.file, [...o.path, 'name'], `duplicate ${kind.slice(0, -1)} ${JSON.stringify(b.name)} for the same branches (first defined at ${where(originOf(a))})`);
          }
        }
      }
    }
  }
  const seen = new Map<string, Periodic>();
  for (const p of out.periodics) {
    const first = seen.get(p.name);
    if (first) {
      const o = originOf(p);
      fail(o.file, [...o.path, 'name'], `duplicate periodic ${JSON.stringify(p.name)} (first defined at ${where(originOf(first))})`);
    }
    seen.set(p.name, p);
  }

  if (presets.length > 0) {
    const all: Array<Presubmit | Postsubmit | Periodic> = [
      ...Object.values(out.presubmits).flat(),
      ...Object.values(out.postsubmits).flat(),
      ...out.periodics,
    ];
    for (const job of all) applyPresets(job, presets, originOf(job));
  }
  return out;
}
