// JUnit XML results, read as a stream (pure: bytes in, test results out). One JunitReader per file: write() the
// file's chunks, then end(). Memory stays bounded whatever the file's size: passing and skipped cases are only
// counted, system-out/system-err are never kept, and of failing cases at most MAX_KEPT_FAILURES are kept, each
// failure text cut to MAX_FAILURE_TEXT characters. The XML is parsed by saxes (a strict, streaming parser): a file
// that is not well-formed XML throws JunitSyntaxError and yields nothing, so the caller skips it whole.
//
// What is read, across the dialects seen in Prow jobs (Go's gotestsum and go-junit-report, Ginkgo v1/v2 as the
// Kubernetes e2e suite writes junit_NN.xml, pytest, Maven surefire):
//   <testsuites>? <testsuite name>* <testcase classname name time file? line? status?>
//     <failure|error message? type?>text</failure|error>   → a failing case (several: the first one counts)
//     <skipped/>                                           → skipped
// Nested testsuites name the innermost suite. A case without a suite (a bare <testcase> root) has suite ''.
import { SaxesParser, type SaxesTagPlain } from 'saxes';

/** Failing cases kept per file; the rest are counted. */
export const MAX_KEPT_FAILURES = 1000;
/** Characters of one failure's text kept (its message attribute is cut to the same). */
export const MAX_FAILURE_TEXT = 16_384;

export interface JunitFailure {
  suite: string;
  classname: string;
  name: string;
  /** Seconds, when the file says. */
  time?: number;
  /** `file` and `line` attributes, when the producer writes them (pytest's xunit1, some Java reporters). */
  file?: string;
  line?: number;
  kind: 'failure' | 'error';
  message: string;
  type: string;
  /** The element's text (a stack trace, Go's test output, Ginkgo's failure location), cut to MAX_FAILURE_TEXT. */
  text: string;
}

interface JunitCounts {
  tests: number;
  failed: number;
  skipped: number;
}

export interface JunitResult extends JunitCounts {
  failures: JunitFailure[];
  /** Failing cases beyond MAX_KEPT_FAILURES: counted in `failed`, not kept. */
  dropped: number;
}

export class JunitSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JunitSyntaxError';
  }
}

interface OpenCase {
  suite: string;
  attrs: Record<string, string>;
  result?: { kind: 'failure' | 'error'; message: string; type: string; text: string };
  skipped: boolean;
}

function cut(text: string): string {
  return text.length > MAX_FAILURE_TEXT ? text.slice(0, MAX_FAILURE_TEXT) : text;
}

function positiveNumber(v: string | undefined): number | undefined {
  if (v === undefined || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** Streams one JUnit XML file. */
export class JunitReader {
  readonly #parser = new SaxesParser<{ xmlns: false; position: true }>({ xmlns: false, position: true });
  readonly #decoder = new TextDecoder('utf-8', { fatal: false });
  readonly #suites: string[] = [];
  readonly #out: JunitResult = { tests: 0, failed: 0, skipped: 0, failures: [], dropped: 0 };
  #case: OpenCase | undefined;
  /** Inside the failure/error element whose text is collected. */
  #collecting = false;
  #sawTestElement = false;
  #done = false;

  constructor() {
    const p = this.#parser;
    p.on('opentag', (tag) => this.#open(tag));
    p.on('closetag', (tag) => this.#close(tag));
    p.on('text', (t) => this.#text(t));
    p.on('cdata', (t) => this.#text(t));
  }

  /** Feeds the next chunk; throws JunitSyntaxError when the XML is not well-formed. */
  write(chunk: Uint8Array | string): void {
    const text = typeof chunk === 'string' ? chunk : this.#decoder.decode(chunk, { stream: true });
    this.#feed(text);
  }

  /** The file's results; throws JunitSyntaxError when the document is incomplete or holds no test results. */
  end(): JunitResult {
    if (this.#done) return this.#out;
    this.#feed(this.#decoder.decode());
    try {
      this.#parser.close();
    } catch (err) {
      throw new JunitSyntaxError((err as Error).message);
    }
    if (!this.#sawTestElement) throw new JunitSyntaxError('no <testsuite> or <testcase> element: not a JUnit report');
    this.#done = true;
    return this.#out;
  }

  #feed(text: string): void {
    if (text === '') return;
    try {
      this.#parser.write(text);
    } catch (err) {
      throw new JunitSyntaxError((err as Error).message);
    }
  }

  #open(tag: SaxesTagPlain): void {
    const a = tag.attributes as Record<string, string>;
    switch (tag.name) {
      case 'testsuites':
        this.#sawTestElement = true;
        return;
      case 'testsuite':
        this.#sawTestElement = true;
        this.#suites.push(a.name ?? '');
        return;
      case 'testcase':
        this.#sawTestElement = true;
        this.#case = { suite: this.#suites.at(-1) ?? '', attrs: a, skipped: false };
        return;
      case 'failure':
      case 'error': {
        const c = this.#case;
        if (!c || c.result) return; // a second failure of one case: the first one counts
        c.result = { kind: tag.name, message: cut(a.message ?? ''), type: a.type ?? '', text: '' };
        this.#collecting = true;
        return;
      }
      case 'skipped':
        if (this.#case) this.#case.skipped = true;
        return;
    }
  }

  #text(t: string): void {
    const r = this.#case?.result;
    if (!this.#collecting || !r || r.text.length >= MAX_FAILURE_TEXT) return;
    r.text = cut(r.text + t);
  }

  #close(tag: SaxesTagPlain): void {
    switch (tag.name) {
      case 'testsuite':
        this.#suites.pop();
        return;
      case 'failure':
      case 'error':
        this.#collecting = false;
        return;
      case 'testcase': {
        const c = this.#case;
        this.#case = undefined;
        if (c) this.#count(c);
        return;
      }
    }
  }

  #count(c: OpenCase): void {
    const out = this.#out;
    out.tests++;
    // Ginkgo v2 also says status="failed"/"skipped"; the child elements carry the same fact.
    if (!c.result) {
      if (c.skipped || c.attrs.status === 'skipped') out.skipped++;
      return;
    }
    out.failed++;
    if (out.failures.length >= MAX_KEPT_FAILURES) {
      out.dropped++;
      return;
    }
    const f: JunitFailure = {
      suite: c.suite,
      classname: c.attrs.classname ?? '',
      name: c.attrs.name ?? '',
      kind: c.result.kind,
      message: c.result.message,
      type: c.result.type,
      text: c.result.text,
    };
    const time = positiveNumber(c.attrs.time);
    if (time !== undefined) f.time = time;
    if (c.attrs.file) f.file = c.attrs.file;
    const line = positiveNumber(c.attrs.line);
    if (line !== undefined && Number.isInteger(line)) f.line = line;
    out.failures.push(f);
  }
}

/** Parses a whole document (tests, small files). */
export function parseJunit(xml: string): JunitResult {
  const r = new JunitReader();
  r.write(xml);
  return r.end();
}

/** Sums the results of several files (Kubernetes e2e writes one junit_NN.xml per parallel node). */
export function mergeJunit(results: readonly JunitResult[]): JunitResult {
  const out: JunitResult = { tests: 0, failed: 0, skipped: 0, failures: [], dropped: 0 };
  for (const r of results) {
    out.tests += r.tests;
    out.failed += r.failed;
    out.skipped += r.skipped;
    out.dropped += r.dropped;
    for (const f of r.failures) {
      if (out.failures.length < MAX_KEPT_FAILURES) out.failures.push(f);
      else out.dropped++;
    }
  }
  return out;
}
