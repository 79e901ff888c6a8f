// `katabot policy` and `katabot graph` as a user runs them, on trace files of the shop fixture (three workloads):
// every format on stdout and into a directory, --base widening, --workload, and one-line errors for bad input.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { canonicalCustomEvent, canonicalEvent, canonicalFooter, canonicalHeader } from '../../src/trace/format.ts';
import type { ServiceGraph } from '../../src/trace/service-graph.ts';
import { shopRun } from '../fixtures/policy/shop.ts';

const CLI = new URL('../../bin/katabot.js', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'katabot-policy-cli-'));
after(() => rmSync(work, { recursive: true, force: true }));

function writeTrace(name: string, run: ReturnType<typeof shopRun>): string {
  const lines = [canonicalHeader(run.header), ...run.events.map(canonicalEvent), ...run.custom.map(canonicalCustomEvent), canonicalFooter(run.footer)];
  const path = join(work, name);
  writeFileSync(path, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  return path;
}

const base = writeTrace('base.jsonl', shopRun(0));
const variant = writeTrace('variant.jsonl', shopRun(1, { variant: true }));

type Result = { code: number | null; stdout: string; stderr: string };

function run(args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: work, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

// Every invocation starts together (a CLI start costs a second or two of CPU): the tests read the results.
const invocations: Record<string, string[]> = {};
const results: Record<string, Result> = {};
const katabot = (...args: string[]): Result => results[args.join(' ')]!;
const want = (...args: string[]): void => { invocations[args.join(' ')] = args; };
/** Runs the invocations a suite declared (its body runs before its hooks), all at once. */
async function runDeclared(): Promise<void> {
  const keys = Object.keys(invocations).filter((k) => !results[k]);
  const done = await Promise.all(keys.map((k) => run(invocations[k]!)));
  keys.forEach((k, i) => { results[k] = done[i]!; });
}

describe('katabot policy (CLI)', () => {
  before(runDeclared);
  const formats: Array<[string, string]> = [['networkpolicy', 'NetworkPolicy'], ['cilium', 'CiliumNetworkPolicy'], ['kubearmor', 'KubeArmorPolicy']];
  for (const [format, kind] of formats) {
    want('policy', base, '--format', format);
    it(`--format ${format}: one ${kind} per workload on stdout`, () => {
      const r = katabot('policy', base, '--format', format);
      assert.equal(r.code, 0, r.stderr);
      const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as { kind: string; metadata: { name: string } });
      assert.deepEqual(docs.map((d) => [d.kind, d.metadata.name]), [[kind, 'backend-katabot'], [kind, 'db-katabot'], [kind, 'frontend-katabot']]);
      assert.ok(r.stdout.includes(`#   - run ${base}\n`), 'names the run');
    });
  }
  want('policy', base, '--format', 'networkpolicy', '--workload', 'shop/frontend');
  want('policy', base, '--base', variant, '--format', 'networkpolicy', '--workload', 'shop/frontend');
  it('--base widens: the variant\'s extra egress is allowed once the variant is a base run', () => {
    const narrow = katabot('policy', base, '--format', 'networkpolicy', '--workload', 'shop/frontend').stdout;
    const wide = katabot('policy', base, '--base', variant, '--format', 'networkpolicy', '--workload', 'shop/frontend').stdout;
    assert.doesNotMatch(narrow, /port: 5432/);
    assert.match(wide, /# to workload shop\/db: TCP\/5432/);
  });
  const dir = join(work, 'seccomp');
  want('policy', base, '--format', 'seccomp', '--out', dir);
  it('--format seccomp --out DIR: one OCI profile per workload', () => {
    const r = katabot('policy', base, '--format', 'seccomp', '--out', dir);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readdirSync(dir).sort(), ['shop-backend.json', 'shop-db.json', 'shop-frontend.json']);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'shop-db.json'), 'utf8')).syscalls[0].names, ['accept', 'fsync', 'pread64', 'pwrite64', 'read', 'write']);
  });
  const errors: Array<[string, string[], RegExp]> = [
    ['an unknown format', ['policy', 'base.jsonl', '--format', 'opa'], /^katabot policy: --format wants networkpolicy, cilium, kubearmor, seccomp, got "opa"\n$/],
    ['a missing run', ['policy', 'nope.jsonl', '--format', 'cilium'], /^katabot policy: .*nope\.jsonl/],
    ['an unknown workload', ['policy', 'base.jsonl', '--format', 'cilium', '--workload', 'shop/x'], /^katabot policy: --workload shop\/x: not in the run \(workloads: shop\/backend, shop\/db, shop\/frontend\)\n$/],
    ['seccomp for several workloads on stdout', ['policy', 'base.jsonl', '--format', 'seccomp'], /give --out DIR, or --workload/],
  ];
  for (const [name, args, message] of errors) {
    want(...args);
    it(`one line and exit 2 for ${name}`, () => {
      const r = katabot(...args);
      assert.equal(r.code, 2);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    });
  }
});

describe('katabot graph (CLI)', () => {
  before(runDeclared);
  want('graph', variant, '--base', base);
  want('graph', base, '--format', 'dot', '--group-by', 'app.kubernetes.io/part-of');
  want('graph', base, '--format', 'mermaid');
  want('graph', base, '--format', 'html');
  want('graph', base, '--format', 'png');
  it('json with --base: the added edge', () => {
    const g = JSON.parse(katabot('graph', variant, '--base', base).stdout) as ServiceGraph;
    assert.deepEqual(g.edges.filter((e) => e.status === 'added').map((e) => e.id), ['shop/frontend → shop/db tcp/5432']);
  });
  it('dot grouped by a label, mermaid, and a self-contained html page', () => {
    assert.match(katabot('graph', base, '--format', 'dot', '--group-by', 'app.kubernetes.io/part-of').stdout, /subgraph cluster_0 \{\n {4}label="app.kubernetes.io\/part-of=shop";/);
    assert.match(katabot('graph', base, '--format', 'mermaid').stdout, /^flowchart LR\n/);
    const html = katabot('graph', base, '--format', 'html').stdout;
    assert.match(html, /^<!doctype html>/);
    assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href=/, 'no external resources');
  });
  it('one line and exit 2 for an unknown format', () => {
    const r = katabot('graph', base, '--format', 'png');
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'katabot graph: --format wants json, dot, mermaid, html, got "png"\n');
  });
});
