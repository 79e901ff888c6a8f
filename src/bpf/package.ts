// eBPF packages: a named, versioned bpftrace program with metadata (docs/bpf-packages.md). Pure: no I/O.
//
// A package directory holds `package.yaml` (the metadata below) and the program (`program.bt` unless
// `program:` says otherwise). A bare `.bt` file is an unnamed package: its name is the file's base name, its
// version 0.0.0, and its output is taken as it comes (every printf line and every map becomes a custom event).
import { createHash } from 'node:crypto';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import semver from 'semver';
import { EVENT_KINDS, type EventKind } from '../trace/format.ts';

export const PACKAGE_FILE = 'package.yaml';
export const PROGRAM_FILE = 'program.bt';
/** Package names end up in Kubernetes object names and labels: a DNS label, at most 40 characters. */
const NAME_RE = /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/;
const IDENT_RE = /^[a-z_][a-z0-9_]*$/;
/** Placeholders katabot fills in itself. */
const RESERVED_PARAMS: readonly string[] = ['in_scope'];
export const CUSTOM_KIND = 'custom';
/** The oldest bpftrace katabot runs (the one the tracer is written and tested for). */
export const DEFAULT_MIN_BPFTRACE = '0.17.0';

type ParamType = 'int' | 'string' | 'bool';
export type ParamValue = number | string | boolean;
interface ParamSpec {
  name: string;
  type: ParamType;
  /** Without a default the parameter is required. */
  default?: ParamValue;
  description?: string;
}

type FieldType = 'int' | 'string';
export interface FieldSpec {
  name: string;
  type: FieldType;
}

type EventTarget = EventKind | typeof CUSTOM_KIND;

/** One kind of output a package promises, and how it maps to the trace format. */
export interface EventSpec {
  /** The event's name: the first tab-separated column of its printf lines; `<package>/<name>` in traces. */
  name: string;
  /** A trace-format kind the event becomes (`open`, `connect`, …), or `custom`. */
  kind: EventTarget;
  /** printf: one line per event; map: one event per entry of a map bpftrace prints (at exit, or with print()). */
  source: 'printf' | 'map';
  /** printf: the columns after the name, in order. map: the key parts, then the value. */
  fields: FieldSpec[];
  /** map events: the map, with its `@`. */
  map?: string;
  /** Fields that identify a behaviour (the behavior diff compares these; the rest are measurements). */
  identity: string[];
  description?: string;
}

export interface PackageMeta {
  name: string;
  version: string;
  description: string;
  events: EventSpec[];
  parameters: ParamSpec[];
  /** Minimum versions, e.g. bpftrace `0.17.0`, kernel `5.8`. */
  requires: { bpftrace: string; kernel?: string };
  /** File name of the program inside the package directory. */
  program: string;
  /** A bare `.bt` file: default metadata, output taken as it comes. */
  unnamed?: true;
}

export type PackageOrigin =
  | { kind: 'builtin' }
  | { kind: 'repo'; path: string }
  | { kind: 'file'; path: string }
  | { kind: 'cluster'; namespace: string; configMap: string };

export interface BpfPackage {
  meta: PackageMeta;
  /** The program text; for built-in packages a rendering for display (the real one is generated per scope). */
  source: string;
  origin: PackageOrigin;
  /** Built-in packages are parts of katabot's own tracer program: the trace kinds they turn on. */
  builtin?: { kinds: readonly EventKind[] };
}

