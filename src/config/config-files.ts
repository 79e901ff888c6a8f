// The configuration files katabot reads, one at a time, as plain data: what the loader (load.ts) parses in a
// worker thread and caches per file, and how the per-file results become one snapshot. Pure.
import type { ProwConfig } from './prow-types.ts';
import { ConfigError } from './errors.ts';
import { parseKatabotConfig } from './katabot-config.ts';
import { parsePluginsConfig, type PluginsConfig } from './plugins-config.ts';
import { applyPresetsToFile, parseJobFile, parseProwConfig, presetMatches, type AppliedJobFile, type JobFile, type Preset } from './prow-config.ts';
import type { KatabotConfig } from './types.ts';

/** KATABOT_CONFIG, PLUGIN_CONFIG, PROW_CONFIG (config.yaml, which may hold jobs too) or a JOB_CONFIG file. */
export type FileKind = 'katabot' | 'plugins' | 'prow' | 'jobs';

export type ParsedFile =
  | { kind: 'katabot'; katabot: KatabotConfig }
  | { kind: 'plugins'; plugins: PluginsConfig }
  /** `presets`: the file's own; `applied`: its jobs with the presets it was given applied. */
  | { kind: 'prow'; prow: ProwConfig; presets: Preset[]; applied: AppliedJobFile }
  | { kind: 'jobs'; presets: Preset[]; applied: AppliedJobFile };

/**
 * Parses one file. Job files (and config.yaml) come back with `presets` — every preset of the whole job config, in
 * Prow's order — applied to their jobs; the file's own presets are returned so the caller can tell whether the
 * list it passed is still right.
 */
export function parseConfigFile(kind: FileKind, path: string, text: string, presets: readonly Preset[]): ParsedFile {
  switch (kind) {
    case 'katabot':
      return { kind, katabot: parseKatabotConfig(text, path) };
    case 'plugins':
      return { kind, plugins: parsePluginsConfig(text, path) };
    case 'prow': {
      const jobs = parseJobFile(path, text);
      return { kind, prow: parseProwConfig(text, path), presets: jobs.presets, applied: applyPresetsToFile(jobs, presets) };
    }
    case 'jobs': {
      const jobs = parseJobFile(path, text);
      return { kind, presets: jobs.presets, applied: applyPresetsToFile(jobs, presets) };
    }
  }
}

/** A ConfigError as plain data, to cross a worker boundary. */
export interface ConfigErrorData { file: string; keyPath: string; problem: string; line?: number; column?: number }

export function configErrorData(e: ConfigError): ConfigErrorData {
  const out: ConfigErrorData = { file: e.file, keyPath: e.keyPath, problem: e.problem };
  if (e.line !== undefined) out.line = e.line;
  if (e.column !== undefined) out.column = e.column;
  return out;
}

export function configErrorFrom(d: ConfigErrorData): ConfigError {
  const options: { line?: number; column?: number } = {};
  if (d.line !== undefined) options.line = d.line;
  if (d.column !== undefined) options.column = d.column;
  return new ConfigError(d.file, d.keyPath, d.problem, options);
}

/**
 * Which presets a job file's jobs take, by preset id (`presetIds[i]` names `presets[i]`, e.g. a hash of it): the
 * file's jobs depend on the presets only through this, so when it is unchanged under a new preset list, the
 * file's jobs need not be built again. Jobs without a pod spec take no presets.
 */
export function presetUse(file: AppliedJobFile, presets: readonly Preset[], presetIds: readonly string[]): string {
  const parts: string[] = [];
  const each = (job: { spec?: unknown; labels?: Record<string, string> }): void => {
    if (!job.spec) return;
    const ids: string[] = [];
    presets.forEach((p, i) => {
      if (presetMatches(p, job.labels)) ids.push(presetIds[i] ?? String(i));
    });
    parts.push(ids.join(','));
  };
  for (const list of Object.values(file.presubmits)) list.forEach(each);
  for (const list of Object.values(file.postsubmits)) list.forEach(each);
  file.periodics.forEach(each);
  return parts.join(';');
}

export type { Preset };
