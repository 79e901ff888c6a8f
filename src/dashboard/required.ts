// Required jobs, from Kata's gatekeeper file (kata-containers tools/testing/gatekeeper/required-tests.yaml) and from
// Prow's `optional` flag. Pure: parses text, matches names.
//
// The file, as the gatekeeper reads it (skips.py, jobs.py):
//   required_tests:   [name, ...]                always required
//   required_regexps: [python regexp, ...]       always required, re.match (anchored at the start)
//   paths:            [{path regexp: [set, ...]}, ...]   the first regexp that finds a changed file picks its sets;
//                                                        a file no regexp finds requires every set
//   mapping:          {set: {names: [...], regexps: "a|b", required-labels: [...]}}
// Names include the workflow ("Kata Containers CI / kata-containers-ci-on-push / ..."): a GitHub check context.
//
// The dashboard does not know which files a PR changed, so a job named by any set counts as required (what a PR
// touching sources needs), and `by` says which sets. A name matches a job when it equals the job's context or name,
// or equals it after the leading workflow segment ("<workflow> / "): Kata's nightly jobs are named without it.
import { ConfigError } from '../config/errors.ts';
import { isPlainObject, parseYaml } from '../config/yaml.ts';
import type { ProwJobType } from '../jobs/types.ts';
import type { Requirement } from './types.ts';

interface RequiredSet {
  names: string[];
  regexps: RegExp[];
  labels: string[];
}

export interface RequiredTests {
  tests: string[];
  regexps: RegExp[];
  paths: Array<{ regexp: RegExp; sets: string[] }>;
  mapping: Map<string, RequiredSet>;
}

export const NO_REQUIRED_TESTS: RequiredTests = { tests: [], regexps: [], paths: [], mapping: new Map() };

/**
 * A Python `re` pattern as a JavaScript RegExp: named groups `(?P<n>…)`/`(?P=n)`, `\A`/`\Z`, leading inline flags.
 * `anchored` gives re.match semantics (match at the start), else re.search.
 */
export function pythonRegExp(pattern: string, anchored: boolean): RegExp {
  let src = pattern;
  let flags = '';
  const lead = /^\(\?([aiLmsux]+)\)/.exec(src);
  if (lead) {
    for (const f of lead[1]!) if ('ims'.includes(f) && !flags.includes(f)) flags += f;
    src = src.slice(lead[0].length);
  }
  src = src.replace(/\(\?P<([A-Za-z_][A-Za-z0-9_]*)>/g, '(?<$1>').replace(/\(\?P=([A-Za-z_][A-Za-z0-9_]*)\)/g, '\\k<$1>');
  src = src.replace(/\\A/g, '^').replace(/\\Z/g, '$');
  return new RegExp(anchored ? `^(?:${src})` : src, flags);
}

function strings(file: string, path: Array<string | number>, v: unknown): string[] {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) throw new ConfigError(file, path, 'must be a list');
  return v.map((item, i) => {
    if (typeof item !== 'string') throw new ConfigError(file, [...path, i], 'must be a string');
    return item;
  });
}

function regexp(file: string, path: Array<string | number>, pattern: string, anchored: boolean): RegExp {
  try {
    return pythonRegExp(pattern, anchored);
  } catch (err) {
    throw new ConfigError(file, path, `not a regular expression: ${(err as Error).message}`);
  }
}

