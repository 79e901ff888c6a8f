// I/O shell for configuration: reads PROW_CONFIG, JOB_CONFIG (a file or a nested directory), KATABOT_CONFIG and
// PLUGIN_CONFIG, keeps the last good snapshot, and reloads when the files change — re-parsing only the files that
// changed, in a worker thread, so the event loop is never held by a large job config.
import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile, readdir, realpath, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { JobConfig, ProwConfig } from './prow-types.ts';
import { configErrorFrom, parseConfigFile, presetUse, type FileKind, type ParsedFile, type Preset } from './config-files.ts';
import { ConfigError } from './errors.ts';
import type { ParseRequest, ParseResponse } from './load-worker.ts';
import type { PluginsConfig } from './plugins-config.ts';
import { assembleJobConfigSteps, checkPresets } from './prow-config.ts';
import { DEFAULT_KATABOT_CONFIG, type KatabotConfig } from './types.ts';

export interface ConfigEnv {
  PROW_CONFIG?: string | undefined;
  JOB_CONFIG?: string | undefined;
  KATABOT_CONFIG?: string | undefined;
  PLUGIN_CONFIG?: string | undefined;
}

export interface ConfigSnapshot {
  katabot: KatabotConfig;
  prow: ProwConfig;
  jobs: JobConfig;
  /** Prow's plugins.yaml (PLUGIN_CONFIG), when set. */
  plugins?: PluginsConfig;
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

// ---------------------------------------------------------------------------------------------------------------
// Parsing, in a worker thread or inline

interface Parser {
  parse(kind: FileKind, path: string, text: string, presets: Preset[]): Promise<ParsedFile>;
  /** A load is over: free what parsing holds until the next one. */
  idle(): void;
  close(): void;
}

/** Parses on the calling thread, one file per event-loop turn (tests, one-shot loads). */
class InlineParser implements Parser {
  #queue: Promise<unknown> = Promise.resolve();
  parse(kind: FileKind, path: string, text: string, presets: Preset[]): Promise<ParsedFile> {
    // Sequential: concurrent setImmediate waits would all run in one turn of the loop.
    const next = this.#queue.then(async () => {
      await yieldToLoop();
      return parseConfigFile(kind, path, text, presets);
    });
    this.#queue = next.catch(() => undefined);
    return next;
  }
  idle(): void {}
  close(): void {}
}

/** Requests in flight to the worker: enough to keep it busy, few enough that answers arrive one per turn. */
const IN_FLIGHT = 2;

/**
 * Parses in a worker thread (load-worker.ts). Answers are plain data; receiving one costs the main thread its
 * deserialisation, so only IN_FLIGHT requests are outstanding at a time (a port delivers every queued message in
 * one turn of the loop). The thread is ended when a load is over, giving its heap back; the next load starts one.
 */
class WorkerParser implements Parser {
  #worker: Worker | undefined;
  #next = 0;
  readonly #pending = new Map<number, { resolve: (f: ParsedFile) => void; reject: (e: Error) => void }>();
  readonly #waiting: ParseRequest[] = [];
  #inFlight = 0;

  #ensure(): Worker {
    if (this.#worker) return this.#worker;
    // Run from source (.ts, type stripping) or from the build (.js): the worker sits beside this module.
    const entry = new URL(import.meta.url.endsWith('.ts') ? './load-worker.ts' : './load-worker.js', import.meta.url);
    const w = new Worker(entry);
    w.on('message', (res: ParseResponse) => {
      const p = this.#pending.get(res.id);
      if (!p) return;
      this.#pending.delete(res.id);
      this.#inFlight--;
      this.#pump();
      if (this.#pending.size === 0) w.unref(); // idle: the thread must not keep the process alive
      if ('ok' in res) p.resolve(res.ok);
      else if ('error' in res) p.reject(configErrorFrom(res.error));
      else p.reject(new Error(`config parser crashed: ${res.crash}`));
    });
    const fail = (err: Error): void => {
      if (this.#worker !== w) return;
      this.#worker = undefined;
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
      this.#waiting.length = 0;
      this.#inFlight = 0;
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`config parser worker exited with code ${code}`)));
    w.unref(); // after the listeners: adding a 'message' listener refs the worker again
    this.#worker = w;
    return w;
  }

