// npm run bench:apis — `katabot apis` and the bot's audit reading on a generated 2 GB apiserver audit log.
// Writes the log (BENCH_AUDIT_MB, default 2048; test/fixtures/audit-log.ts: an e2e run's shape under katabot's
// audit policy, with a malformed line now and then) to a temporary file, then reads it in separate child processes
// (test/fixtures/audit-read-child.ts), each with its own peak RSS: (1) splitting lines only, the floor; (2) lines
// and JSON.parse, what any reader pays; (3) katabot: every event into the API usage and a behavior profile, with a
// 128 MB heap limit, so a reader that held the log (or a set of its auditIDs) would run out of memory.
// Prints throughput, peak RSS, the heap still alive after the read, and the ratios against (1) and (2).
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { auditLogChunks } from '../test/fixtures/audit-log.ts';

const MB = Number(process.env.BENCH_AUDIT_MB ?? 2048);
const SPEC = new URL('../../shared/kubernetes/openapi-v2-swagger.json.gz', import.meta.url).pathname;
const CHILD = new URL('../test/fixtures/audit-read-child.ts', import.meta.url).pathname;
const HEAP_MB = 128;

interface Result { seconds: number; maxRssMb: number; heapUsedMb?: number; events?: number; requests?: number; skipped?: number; open?: number }

function child(mode: string, file: string, heap?: number): Result {
  const args = ['--expose-gc', ...(heap ? [`--max-old-space-size=${heap}`] : []), CHILD, '--mode', mode, '--file', file, '--spec', SPEC];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`${mode}: exit ${r.status}\n${r.stderr}`);
  return JSON.parse(r.stdout) as Result;
}

const dir = mkdtempSync(join(tmpdir(), 'katabot-bench-apis-'));
try {
  const file = join(dir, 'kube-apiserver-audit.log');
  const g0 = Date.now();
  await pipeline(Readable.from(auditLogChunks({ bytes: MB * 1024 * 1024, malformedEvery: 5000 })), createWriteStream(file));
  const size = statSync(file).size / 1048576;
  console.log(`bench:apis: generated ${size.toFixed(0)} MB in ${((Date.now() - g0) / 1000).toFixed(1)} s`);
  const lines = child('lines', file);
  const parse = child('parse', file);
  const katabot = child('katabot', file, HEAP_MB);
  const row = (name: string, r: Result) => console.log(`  ${name.padEnd(26)} ${r.seconds.toFixed(1).padStart(7)} s  ${(size / r.seconds).toFixed(0).padStart(5)} MB/s  peak RSS ${String(r.maxRssMb).padStart(4)} MB`
    + `${r.heapUsedMb !== undefined ? `  heap after ${r.heapUsedMb} MB` : ''}`);
  row('lines (floor)', lines);
  row('lines + JSON.parse', parse);
  row(`katabot (heap ≤ ${HEAP_MB} MB)`, katabot);
  console.log(`  katabot: ${katabot.events} events, ${katabot.requests} requests, ${katabot.skipped} malformed skipped, ${katabot.open} watches still open at the end`);
  console.log(`  ratios: lines/katabot ${(lines.seconds / katabot.seconds).toFixed(2)}, parse/katabot ${(parse.seconds / katabot.seconds).toFixed(2)} (1.0 = as fast as the baseline)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