/** Parses required-tests.yaml; throws a one-line ConfigError naming the file and key. */
export function parseRequiredTests(text: string, file: string): RequiredTests {
  const doc = parseYaml(text, file);
  if (doc === null || doc === undefined) return NO_REQUIRED_TESTS;
  if (!isPlainObject(doc)) throw new ConfigError(file, '', 'must be a mapping with required_tests, required_regexps, paths and mapping');
  const tests = strings(file, ['required_tests'], doc.required_tests);
  const regexps = strings(file, ['required_regexps'], doc.required_regexps).map((p, i) => regexp(file, ['required_regexps', i], p, true));
  const paths: RequiredTests['paths'] = [];
  const rawPaths = doc.paths ?? [];
  if (!Array.isArray(rawPaths)) throw new ConfigError(file, ['paths'], 'must be a list of {regexp: [set, ...]}');
  rawPaths.forEach((entry, i) => {
    if (!isPlainObject(entry)) throw new ConfigError(file, ['paths', i], 'must be a mapping {regexp: [set, ...]}');
    for (const [pattern, sets] of Object.entries(entry)) {
      paths.push({ regexp: regexp(file, ['paths', i, pattern], pattern, false), sets: strings(file, ['paths', i, pattern], sets) });
    }
  });
  const mapping = new Map<string, RequiredSet>();
  const rawMapping = doc.mapping ?? {};
  if (!isPlainObject(rawMapping)) throw new ConfigError(file, ['mapping'], 'must be a mapping of set name → {names, regexps, required-labels}');
  for (const [set, value] of Object.entries(rawMapping)) {
    if (value === null || value === undefined) {
      mapping.set(set, { names: [], regexps: [], labels: [] });
      continue;
    }
    if (!isPlainObject(value)) throw new ConfigError(file, ['mapping', set], 'must be a mapping with names, regexps and required-labels');
    const names = strings(file, ['mapping', set, 'names'], value.names);
    const raw = value.regexps;
    let res: RegExp[] = [];
    if (typeof raw === 'string' && raw.trim() !== '') res = [regexp(file, ['mapping', set, 'regexps'], raw, true)];
    else if (Array.isArray(raw)) res = strings(file, ['mapping', set, 'regexps'], raw).map((p, i) => regexp(file, ['mapping', set, 'regexps', i], p, true));
    else if (raw !== null && raw !== undefined && raw !== '') throw new ConfigError(file, ['mapping', set, 'regexps'], 'must be a string of regexps joined by |');
    mapping.set(set, { names, regexps: res, labels: strings(file, ['mapping', set, 'required-labels'], value['required-labels']) });
  }
  return { tests, regexps, paths, mapping };
}

/** The names a required name matches: itself, and itself without its leading workflow segment. */
function nameForms(name: string): string[] {
  const i = name.indexOf(' / ');
  return i > 0 ? [name, name.slice(i + 3)] : [name];
}

/**
 * The sets a PR needs for its changed files, as the gatekeeper computes them: the first path regexp that finds a
 * file picks its sets; a file that none finds requires every set.
 */
export function setsForChangedFiles(rt: RequiredTests, files: readonly string[]): string[] {
  const sets = new Set<string>();
  for (const f of files) {
    const hit = rt.paths.find((p) => p.regexp.test(f));
    if (!hit) return [...rt.mapping.keys()];
    for (const s of hit.sets) sets.add(s);
  }
  return [...sets];
}

export interface RequirementInput {
  job: string;
  context?: string | undefined;
  type?: ProwJobType | undefined;
  /** Prow's optional flag (the ProwJob's prow.k8s.io/is-optional label, else the job config); undefined when unknown. */
  optional?: boolean | undefined;
  /** A presubmit with skip_report never reports a context, so Prow cannot require it. */
  skipReport?: boolean | undefined;
}

/** Prepared matcher: name lookups are set lookups. */
export class RequiredMatcher {
  readonly #always = new Set<string>();
  readonly #sets = new Map<string, Set<string>>();
  readonly #rt: RequiredTests;

  constructor(rt: RequiredTests) {
    this.#rt = rt;
    for (const n of rt.tests) for (const f of nameForms(n)) this.#always.add(f);
    for (const [set, value] of rt.mapping) {
      const names = new Set<string>();
      for (const n of value.names) for (const f of nameForms(n)) names.add(f);
      this.#sets.set(set, names);
    }
  }

  requirementOf(input: RequirementInput): Requirement {
    const candidates = [input.context, input.job].filter((c): c is string => typeof c === 'string' && c !== '');
    const by: string[] = [];
    if (candidates.some((c) => this.#always.has(c))) by.push('required_tests');
    if (this.#rt.regexps.some((re) => candidates.some((c) => re.test(c)))) by.push('required_regexps');
    for (const [set, value] of this.#rt.mapping) {
      const names = this.#sets.get(set)!;
      if (candidates.some((c) => names.has(c)) || value.regexps.some((re) => candidates.some((c) => re.test(c)))) by.push(`mapping:${set}`);
    }
    if (input.type === 'presubmit' && input.optional === false && !input.skipReport) by.push('prow');
    return { required: by.length > 0, by };
  }
}