/** Metadata that does not hold; `problems` lists every one, each naming the field. */
export class PackageError extends Error {
  readonly problems: string[];
  constructor(where: string, problems: string[]) {
    super(`${where}: ${problems.length === 1 ? problems[0] : `\n  ${problems.join('\n  ')}`}`);
    this.name = 'PackageError';
    this.problems = problems;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Fields and kinds

/** Fields that are numbers wherever they appear. */
const INT_FIELDS = new Set(['ts', 'pid', 'ppid', 'uid', 'result', 'sport', 'dport', 'count', 'flags', 'cgid', 'tid']);
/** Fields every event may have: they go to the event's own keys (ts and cgid are turned into time and attribution). */
const COMMON_FIELDS: readonly string[] = ['ts', 'cgid', 'pid', 'ppid', 'comm', 'uid', 'exe'];
/** Fields an event mapped to a trace kind may have besides the common ones. */
const KIND_FIELDS: Record<EventKind, readonly string[]> = {
  exec: ['result', 'argv'],
  exit: ['result', 'signal'],
  open: ['path', 'flags', 'result'],
  connect: ['saddr', 'sport', 'daddr', 'dport', 'result'],
  accept: ['saddr', 'sport', 'daddr', 'dport'],
  listen: ['saddr', 'sport'],
  dns: ['daddr', 'dport', 'query', 'qtype', 'proto'],
};

function defaultFieldType(name: string): FieldType {
  return INT_FIELDS.has(name) ? 'int' : 'string';
}

// ---------------------------------------------------------------------------------------------------------------
// Versions

// Package versions are semantic versions (semver). Kernel and bpftrace versions such as `6.1.0-13-amd64` or
// `v0.17.0` are not: looseVersion/versionAtLeast below read those.

/** A semantic version written exactly (no `v` prefix, no spaces): `1.2.3`, `1.0.0-rc.1`, `1.0.0+build.5`. */
export function isVersion(v: string): boolean {
  const parsed = semver.parse(v);
  return parsed !== null && parsed.version + (parsed.build.length > 0 ? `+${parsed.build.join('.')}` : '') === v;
}

/** Semver precedence (`1.0.0-rc.2` before `1.0.0-rc.10` before `1.0.0`; build metadata ignored); other text by string. */
export function compareVersions(a: string, b: string): number {
  if (isVersion(a) && isVersion(b)) return semver.compare(a, b);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The leading numbers of a loose version: `v0.17.0` → [0,17,0], `6.1.0-13-amd64` → [6,1,0]. */
function looseVersion(v: string): number[] | undefined {
  const m = /^v?(\d+(?:\.\d+)*)/.exec(v.trim());
  return m ? m[1]!.split('.').map(Number) : undefined;
}

/** `actual >= min`, comparing the leading numbers (missing parts count as 0). Unreadable versions pass. */
export function versionAtLeast(actual: string, min: string): boolean {
  const a = looseVersion(actual);
  const m = looseVersion(min);
  if (!a || !m) return true;
  for (let i = 0; i < Math.max(a.length, m.length); i++) {
    const d = (a[i] ?? 0) - (m[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------------------
// References

export type PackageRef =
  | { kind: 'name'; name: string; version?: string }
  | { kind: 'path'; path: string };

/** `name`, `name@1.2.0`, or a path (anything with a `/`, or ending in `.bt`). */
export function parsePackageRef(ref: string): PackageRef {
  const r = ref.trim();
  if (r.includes('/') || r.endsWith('.bt') || r === '.' || r === '..') return { kind: 'path', path: r };
  const at = r.indexOf('@');
  const name = at < 0 ? r : r.slice(0, at);
  const version = at < 0 ? undefined : r.slice(at + 1);
  if (!NAME_RE.test(name)) throw new PackageError(ref, [`not a package name (lowercase letters, digits and '-', at most 40) nor a path`]);
  if (version !== undefined && !isVersion(version)) throw new PackageError(ref, [`version ${JSON.stringify(version)} is not a semantic version (1.2.3)`]);
  return version === undefined ? { kind: 'name', name } : { kind: 'name', name, version };
}

export function packageId(meta: Pick<PackageMeta, 'name' | 'version'>): string {
  return `${meta.name}@${meta.version}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Metadata parsing

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseField(raw: unknown, at: string, problems: string[]): FieldSpec | undefined {
  let name: unknown;
  let type: unknown;
  if (typeof raw === 'string') {
    [name, type] = raw.split(':');
  } else if (isRecord(raw)) {
    name = raw['name'];
    type = raw['type'];
  } else {
    problems.push(`${at}: a field is a name, "name:type" or {name, type}`);
    return undefined;
  }
  if (typeof name !== 'string' || !IDENT_RE.test(name)) {
    problems.push(`${at}: field name ${JSON.stringify(name)} is not an identifier (a-z, 0-9, _)`);
    return undefined;
  }
  if (type !== undefined && type !== 'int' && type !== 'string') {
    problems.push(`${at}: field ${name} has type ${JSON.stringify(type)}; use int or string`);
    return undefined;
  }
  return { name, type: (type as FieldType | undefined) ?? defaultFieldType(name) };
}

function stringList(raw: unknown, at: string, problems: string[]): string[] | undefined {
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw) || !raw.every((x) => typeof x === 'string')) {
    problems.push(`${at}: expected a list of names`);
    return undefined;
  }
  return raw as string[];
}

function parseEvent(raw: unknown, i: number, problems: string[]): EventSpec | undefined {
  const at = `events[${i}]`;
  if (!isRecord(raw)) {
    problems.push(`${at}: expected an object`);
    return undefined;
  }
  const known = new Set(['name', 'kind', 'fields', 'map', 'keys', 'value', 'identity', 'description']);
  for (const k of Object.keys(raw)) if (!known.has(k)) problems.push(`${at}: unknown key ${JSON.stringify(k)}`);
  const name = raw['name'];
  if (typeof name !== 'string' || !IDENT_RE.test(name)) {
    problems.push(`${at}.name: ${JSON.stringify(name)} is not an identifier (a-z, 0-9, _)`);
    return undefined;
  }
  const where = `events.${name}`;
  const kind = raw['kind'] ?? CUSTOM_KIND;
  if (kind !== CUSTOM_KIND && !EVENT_KINDS.includes(kind as EventKind)) {
    problems.push(`${where}.kind: ${JSON.stringify(kind)} is not a trace kind (${EVENT_KINDS.join(', ')}) nor custom`);
    return undefined;
  }
  const n0 = problems.length;
  let fields: FieldSpec[] = [];
  let map: string | undefined;
  if (raw['map'] !== undefined) {
    map = typeof raw['map'] === 'string' ? raw['map'] : '';
    if (!/^@[A-Za-z_][A-Za-z0-9_]*$/.test(map) && map !== '@') problems.push(`${where}.map: ${JSON.stringify(raw['map'])} is not a map name like "@counts"`);
    if (raw['fields'] !== undefined) problems.push(`${where}: a map event names its columns with keys and value, not fields`);
    const keys = stringList(raw['keys'], `${where}.keys`, problems) ?? [];
    const value = raw['value'] ?? 'value';
    for (const [j, k] of [...keys, value].entries()) {
      const f = parseField(k, `${where}.${j < keys.length ? `keys[${j}]` : 'value'}`, problems);
      if (f) fields.push(f);
    }
    // a map's value is always a number (count, sum, …) or a structure (hist, stats); never a string column
    const last = fields.at(-1);
    if (last && typeof value === 'string' && !value.includes(':')) last.type = 'int';
  } else {
    if (raw['keys'] !== undefined || raw['value'] !== undefined) problems.push(`${where}: keys and value are for map events (add map: "@name")`);
    if (!Array.isArray(raw['fields'])) {
      problems.push(`${where}.fields: a printf event lists its columns (after the event name), e.g. [pid, comm, path]`);
    } else {
      fields = (raw['fields'] as unknown[]).map((f, j) => parseField(f, `${where}.fields[${j}]`, problems)).filter((f): f is FieldSpec => f !== undefined);
    }
  }
  const seen = new Set<string>();
  for (const f of fields) {
    if (seen.has(f.name)) problems.push(`${where}: field ${f.name} appears twice`);
    seen.add(f.name);
  }
  if (kind !== CUSTOM_KIND) {
    const allowed = new Set([...COMMON_FIELDS, ...KIND_FIELDS[kind as EventKind]]);
    for (const f of fields) {
      if (!allowed.has(f.name)) problems.push(`${where}: kind ${String(kind)} has no field ${f.name} (allowed: ${[...allowed].join(', ')})`);
    }
    if (!seen.has('pid')) problems.push(`${where}: an event of kind ${String(kind)} needs a pid field`);
    if (map !== undefined) problems.push(`${where}: map events are custom (a map entry is a total, not one ${String(kind)})`);
  }
  const identity = stringList(raw['identity'], `${where}.identity`, problems)
    ?? (map !== undefined ? fields.slice(0, -1).map((f) => f.name) : fields.filter((f) => f.type === 'string').map((f) => f.name));
  for (const id of identity) if (!seen.has(id)) problems.push(`${where}.identity: ${id} is not one of its fields`);
  if (raw['description'] !== undefined && typeof raw['description'] !== 'string') problems.push(`${where}.description: expected a string`);
  if (problems.length > n0) return undefined;
  return {
    name,
    kind: kind as EventTarget,
    source: map !== undefined ? 'map' : 'printf',
    fields,
    ...(map !== undefined ? { map } : {}),
    identity,
    ...(typeof raw['description'] === 'string' ? { description: raw['description'] } : {}),
  };
}

function parseParam(raw: unknown, i: number, problems: string[]): ParamSpec | undefined {
  const at = `parameters[${i}]`;
  if (!isRecord(raw)) {
    problems.push(`${at}: expected an object`);
    return undefined;
  }
  for (const k of Object.keys(raw)) if (!['name', 'type', 'default', 'description'].includes(k)) problems.push(`${at}: unknown key ${JSON.stringify(k)}`);
  const name = raw['name'];
  if (typeof name !== 'string' || !IDENT_RE.test(name)) {
    problems.push(`${at}.name: ${JSON.stringify(name)} is not an identifier (a-z, 0-9, _)`);
    return undefined;
  }
  if (RESERVED_PARAMS.includes(name)) {
    problems.push(`parameters.${name}: the name is reserved (katabot fills in \${${name}})`);
    return undefined;
  }
  const type = raw['type'] ?? 'string';
  if (type !== 'int' && type !== 'string' && type !== 'bool') {
    problems.push(`parameters.${name}.type: ${JSON.stringify(type)}; use int, string or bool`);
    return undefined;
  }
  const spec: ParamSpec = { name, type };
  if (raw['default'] !== undefined) {
    const d = coerceParam(spec, raw['default']);
    if (typeof d === 'string' && d.startsWith('!')) problems.push(`parameters.${name}.default: ${d.slice(1)}`);
    else spec.default = d;
  }
  if (typeof raw['description'] === 'string') spec.description = raw['description'];
  return spec;
}

/** The value for a parameter, or a reason prefixed with `!`. Accepts strings (from --param) and YAML scalars. */
function coerceParam(spec: ParamSpec, raw: unknown): ParamValue | `!${string}` {
  switch (spec.type) {
    case 'int': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
      if (!Number.isSafeInteger(n)) return `!${JSON.stringify(raw)} is not an integer`;
      return n;
    }
    case 'bool':
      if (raw === true || raw === 'true' || raw === '1' || raw === 'yes') return true;
      if (raw === false || raw === 'false' || raw === '0' || raw === 'no') return false;
      return `!${JSON.stringify(raw)} is not a boolean (true/false)`;
    case 'string':
      if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') return `!${JSON.stringify(raw)} is not a string`;
      return String(raw);
  }
}

/** Checks and completes metadata (an object read from package.yaml). Returns every problem found. */
export function parsePackageMeta(raw: unknown): { meta?: PackageMeta; problems: string[] } {
  const problems: string[] = [];
  if (!isRecord(raw)) return { problems: ['package.yaml must be a mapping (name, version, description, events, …)'] };
  const known = new Set(['name', 'version', 'description', 'events', 'parameters', 'requires', 'program']);
  for (const k of Object.keys(raw)) if (!known.has(k)) problems.push(`unknown key ${JSON.stringify(k)}`);
  const name = raw['name'];
  if (typeof name !== 'string' || !NAME_RE.test(name)) problems.push(`name: ${JSON.stringify(name)} is not a package name (lowercase letters, digits and '-', at most 40)`);
  const version = typeof raw['version'] === 'number' ? String(raw['version']) : raw['version'];
  if (typeof version !== 'string' || !isVersion(version)) problems.push(`version: ${JSON.stringify(raw['version'])} is not a semantic version (1.2.3)`);
  const description = raw['description'] ?? '';
  if (typeof description !== 'string') problems.push('description: expected a string');
  const program = raw['program'] ?? PROGRAM_FILE;
  if (typeof program !== 'string' || program.includes('/') || program.startsWith('.')) problems.push(`program: ${JSON.stringify(program)} must be a file name in the package directory`);
  const requires = raw['requires'] ?? {};
  let minBpftrace = DEFAULT_MIN_BPFTRACE;
  let minKernel: string | undefined;
  if (!isRecord(requires)) problems.push('requires: expected {bpftrace, kernel}');
  else {
    for (const k of Object.keys(requires)) if (k !== 'bpftrace' && k !== 'kernel') problems.push(`requires: unknown key ${JSON.stringify(k)}`);
    for (const k of ['bpftrace', 'kernel'] as const) {
      const v = requires[k];
      if (v === undefined) continue;
      const s = String(v);
      if (!looseVersion(s)) problems.push(`requires.${k}: ${JSON.stringify(v)} is not a version`);
      else if (k === 'bpftrace') minBpftrace = s.replace(/^v/, '');
      else minKernel = s;
    }
  }
  const events: EventSpec[] = [];
  if (raw['events'] !== undefined && !Array.isArray(raw['events'])) problems.push('events: expected a list');
  for (const [i, e] of ((raw['events'] as unknown[] | undefined) ?? []).entries()) {
    const spec = parseEvent(e, i, problems);
    if (spec) events.push(spec);
  }
  const names = new Set<string>();
  const maps = new Set<string>();
  for (const e of events) {
    if (names.has(e.name)) problems.push(`events: ${e.name} is declared twice`);
    names.add(e.name);
    if (e.map) {
      if (maps.has(e.map)) problems.push(`events: map ${e.map} is declared twice`);
      maps.add(e.map);
    }
  }
  const parameters: ParamSpec[] = [];
  if (raw['parameters'] !== undefined && !Array.isArray(raw['parameters'])) problems.push('parameters: expected a list');
  for (const [i, p] of ((raw['parameters'] as unknown[] | undefined) ?? []).entries()) {
    const spec = parseParam(p, i, problems);
    if (!spec) continue;
    if (parameters.some((q) => q.name === spec.name)) problems.push(`parameters: ${spec.name} is declared twice`);
    parameters.push(spec);
  }
  if (problems.length > 0) return { problems };
  return {
    meta: {
      name: name as string,
      version: version as string,
      description: description as string,
      events,
      parameters,
      requires: { bpftrace: minBpftrace, ...(minKernel !== undefined ? { kernel: minKernel } : {}) },
      program: program as string,
    },
    problems,
  };
}

/** Parses package.yaml text; throws PackageError naming `where` with every problem. */
export function parsePackageYaml(text: string, where: string): PackageMeta {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new PackageError(where, [`not YAML: ${(err as Error).message.split('\n')[0]}`]);
  }
  const { meta, problems } = parsePackageMeta(raw);
  if (!meta) throw new PackageError(where, problems);
  return meta;
}

/** package.yaml text for metadata (round-trips through parsePackageYaml). */
export function stringifyPackageMeta(meta: PackageMeta): string {
  const events = meta.events.map((e) => {
    const fieldText = (f: FieldSpec): string => (f.type === defaultFieldType(f.name) ? f.name : `${f.name}:${f.type}`);
    const base: Json = { name: e.name };
    if (e.kind !== CUSTOM_KIND) base['kind'] = e.kind;
    if (e.map !== undefined) {
      base['map'] = e.map;
      const keys = e.fields.slice(0, -1);
      if (keys.length > 0) base['keys'] = keys.map(fieldText);
      const value = e.fields.at(-1)!;
      base['value'] = value.type === 'int' ? value.name : `${value.name}:${value.type}`;
    } else {
      base['fields'] = e.fields.map(fieldText);
    }
    base['identity'] = e.identity;
    if (e.description !== undefined) base['description'] = e.description;
    return base;
  });
  const doc: Json = { name: meta.name, version: meta.version, description: meta.description };
  doc['requires'] = meta.requires;
  if (meta.program !== PROGRAM_FILE) doc['program'] = meta.program;
  if (meta.parameters.length > 0) doc['parameters'] = meta.parameters;
  if (events.length > 0) doc['events'] = events;
  return stringifyYaml(doc);
}

/** A bare `.bt` file as a package: named after the file, version 0.0.0, output taken as it comes. */
export function unnamedPackage(path: string, source: string): BpfPackage {
  const base = (path.split('/').pop() ?? 'program').replace(/\.bt$/, '');
  let name = base.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40).replace(/-+$/, '');
  if (!NAME_RE.test(name)) name = 'program';
  return {
    meta: {
      name,
      version: '0.0.0',
      description: `unnamed package from ${path}`,
      events: [],
      parameters: [],
      requires: { bpftrace: DEFAULT_MIN_BPFTRACE },
      program: path.split('/').pop() ?? PROGRAM_FILE,
      unnamed: true,
    },
    source,
    origin: { kind: 'file', path },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Parameters

/** Values for every parameter: `given` (strings from --param k=v, or values) over defaults. Throws PackageError
 * for unknown names, bad values and missing required parameters. */
export function resolveParams(meta: PackageMeta, given: Record<string, unknown>): Record<string, ParamValue> {
  const problems: string[] = [];
  const out: Record<string, ParamValue> = {};
  for (const k of Object.keys(given)) {
    if (!meta.parameters.some((p) => p.name === k)) {
      problems.push(`unknown parameter ${k}${meta.parameters.length ? ` (${meta.parameters.map((p) => p.name).join(', ')})` : ' (the package has none)'}`);
    }
  }
  for (const p of meta.parameters) {
    if (Object.hasOwn(given, p.name)) {
      const v = coerceParam(p, given[p.name]);
      if (typeof v === 'string' && v.startsWith('!')) problems.push(`parameter ${p.name}: ${v.slice(1)}`);
      else out[p.name] = v;
    } else if (p.default !== undefined) {
      out[p.name] = p.default;
    } else {
      problems.push(`parameter ${p.name} is required (--param ${p.name}=<${p.type}>)`);
    }
  }
  if (problems.length > 0) throw new PackageError(packageId(meta), problems);
  return out;
}

/** Parses `k=v` strings from the command line. */
export function parseParamArgs(args: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of args) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new PackageError('--param', [`${JSON.stringify(a)} is not k=v`]);
    out[a.slice(0, eq)] = a.slice(eq + 1);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Packages as files (a directory, a ConfigMap's data, a bundle passed to a traced job's sidecar)

/** A package from its files: `package.yaml` and the program it names. Throws PackageError. */
export function packageFromFiles(files: Record<string, string>, origin: PackageOrigin, where: string): BpfPackage {
  const yaml = files[PACKAGE_FILE];
  if (yaml === undefined) throw new PackageError(where, [`no ${PACKAGE_FILE}`]);
  const meta = parsePackageYaml(yaml, `${where}/${PACKAGE_FILE}`);
  const source = files[meta.program];
  if (source === undefined) throw new PackageError(where, [`no ${meta.program} (package.yaml names it as the program)`]);
  return { meta, source, origin };
}

/** Environment variable carrying custom packages to a traced job's tracer sidecar (see bundlePackages). */
export const PACKAGES_ENV = 'KATABOT_BPF_PACKAGES';

/** Custom packages as one JSON string: `[{"package.yaml": …, "<program>": …}, …]`. */
export function bundlePackages(pkgs: readonly BpfPackage[]): string {
  return JSON.stringify(pkgs.filter((p) => !p.builtin).map((p) => ({ [PACKAGE_FILE]: stringifyPackageMeta(p.meta), [p.meta.program]: p.source })));
}

/** The packages of a bundle; origin `repo` with the path `<bundle>`. Throws PackageError. */
export function unbundlePackages(text: string): BpfPackage[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new PackageError(PACKAGES_ENV, [`not JSON: ${(err as Error).message}`]);
  }
  if (!Array.isArray(raw)) throw new PackageError(PACKAGES_ENV, ['expected a list of packages']);
  return raw.map((files, i) => {
    if (!isRecord(files) || !Object.values(files).every((v) => typeof v === 'string')) throw new PackageError(`${PACKAGES_ENV}[${i}]`, ['expected {file: text}']);
    return packageFromFiles(files as Record<string, string>, { kind: 'repo', path: `${PACKAGES_ENV}[${i}]` }, `${PACKAGES_ENV}[${i}]`);
  });
}

/** A package's program digest, for trace headers and the package store (which program ran, byte for byte). */
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