  #pump(): void {
    const w = this.#worker;
    if (!w) return;
    while (this.#inFlight < IN_FLIGHT && this.#waiting.length > 0) {
      w.postMessage(this.#waiting.shift() as ParseRequest);
      this.#inFlight++;
    }
  }

  parse(kind: FileKind, path: string, text: string, presets: Preset[]): Promise<ParsedFile> {
    const w = this.#ensure();
    const id = ++this.#next;
    return new Promise<ParsedFile>((resolve, reject) => {
      if (this.#pending.size === 0) w.ref(); // an answer is awaited: keep the process alive until it comes
      this.#pending.set(id, { resolve, reject });
      this.#waiting.push({ id, kind, path, text, presets });
      this.#pump();
    });
  }

  idle(): void {
    if (this.#pending.size === 0) this.close();
  }

  close(): void {
    const w = this.#worker;
    this.#worker = undefined;
    this.#inFlight = 0;
    if (w) void w.terminate();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Loading with a per-file cache

interface FileState {
  path: string;
  kind: FileKind;
  /** Cheap change check: inode, size and mtime of the file (after following symlinks). */
  stamp: string;
  /** SHA-256 of the text: a touched but unchanged file is not parsed again. */
  hash: string;
  result: ParsedFile;
  /** For job files: the key of the preset list their jobs were built with, and which of those presets they took. */
  presetsKey?: string;
  presetUse?: string;
}

export interface LoadStats {
  /** Files read (listed and checked). */
  files: number;
  /** Files parsed this time (changed, new, or affected by a preset change). */
  parsed: number;
  /** Wall time of the load. */
  ms: number;
}

interface Loaded {
  snapshot: ConfigSnapshot;
  /** Hash of every source's path and content: equal fingerprints mean nothing changed. */
  fingerprint: string;
  files: Map<string, FileState>;
  stats: LoadStats;
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, '', ioProblem(err), { cause: err });
  }
}

async function stampOf(path: string): Promise<string> {
  try {
    const s = await stat(path);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch (err) {
    throw new ConfigError(path, '', ioProblem(err), { cause: err });
  }
}

const presetsKeyOf = (presets: readonly Preset[]): string => sha256(JSON.stringify(presets));

/** A preset list with an id (content hash) per preset, and the list's key. */
interface PresetList { presets: Preset[]; ids: string[]; key: string }
function presetList(presets: Preset[]): PresetList {
  return { presets, ids: presets.map((p) => sha256(JSON.stringify(p))), key: presetsKeyOf(presets) };
}

/** Which presets a parsed job file took (hashed), or undefined for other files. */
function usedPresets(result: ParsedFile, list: PresetList): string | undefined {
  return result.kind === 'prow' || result.kind === 'jobs' ? sha256(presetUse(result.applied, list.presets, list.ids)) : undefined;
}

const ownPresets = (r: ParsedFile | undefined): Preset[] => (r?.kind === 'prow' || r?.kind === 'jobs' ? r.presets : []);

/**
 * Reads the configuration, parsing only what differs from `previous` (by content hash). Job files are parsed with
 * the preset list of the last good load; when the new files change the presets, every job file is parsed again
 * with the new list (Prow applies every preset to every job).
 */
async function load(env: ConfigEnv, previous: ReadonlyMap<string, FileState>, parser: Parser): Promise<Loaded> {
  try {
    return await loadFiles(env, previous, parser);
  } finally {
    parser.idle();
  }
}

async function loadFiles(env: ConfigEnv, previous: ReadonlyMap<string, FileState>, parser: Parser): Promise<Loaded> {
  const started = performance.now();
  const wanted: Array<{ path: string; kind: FileKind }> = [];
  if (env.KATABOT_CONFIG) wanted.push({ path: env.KATABOT_CONFIG, kind: 'katabot' });
  if (env.PLUGIN_CONFIG) wanted.push({ path: env.PLUGIN_CONFIG, kind: 'plugins' });
  if (env.PROW_CONFIG) wanted.push({ path: env.PROW_CONFIG, kind: 'prow' });
  if (env.JOB_CONFIG) {
    for (const path of await listJobConfigFiles(env.JOB_CONFIG)) if (path !== env.PROW_CONFIG) wanted.push({ path, kind: 'jobs' });
  }

  // 1. Which files changed: a stamp check, then the content hash.
  const texts = new Map<string, string>();
  const slots: Array<FileState | undefined> = [];
  type Todo = { i: number; path: string; kind: FileKind; stamp: string; hash: string };
  const changed: Todo[] = [];
  for (const [i, { path, kind }] of wanted.entries()) {
    const stamp = await stampOf(path);
    const old = previous.get(path);
    if (old && old.kind === kind && old.stamp === stamp) {
      slots.push(old);
      continue;
    }
    const text = await readText(path);
    const hash = sha256(text);
    texts.set(path, text);
    if (old && old.kind === kind && old.hash === hash) {
      slots.push({ ...old, stamp });
    } else {
      changed.push({ i, path, kind, stamp, hash });
      slots.push(undefined);
    }
  }

  // 2. Parse what changed. Files that define presets go first (with the presets of the last good load), so the
  //    others are parsed once, with the new preset list.
  const isJobs = (k: FileKind): boolean => k === 'prow' || k === 'jobs';
  const presetsBefore = wanted.filter((w) => isJobs(w.kind)).flatMap((w) => ownPresets(previous.get(w.path)?.result));
  let parsed = 0;
  const parseOne = async (c: Todo, list: PresetList): Promise<void> => {
    const text = texts.get(c.path) ?? (await readText(c.path));
    const result = await parser.parse(c.kind, c.path, text, list.presets);
    parsed++;
    const use = usedPresets(result, list);
    slots[c.i] = { path: c.path, kind: c.kind, stamp: c.stamp, hash: c.hash, result, ...(use !== undefined ? { presetsKey: list.key, presetUse: use } : {}) };
  };
  const definesPresets = (c: Todo): boolean => isJobs(c.kind) && /^presets\s*:/m.test(texts.get(c.path) ?? '');
  const first = changed.filter((c) => !isJobs(c.kind) || definesPresets(c));
  const before = presetList(presetsBefore);
  await Promise.all(first.map((c) => parseOne(c, before)));
  const presetsNow = wanted.flatMap((w, i) => {
    if (!isJobs(w.kind)) return [];
    const c = changed.find((x) => x.i === i);
    if (c && !first.includes(c)) return []; // changed, and no presets in it now
    return ownPresets(slots[i]?.result);
  });
  const rest = changed.filter((c) => !first.includes(c));
  const now = presetList(presetsNow);
  await Promise.all(rest.map((c) => parseOne(c, now)));
  const states = slots.map((s, i) => {
    if (!s) throw new Error(`config loader: ${wanted[i]?.path} was not parsed`);
    return s;
  });

  // 3. Job files built with another preset list than the final one (a preset changed; a file defining presets
  //    that was parsed first) are parsed again with it — unless their jobs take the same presets from both lists.
  const jobStates = states.filter((s) => isJobs(s.kind));
  checkPresets(jobStates.map((s) => ({ path: s.path, presets: ownPresets(s.result) })));
  const presets = jobStates.flatMap((s) => ownPresets(s.result));
  const final = presetList(presets);
  const stale: Todo[] = [];
  for (const [i, s] of states.entries()) {
    if (!isJobs(s.kind) || s.presetsKey === final.key) continue;
    const use = usedPresets(s.result, final);
    if (use !== undefined && use === s.presetUse) states[i] = { ...s, presetsKey: final.key };
    else stale.push({ i, path: s.path, kind: s.kind, stamp: s.stamp, hash: s.hash });
    if (i % 50 === 49) await yieldToLoop();
  }
  await Promise.all(stale.map((c) => parseOne(c, final)));
  for (const c of stale) states[c.i] = slots[c.i] as FileState;

  // 4. One snapshot, assembled a file at a time.
  let katabot: KatabotConfig = structuredClone(DEFAULT_KATABOT_CONFIG);
  let plugins: PluginsConfig | undefined;
  let prow: ProwConfig = {};
  for (const s of states) {
    if (s.result.kind === 'katabot') katabot = s.result.katabot;
    else if (s.result.kind === 'plugins') plugins = s.result.plugins;
    else if (s.result.kind === 'prow') prow = s.result.prow;
  }
  const steps = assembleJobConfigSteps(states.flatMap((s) => (s.result.kind === 'prow' || s.result.kind === 'jobs' ? [s.result.applied] : [])));
  let jobs: JobConfig;
  for (;;) {
    const r = steps.next();
    if (r.done) {
      jobs = r.value;
      break;
    }
    await yieldToLoop();
  }
  if (prow.decorate_all_jobs === undefined && jobs.decorate_all_jobs !== undefined) prow = { ...prow, decorate_all_jobs: jobs.decorate_all_jobs };
  if (presets.length > 0) jobs.presets = presets as Array<Record<string, unknown>>;
  const snapshot: ConfigSnapshot = { katabot, prow, jobs, sources: states.map((s) => s.path) };
  if (plugins) snapshot.plugins = plugins;
  const fingerprint = sha256(states.map((s) => `${s.kind}\u0000${s.path}\u0000${s.hash}`).join('\u0000'));
  return { snapshot, fingerprint, files: new Map(states.map((s) => [s.path, s])), stats: { files: states.length, parsed, ms: performance.now() - started } };
}

function asConfigError(err: unknown): ConfigError {
  if (err instanceof ConfigError) return err;
  return new ConfigError('<config>', '', err instanceof Error ? err.message : String(err), { cause: err });
}

/**
 * Reads the configs once, on this thread. Unset variables give defaults: katabot's DEFAULT_KATABOT_CONFIG, an
 * empty Prow config, no plugins.yaml and no jobs. Throws a one-line ConfigError for the first problem found.
 */
export async function loadConfigSnapshot(env: ConfigEnv): Promise<ConfigSnapshot> {
  try {
    return (await load(env, new Map(), new InlineParser())).snapshot;
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
  /** Parse in a worker thread (default) or on the main thread. */
  parser?: 'worker' | 'inline';
}

export type ReloadResult =
  | { status: 'applied'; snapshot: ConfigSnapshot; stats: LoadStats }
  | { status: 'unchanged'; snapshot: ConfigSnapshot; stats: LoadStats }
  | { status: 'rejected'; error: ConfigError; snapshot: ConfigSnapshot };

/**
 * Holds the last good ConfigSnapshot. `start()` loads it (throwing the ConfigError when there is no good config)
 * and watches the files themselves: PROW_CONFIG, KATABOT_CONFIG, PLUGIN_CONFIG, and the `.yaml` files of the
 * JOB_CONFIG tree (other files there, and anything beside the config files, never cause a reload). A watch that
 * sees its file replaced (an editor's rename, a ConfigMap's `..data` swap) is set up again on the new file. Changes
 * are debounced; a reload parses only the files whose content changed; a bad change is logged as one line and the
 * previous snapshot stays.
 */
export class ConfigSource {
  readonly env: ConfigEnv;
  readonly #log: Logger;
  readonly #options: Required<ConfigSourceOptions>;
  readonly #parser: Parser;
  #current: Loaded | undefined;
  #fileWatchers = new Map<string, FSWatcher>();
  #treeWatcher: FSWatcher | undefined;
  #rearm = false;
  #timer: NodeJS.Timeout | undefined;
  #poll: NodeJS.Timeout | undefined;
  #chain: Promise<unknown> = Promise.resolve();
  #listeners = new Set<(snapshot: ConfigSnapshot) => void>();
  #closed = false;
  #reloads = 0;
  #lastStats: LoadStats | undefined;

  constructor(env: ConfigEnv, logger: Logger, options: ConfigSourceOptions = {}) {
    this.env = { ...env };
    this.#log = logger;
    this.#options = { debounceMs: options.debounceMs ?? 200, watch: options.watch ?? true, pollMs: options.pollMs ?? 0, parser: options.parser ?? 'worker' };
    this.#parser = this.#options.parser === 'worker' ? new WorkerParser() : new InlineParser();
  }

  /** Loads the first snapshot and starts watching. Throws the ConfigError when the config is not good. */
  async start(): Promise<ConfigSnapshot> {
    let loaded: Loaded;
    try {
      loaded = await load(this.env, new Map(), this.#parser);
    } catch (err) {
      throw asConfigError(err);
    }
    this.#current = loaded;
    this.#lastStats = loaded.stats;
    this.#log.info({ sources: loaded.snapshot.sources.length, ms: Math.round(loaded.stats.ms) }, 'config loaded');
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

  /** Reloads attempted since start (for tests and metrics), and what the last load cost. */
  stats(): { reloads: number; last?: LoadStats } {
    return this.#lastStats ? { reloads: this.#reloads, last: this.#lastStats } : { reloads: this.#reloads };
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

  /** Stops watching and the parser thread. Idempotent. */
  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#poll) clearInterval(this.#poll);
    for (const w of this.#fileWatchers.values()) w.close();
    this.#fileWatchers.clear();
    this.#treeWatcher?.close();
    this.#treeWatcher = undefined;
    this.#parser.close();
  }

  async #reloadOnce(): Promise<ReloadResult> {
    const prev = this.#current;
    if (!prev) throw new Error('ConfigSource.reload() called before start()');
    if (this.#rearm && !this.#closed && this.#options.watch) {
      this.#rearm = false;
      await this.#watchFiles();
    }
    this.#reloads++;
    let loaded: Loaded;
    try {
      loaded = await load(this.env, prev.files, this.#parser);
      this.#lastStats = loaded.stats;
    } catch (err) {
      const error = asConfigError(err);
      this.#log.error({ file: error.file, key: error.keyPath || undefined }, `config not reloaded, keeping the last good one: ${error.message}`);
      return { status: 'rejected', error, snapshot: prev.snapshot };
    }
    if (loaded.fingerprint === prev.fingerprint) {
      // Same content: keep the snapshot, but remember new stamps so the next check reads nothing.
      this.#current = { ...prev, files: loaded.files };
      return { status: 'unchanged', snapshot: prev.snapshot, stats: loaded.stats };
    }
    this.#current = loaded;
    this.#log.info({ sources: loaded.snapshot.sources.length, parsed: loaded.stats.parsed, ms: Math.round(loaded.stats.ms) }, 'config reloaded');
    for (const listener of this.#listeners) {
      try {
        listener(loaded.snapshot);
      } catch (err) {
        this.#log.error({ err }, 'config change listener failed');
      }
    }
    return { status: 'applied', snapshot: loaded.snapshot, stats: loaded.stats };
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

  /** The single files to watch: the three config files, and JOB_CONFIG when it is one file. */
  async #singleFiles(): Promise<string[]> {
    const files = [this.env.PROW_CONFIG, this.env.KATABOT_CONFIG, this.env.PLUGIN_CONFIG].filter((f): f is string => Boolean(f));
    if (this.env.JOB_CONFIG && !(await stat(this.env.JOB_CONFIG).then((s) => s.isDirectory(), () => false))) files.push(this.env.JOB_CONFIG);
    return [...new Set(files)];
  }

  async #watchFiles(): Promise<void> {
    for (const w of this.#fileWatchers.values()) w.close();
    this.#fileWatchers.clear();
    for (const file of await this.#singleFiles()) {
      try {
        const w = watch(file, { persistent: false }, (event) => {
          // A rename means the file was replaced (editor, ConfigMap swap): watch the new one after the reload.
          if (event === 'rename') this.#rearm = true;
          this.#schedule();
        });
        w.on('error', () => {
          this.#rearm = true;
          this.#schedule();
        });
        this.#fileWatchers.set(file, w);
      } catch (err) {
        // Mid-replacement the file may be missing for a moment: try again shortly.
        this.#rearm = true;
        this.#log.warn({ file, err: (err as Error).message }, 'cannot watch config file; trying again in a second');
        if (!this.#closed) setTimeout(() => this.#schedule(), 1000).unref();
      }
    }
  }

  async #watch(): Promise<void> {
    await this.#watchFiles();
    const dir = this.env.JOB_CONFIG;
    if (!dir || !(await stat(dir).then((s) => s.isDirectory(), () => false))) return;
    try {
      const w = watch(dir, { recursive: true, persistent: false }, (_event, filename) => {
        // Only job files (and ConfigMap swaps, which rename `..data`) matter; READMEs, OWNERS or logs do not.
        const name = filename === null ? undefined : basename(filename.toString());
        if (name === undefined || /\.ya?ml$/i.test(name) || name.startsWith('..')) this.#schedule();
      });
      w.on('error', (err) => this.#log.warn({ dir, err: err.message }, 'job config watch failed; use reload() or pollMs'));
      this.#treeWatcher = w;
    } catch (err) {
      this.#log.warn({ dir, err: (err as Error).message }, 'cannot watch the job config directory; changes there are not picked up');
    }
  }
}
