// The failing tests of a finished job, for its check run (pure): from JUnit results (src/render/junit.ts) to the
// summary table, the details text, and annotations where a file and line are known. Computed once per ProwJob
// by the reporter and kept, so every write of the check run (and every batch of annotations) says the same.
//
// Where a failure is, in this order:
//   1. a `path:line` in the failure text inside the test's own file (the `file` attribute), e.g. pytest's
//      `tests/system/test_harvester.py:859:` frame;
//   2. the first `path:line` in the text that resolves inside the repository: Go's `fails_test.go:34: msg` (the
//      package directory comes from the import path in classname), Ginkgo's `In [It] at: /home/prow/go/src/k8s.io/
//      kubernetes/test/e2e/x.go:12`, a Go panic's `/…/<org>/<repo>/pkg/x.go:99 +0x1d` frame;
//   3. the `file` and `line` attributes (pytest writes 0-based lines: its suite is named `pytest`).
// Paths outside the repository (GOROOT, site-packages) are never annotated.
import { MAX_ANNOTATIONS_PER_REQUEST, truncateUtf8, utf8Length, type CheckAnnotation } from './check-run.ts';
import type { JunitFailure, JunitResult } from './junit.ts';
import { codeBlock } from './markdown.ts';

/** Annotations per check run: a batch of 50 per PATCH, each a paced write. */
export const MAX_ANNOTATIONS = 4 * MAX_ANNOTATIONS_PER_REQUEST;
/** Failing tests listed in the summary table. */
export const MAX_SUMMARY_ROWS = 50;
/** Failures whose text is shown in the details. */
export const MAX_DETAILED = 20;
/** One cell of the table: the failure's headline. */
const MAX_HEADLINE = 200;
/** One failure's text in the details, and an annotation's raw_details. */
const MAX_DETAIL_BYTES = 3000;
/** An annotation's message. */
const MAX_ANNOTATION_MESSAGE = 1000;
/** Room kept for the job's own summary above the tests section. */
const MAX_SECTION_BYTES = 48_000;
const MAX_TEXT_BYTES = 65_000;

export type { CheckAnnotation } from './check-run.ts';

export interface TestReport {
  /** JUnit files read, and those skipped because they were not JUnit XML (or too large). */
  files: number;
  skipped: Array<{ key: string; reason: string }>;
  tests: number;
  failed: number;
  skippedTests: number;
  /** Markdown appended to the check run's summary. */
  summary: string;
  /** The check run's output.text: each failure's text. */
  text: string;
  annotations: CheckAnnotation[];
}

export interface RepoRef {
  org: string;
  repo: string;
}

const SOURCE_EXT =
  'go|py|pyi|js|mjs|cjs|ts|tsx|jsx|java|kt|kts|scala|groovy|rs|c|cc|cpp|cxx|h|hh|hpp|rb|sh|bash|bats|php|cs|swift|m|mm|pl|pm|lua|ex|exs|erl|clj|tf|yaml|yml|rego|bpf|bt';
// `path:line` as test tools print it: after a space, a tab, `(`, `[`, a quote or the line start; not after `//`
// (URLs). The extension list keeps host:port (`api.k8s.io:443`) and IP:port out.
// One greedy class then a backtrack to the extension: linear in a token's length (failure texts are hostile input).
const LOCATION = new RegExp(`(?:^|[\\s(\\["'])((?:[A-Za-z]:)?[\\w./@+~-]+\\.(?:${SOURCE_EXT})):(\\d+)(?![\\d.])`, 'gm');

interface Candidate {
  raw: string;
  line: number;
}

function candidates(text: string): Candidate[] {
  const out: Candidate[] = [];
  for (const m of text.matchAll(LOCATION)) {
    const line = Number(m[2]);
    if (line > 0 && !m[1]!.includes('//')) out.push({ raw: m[1]!, line });
    if (out.length >= 50) break;
  }
  return out;
}

