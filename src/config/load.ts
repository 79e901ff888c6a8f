// I/O shell for configuration: reads PROW_CONFIG, JOB_CONFIG (a file or a nested directory) and KATABOT_CONFIG,
// and keeps the last good snapshot while watching the files for changes.
import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile, readdir, realpath, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { JobConfig, ProwConfig } from '../jobs/types.ts';
import { ConfigError } from './errors.ts';
import { parseKatabotConfig } from './katabot-config.ts';
import { parseJobConfig, parseProwConfig } from './prow-config.ts';
import { DEFAULT_KATABOT_CONFIG, type KatabotConfig } from './types.ts';

export interface ConfigEnv {
  PROW_CONFIG?: string | undefined;
  JOB_CONFIG?: string | undefined;
  KATABOT_CONFIG?: string | undefined;
}

export interface ConfigSnapshot {
  katabot: KatabotConfig;
  prow: ProwConfig;
  jobs: JobConfig;
  /** Every file read, in read order. */
  sources: string[];
}

function ioProblem(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOENT') return 'cannot read: no such file or directory';
  if (e?.code === 'EACCES') return 'cannot read: permission denied';
  if (e?.code === 'EISDIR') return 'cannot read: is a directory';
  return `cannot read: ${e?.message ?? String(err)}`;
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, '', ioProblem(err), { cause: err });
  }
}

/**
 * The job config files under `root`: the file itself, or every `.yaml`/`.yml` file below the directory, sorted.
 * Like Prow, entries whose name starts with `..` are skipped: Kubernetes ConfigMap mounts keep the real files in
 * `..data`/`..<timestamp>` and expose them again through symlinks, so walking them would load every job twice.
 * Symlinks are followed; each real directory is walked once.
 */
export async function listJobConfigFiles(root: string): Promise<string[]> {
  let st;
  try {
    st = await stat(root);
  } catch (err) {
    throw new ConfigError(root, '', ioProblem(err), { cause: err });
  }
  if (!st.isDirectory()) return [root];
  const out: string[] = [];
  const seen = new Set<string>();
  const walk = async (dir: string): Promise<void> => {
    const real = await realpath(dir);
    if (seen.has(real)) return;
    seen.add(real);
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      throw new ConfigError(dir, '', ioProblem(err), { cause: err });
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith('..')) continue;
      const p = join(dir, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        const target = await stat(p).catch(() => undefined);
        if (!target) continue; // dangling link
        isDir = target.isDirectory();
        isFile = target.isFile();
      }
      if (isDir) await walk(p);
      else if (isFile && /\.ya?ml$/i.test(entry.name)) out.push(p);
    }
  };
  await walk(root);
  return out;
}

interface Loaded {
  snapshot: ConfigSnapshot;
  /** Hash of every source's path and text: equal fingerprints mean nothing changed. */
  fingerprint: string;
}

async function load(env: ConfigEnv): Promise<Loaded> {
  const hash = createHash('sha256');
  const sources: string[] = [];
  const read = async (path: string): Promise<string> => {
    const text = await readText(path);
    sources.push(path);
    hash.update(path).update('\u0000').update(text).update('\u0000');
    return text;
  };

  const katabot = env.KATABOT_CONFIG ? parseKatabotConfig(await read(env.KATABOT_CONFIG), env.KATABOT_CONFIG) : structuredClone(DEFAULT_KATABOT_CONFIG);

  let prow: ProwConfig = {};
  const jobFiles: Array<{ path: string; text: string }> = [];
  if (env.PROW_CONFIG) {
    const text = await read(env.PROW_CONFIG);
    prow = parseProwConfig(text, env.PROW_CONFIG);
    // Prow's config.yaml may hold jobs too; Prow merges them with the job config.
    jobFiles.push({ path: env.PROW_CONFIG, text });
  }
  if (env.JOB_CONFIG) {
    for (const path of await listJobConfigFiles(env.JOB_CONFIG)) {
      if (path === env.PROW_CONFIG) continue;
      jobFiles.push({ path, text: await read(path) });
    }
  }
  const jobs = parseJobConfig(jobFiles);
  if (prow.decorate_all_jobs === undefined && jobs.decorate_all_jobs !== undefined) prow = { ...prow, decorate_all_jobs: jobs.decorate_all_jobs };
  return { snapshot: { katabot, prow, jobs, sources }, fingerprint: hash.digest('hex') };
}

function asConfigError(err: unknown): ConfigError {
  if (err instanceof ConfigError) return err;
  return new ConfigError('<config>', '', err instanceof Error ? err.message : String(err), { cause: err });
}

/**
 * Reads the three configs once. Unset variables give defaults: katabot's DEFAULT_KATABOT_CONFIG, an empty Prow
 * config and no jobs. Throws a one-line ConfigError for the first problem found.
 */
export async function loadConfigSnapshot(env: ConfigEnv): Promise<ConfigSnapshot> {
  try {
    return (await load(env)).snapshot;
  } catch (err) {
    throw asConfigError(err);
  }
}

export interface ConfigSourceOptions {
  /** Quiet time after the last file event before reloading. Default 200 ms. */
  debounceMs?: number;
  /** Watch the files with fs.watch. Default true. */
  watch?: boolean;
  /** Also reload every `pollMs` (for file systems without change events). Default 0: off. */
  pollMs?: number;
}