/** posix-normalises a relative path; undefined when it climbs out of the repository. */
function normalize(path: string): string | undefined {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) return undefined;
      out.pop();
    } else out.push(part);
  }
  return out.length > 0 ? out.join('/') : undefined;
}

/** The part of an absolute path (or a Go import path) inside the repository: after `/<org>/<repo>/`, else after the
 * first `/<repo>/` (vanity import paths: `/go/src/k8s.io/kubernetes/test/…`). */
function insideRepo(path: string, ref: RepoRef): string | undefined {
  const lower = `/${path.replace(/^\/+/, '')}`.toLowerCase();
  const full = `/${ref.org}/${ref.repo}/`.toLowerCase();
  let at = lower.indexOf(full);
  let skip = full.length;
  if (at < 0) {
    const bare = `/${ref.repo}/`.toLowerCase();
    at = lower.indexOf(bare);
    skip = bare.length;
  }
  if (at < 0) return undefined;
  return normalize(`/${path.replace(/^\/+/, '')}`.slice(at + skip));
}

interface Resolved {
  path: string;
  line: number;
}

function resolve(c: Candidate, f: JunitFailure, ref: RepoRef, base: string): Resolved | undefined {
  const raw = c.raw;
  let path: string | undefined;
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw)) path = insideRepo(raw.replace(/^[A-Za-z]:/, ''), ref);
  else if (!raw.includes('/') && raw.endsWith('.go') && f.classname.includes('/')) {
    // Go prints the file's base name; the package directory is the import path inside the repository.
    const dir = insideRepo(f.classname, ref);
    path = dir ? `${dir}/${raw}` : undefined;
  } else if (!raw.includes('/')) {
    // A bare name (Java's `Tests.java:42`) is known only as the test's own file.
    path = f.file && (f.file === raw || f.file.endsWith(`/${raw}`)) ? normalize(f.file) : undefined;
  } else path = normalize(`${base}${raw}`);
  return path ? { path, line: c.line } : undefined;
}

/** The directory test paths are printed relative to: the `file` attribute minus the text's path of that file
 * (pytest run from `filebeat/` prints `tests/x.py`, its file attribute says `filebeat/tests/x.py`). */
function baseDir(f: JunitFailure, found: Candidate[]): string {
  const file = f.file ? normalize(f.file) : undefined;
  if (!file) return '';
  for (const c of found) {
    const rel = normalize(c.raw);
    if (rel && rel !== file && file.endsWith(`/${rel}`)) return file.slice(0, file.length - rel.length);
  }
  return '';
}

/** Where a failure is in the repository, if anywhere known. */
export function locate(f: JunitFailure, ref: RepoRef): Resolved | undefined {
  const found = candidates(`${f.message}\n${f.text}`);
  const base = baseDir(f, found);
  const resolved = found.map((c) => resolve(c, f, ref, base)).filter((r): r is Resolved => r !== undefined);
  const file = f.file ? normalize(f.file) : undefined;
  const inTest = file ? resolved.find((r) => r.path === file) : undefined;
  if (inTest) return inTest;
  if (resolved[0]) return resolved[0];
  if (file && f.line !== undefined) return { path: file, line: f.suite === 'pytest' ? f.line + 1 : Math.max(1, f.line) };
  return undefined;
}

// Framing lines of Go's test output: they say a test ran, not why it failed.
const GO_FRAMING = /^\s*(=== (RUN|PAUSE|CONT|NAME)\b|--- (FAIL|PASS|SKIP):|FAIL\b|ok\s|PASS$)/;
const GENERIC = new Set(['', 'failed', 'failure', 'error', 'fail']);

/** The one line that says why a test failed: its message, unless that is generic (gotestsum writes "Failed"),
 * else the first telling line of its text. */
export function headline(f: JunitFailure): string {
  const message = f.message.trim();
  if (!GENERIC.has(message.toLowerCase()) && message !== f.type) return firstLine(message);
  for (const line of f.text.split(/\r?\n/)) {
    if (line.trim() === '' || GO_FRAMING.test(line)) continue;
    return firstLine(line);
  }
  return message || f.kind;
}