export type ReloadResult =
  | { status: 'applied'; snapshot: ConfigSnapshot }
  | { status: 'unchanged'; snapshot: ConfigSnapshot }
  | { status: 'rejected'; error: ConfigError; snapshot: ConfigSnapshot };

/**
 * Holds the last good ConfigSnapshot. `start()` loads it (throwing the ConfigError when there is no good config)
 * and watches the files: the directories of PROW_CONFIG and KATABOT_CONFIG, and JOB_CONFIG recursively. Watching
 * directories rather than files survives editors that replace files and ConfigMap symlink swaps. A change is
 * debounced, then reloaded; a bad change is logged as one line and the previous snapshot stays.
 */
export class ConfigSource {
  readonly env: ConfigEnv;
  readonly #log: Logger;
  readonly #options: Required<ConfigSourceOptions>;
  #current: Loaded | undefined;
  #watchers: FSWatcher[] = [];
  #timer: NodeJS.Timeout | undefined;
  #poll: NodeJS.Timeout | undefined;
  #chain: Promise<unknown> = Promise.resolve();
  #listeners = new Set<(snapshot: ConfigSnapshot) => void>();
  #closed = false;

  constructor(env: ConfigEnv, logger: Logger, options: ConfigSourceOptions = {}) {
    this.env = { ...env };
    this.#log = logger;
    this.#options = { debounceMs: options.debounceMs ?? 200, watch: options.watch ?? true, pollMs: options.pollMs ?? 0 };
  }

  /** Loads the first snapshot and starts watching. Throws the ConfigError when the config is not good. */
  async start(): Promise<ConfigSnapshot> {
    let loaded: Loaded;
    try {
      loaded = await load(this.env);
    } catch (err) {
      throw asConfigError(err);
    }
    this.#current = loaded;
    this.#log.info({ sources: loaded.snapshot.sources.length }, 'config loaded');
    if (this.#options.watch) await this.#watch();
    if (this.#options.pollMs > 0) {
      this.#poll = setInterval(() => void this.reload(), this.#options.pollMs);
      this.#poll.unref();
    }
    return loaded.snapshot;
  }

  /** The last good snapshot. */
  current(): ConfigSnapshot {
    if (!this.#current) throw new Error('ConfigSource.current() called before start()');
    return this.#current.snapshot;
  }

  /** Calls `listener` after each applied reload; returns the unsubscribe function. */
  onChange(listener: (snapshot: ConfigSnapshot) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Reloads now (serialised with watch-triggered reloads). Never throws for config problems. */
  reload(): Promise<ReloadResult> {
    const next = this.#chain.then(() => this.#reloadOnce());
    this.#chain = next.catch(() => undefined);
    return next;
  }

  /** Stops watching. Idempotent. */
  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#poll) clearInterval(this.#poll);
    for (const w of this.#watchers) w.close();
    this.#watchers = [];
  }

  async #reloadOnce(): Promise<ReloadResult> {
    const prev = this.#current;
    if (!prev) throw new Error('ConfigSource.reload() called before start()');
    let loaded: Loaded;
    try {
      loaded = await load(this.env);
    } catch (err) {
      const error = asConfigError(err);
      this.#log.error({ file: error.file, key: error.keyPath || undefined }, `config not reloaded, keeping the last good one: ${error.message}`);
      return { status: 'rejected', error, snapshot: prev.snapshot };
    }
    if (loaded.fingerprint === prev.fingerprint) return { status: 'unchanged', snapshot: prev.snapshot };
    this.#current = loaded;
    this.#log.info({ sources: loaded.snapshot.sources.length }, 'config reloaded');
    for (const listener of this.#listeners) {
      try {
        listener(loaded.snapshot);
      } catch (err) {
        this.#log.error({ err }, 'config change listener failed');
      }
    }
    return { status: 'applied', snapshot: loaded.snapshot };
  }

  #schedule(): void {
    if (this.#closed) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.reload();
    }, this.#options.debounceMs);
    this.#timer.unref();
  }

  async #watch(): Promise<void> {
    const targets = new Map<string, boolean>(); // directory → recursive
    const add = (dir: string, recursive: boolean): void => {
      targets.set(dir, (targets.get(dir) ?? false) || recursive);
    };
    if (this.env.PROW_CONFIG) add(dirname(this.env.PROW_CONFIG), false);
    if (this.env.KATABOT_CONFIG) add(dirname(this.env.KATABOT_CONFIG), false);
    if (this.env.JOB_CONFIG) {
      const isDir = await stat(this.env.JOB_CONFIG).then((s) => s.isDirectory(), () => false);
      add(isDir ? this.env.JOB_CONFIG : dirname(this.env.JOB_CONFIG), isDir);
    }
    for (const [dir, recursive] of targets) {
      try {
        const w = watch(dir, { recursive, persistent: false }, () => this.#schedule());
        w.on('error', (err) => this.#log.warn({ dir, err: err.message }, 'config watch failed; use reload() or pollMs'));
        this.#watchers.push(w);
      } catch (err) {
        this.#log.warn({ dir, err: (err as Error).message }, 'cannot watch config directory; changes there are not picked up');
      }
    }
  }
}