function firstLine(text: string): string {
  const line = text.trim().split(/\r?\n/)[0]!.trim();
  return line.length > MAX_HEADLINE ? `${line.slice(0, MAX_HEADLINE - 1)}…` : line;
}

function cell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|').replace(/`/g, "'");
}

function seconds(t: number | undefined): string {
  if (t === undefined) return '';
  return t >= 100 ? `${Math.round(t)}s` : `${Number(t.toFixed(2))}s`;
}

/** Suite and test as shown: the suite (or classname), and the test name prefixed with its class when that adds
 * something (pytest's `tests.test_x.Test` + `test_y`). */
function names(f: JunitFailure): { suite: string; test: string } {
  const suite = f.suite || f.classname;
  const test = f.classname && f.classname !== suite ? `${f.classname}.${f.name}` : f.name;
  return { suite, test };
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * The test report of a job from its JUnit results (merged over its files). `skipped` lists files that were not
 * read (not well-formed XML, too large), `files` counts those that were.
 */
export function testReportFor(result: JunitResult, ref: RepoRef, files: number, skipped: Array<{ key: string; reason: string }> = []): TestReport {
  const head: string[] = [];
  const counts = [`${result.failed} failed`, ...(result.skipped ? [`${result.skipped} skipped`] : []), `${result.tests} in total`];
  head.push(`### Tests: ${counts.join(', ')}`);
  if (result.failed > 0) {
    head.push('', '| Suite | Test | Time | Failure |', '|---|---|---|---|');
    for (const f of result.failures.slice(0, MAX_SUMMARY_ROWS)) {
      const n = names(f);
      head.push(`| ${cell(n.suite)} | ${cell(n.test)} | ${seconds(f.time)} | ${cell(headline(f))} |`);
    }
    const more = result.failed - Math.min(result.failures.length, MAX_SUMMARY_ROWS);
    if (more > 0) head.push('', `…and ${plural(more, 'more failed test')}.`);
  }
  if (skipped.length > 0) {
    const shown = skipped.slice(0, 5).map((s) => `\`${s.key}\` (${s.reason})`).join(', ');
    head.push('', `${plural(skipped.length, 'JUnit file')} not read: ${shown}${skipped.length > 5 ? ', …' : ''}.`);
  }
  const summary = truncateUtf8(head.join('\n'), MAX_SECTION_BYTES);

  const details: string[] = [];
  let budget = MAX_TEXT_BYTES;
  for (const f of result.failures.slice(0, MAX_DETAILED)) {
    const n = names(f);
    const body = truncateUtf8((f.text.trim() || f.message.trim() || f.kind).replace(/\r\n/g, '\n'), MAX_DETAIL_BYTES);
    const block = `#### ${cell(n.suite)} › ${cell(n.test)}\n\n${codeBlock(body)}\n`;
    const size = utf8Length(block);
    if (size > budget) break;
    budget -= size;
    details.push(block);
  }

  const annotations: CheckAnnotation[] = [];
  for (const f of result.failures) {
    if (annotations.length >= MAX_ANNOTATIONS) break;
    const at = locate(f, ref);
    if (!at) continue;
    const n = names(f);
    const raw = f.text.trim();
    annotations.push({
      path: at.path,
      start_line: at.line,
      end_line: at.line,
      annotation_level: 'failure',
      message: truncateUtf8(headline(f), MAX_ANNOTATION_MESSAGE),
      title: truncateUtf8(`${n.suite} › ${n.test}`, 255),
      ...(raw ? { raw_details: truncateUtf8(raw, MAX_DETAIL_BYTES) } : {}),
    });
  }
  return { files, skipped, tests: result.tests, failed: result.failed, skippedTests: result.skipped, summary, text: details.join('\n'), annotations };
}
