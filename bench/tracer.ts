// Tracer benchmark (npm run bench:tracer): a workload that knows its ground truth, traced by the real tracer.
//   1. recall: N execs of /bin/true with numbered arguments, M opens of known files, K TCP connects to a local
//      server, D DNS queries; recall per kind = captured / performed.
//   2. rate: opens paced at RATE events/s for SECONDS; lost events at that rate.
//   3. overhead: the same unpaced workload untraced and traced, alternating, median wall time of each.
//   CPU: bpftrace's and the agent's, in the workload window (compile/attach cost shown apart).
// Needs root and bpftrace; prints the reason and exits 0 when eBPF is unavailable.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTrace, type Trace } from '../src/trace/format.ts';
import { traceCommand, type TraceCommandResult } from '../src/tracer/command.ts';
import { EbpfUnavailableError } from '../src/tracer/errors.ts';

const N_EXECS = Number(process.env['BENCH_EXECS'] ?? 1000);
const M_OPENS = Number(process.env['BENCH_OPENS'] ?? 20000);
const K_CONNECTS = Number(process.env['BENCH_CONNECTS'] ?? 500);
const D_DNS = Number(process.env['BENCH_DNS'] ?? 500);
const RATE = Number(process.env['BENCH_RATE'] ?? 20000);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const FILES = 64;
const GZIPS = Number(process.env['BENCH_GZIPS'] ?? 20);

const work = mkdtempSync(join(tmpdir(), 'katabot-bench-'));
const dataDir = join(work, 'data');
mkdirSync(dataDir);
const files = Array.from({ length: FILES }, (_, i) => join(dataDir, `f${i}`));
for (const f of files) writeFileSync(f, 'x');

// The load generator: opens (optionally paced), then TCP connects, then DNS queries. One process, so its own
// startup opens are easy to tell apart from the counted ones (only data/f* paths count).
const genPath = join(work, 'gen.mjs');
writeFileSync(genPath, `
import fs from 'node:fs';
import net from 'node:net';
import dgram from 'node:dgram';
const [dir, opens, rate, port, connects, dns] = process.argv.slice(2).map((a, i) => (i === 0 ? a : Number(a)));
const files = Array.from({ length: ${FILES} }, (_, i) => dir + '/f' + i);
const t0 = performance.now();
let done = 0;
while (done < opens) {
  const due = rate > 0 ? Math.min(opens, Math.floor(((performance.now() - t0) / 1000) * rate)) : opens;
  while (done < due) { fs.closeSync(fs.openSync(files[done % files.length], 'r')); done++; }
  if (rate > 0 && done < opens) await new Promise((r) => setTimeout(r, 1));
}
for (let i = 0; i < connects; i++) {
  await new Promise((resolve, reject) => { const c = net.connect(port, '127.0.0.1', () => c.end()); c.on('close', resolve); c.on('error', reject); });
}
const u = dgram.createSocket('udp4');
for (let i = 0; i < dns; i++) {
  const name = Buffer.concat(['q' + i, 'bench', 'example'].map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])));
  const q = Buffer.concat([Buffer.from([i >> 8 & 255, i & 255, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]), name, Buffer.from([0, 0, 1, 0, 1])]);
  await new Promise((r) => u.send(q, 53, '127.0.0.1', r));
}
u.close();
`);

const serverPath = join(work, 'server.mjs');
writeFileSync(serverPath, `
import net from 'node:net';
const s = net.createServer((c) => { c.resume(); c.on('error', () => {}); });
s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));
`);

// A build-like step: CPU-bound work with the syscalls of real tools (exec, loader, reads, writes).
const blob = join(work, 'blob');
{
  const words = 'kata containers runtime agent shim hypervisor guest kernel virtiofs sandbox pod'.split(' ');
  let s = '';
  let seed = 42;
  while (s.length < 2 * 1024 * 1024) { seed = (seed * 1103515245 + 12345) % 2 ** 31; s += words[seed % words.length] + (seed % 7 === 0 ? '\n' : ' ') + (seed % 1000); }
  writeFileSync(blob, s);
}
const buildLike = join(work, 'build-like.sh');
writeFileSync(buildLike, `for ((i = 0; i < ${GZIPS}; i++)); do /usr/bin/gzip -6 -c ${blob} > /dev/null; done\n`);

function workloadScript(execs: number, opens: number, rate: number, port: number, connects: number, dns: number): string {
  const script = join(work, `workload-${execs}-${opens}-${rate}-${connects}-${dns}.sh`);
  writeFileSync(script, [
    `for ((i = 0; i < ${execs}; i++)); do /bin/true bench-$i; done`,
    `exec ${process.execPath} ${genPath} ${dataDir} ${opens} ${rate} ${port} ${connects} ${dns}`,
  ].join('\n') + '\n');
  return script;
}

async function startServer(): Promise<{ port: number; stop: () => void }> {
  const p = spawn(process.execPath, [serverPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => p.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  return { port, stop: () => p.kill() };
}

function runUntraced(script: string): Promise<number> {
  const t = performance.now();
  const p = spawn('/bin/bash', [script], { stdio: 'ignore' });
  return new Promise((resolve, reject) => p.on('exit', (code) => (code === 0 ? resolve(performance.now() - t) : reject(new Error(`workload exited ${code}`)))));
}

async function runTraced(script: string, name: string): Promise<{ r: TraceCommandResult; trace: Trace }> {
  const out = join(work, `${name}.jsonl`);
  const r = await traceCommand({ argv: ['/bin/bash', script], out, stdio: 'ignore', lingerMs: 500 });
  if (r.exitCode !== 0) throw new Error(`traced workload exited ${r.exitCode}`);
  return { r, trace: parseTrace(readFileSync(out, 'utf8')) };
}

const pct = (a: number, b: number): string => (b === 0 ? 'n/a' : `${((100 * a) / b).toFixed(2)}%`);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function recall(trace: Trace, port: number): Record<string, [captured: number, performed: number]> {
  const execArgs = new Set<string>();
  let opens = 0;
  let connects = 0;
  const dns = new Set<string>();
  const known = new Set(files);
  for (const e of trace.events) {
    if (e.kind === 'exec' && e.exe === '/bin/true' && e.result === 0 && e.argv?.[1]?.startsWith('bench-')) execArgs.add(e.argv[1]);
    else if (e.kind === 'open' && e.path && known.has(e.path) && (e.result ?? -1) >= 0) opens++;
    else if (e.kind === 'connect' && e.dport === port && e.result === 0) connects++;
    else if (e.kind === 'dns' && e.query?.endsWith('.bench.example')) dns.add(e.query);
  }
  return { exec: [execArgs.size, N_EXECS], open: [opens, M_OPENS], connect: [connects, K_CONNECTS], dns: [dns.size, D_DNS] };
}

function cpuLine(r: TraceCommandResult): string {
  const bpf = r.cpu.bpftrace - r.cpu.bpftraceAtAttach;
  const agent = r.cpu.agent - r.cpu.agentAtAttach;
  return `bpftrace ${bpf.toFixed(2)} s, agent ${agent.toFixed(2)} s (agent/bpftrace ${(agent / Math.max(bpf, 0.001)).toFixed(2)}); `
    + `compile+attach: bpftrace ${r.cpu.bpftraceAtAttach.toFixed(2)} s`;
}

async function main(): Promise<void> {
  const server = await startServer();
  try {
    console.log(`katabot tracer benchmark — ${new Date().toISOString()}`);

    // 1. recall against ground truth
    const truth = workloadScript(N_EXECS, M_OPENS, 0, server.port, K_CONNECTS, D_DNS);
    const { r: r1, trace: t1 } = await runTraced(truth, 'recall');
    console.log(`bpftrace ${t1.header.bpftrace}, kernel ${t1.header.kernel}`);
    console.log(`\n1. recall (${N_EXECS} execs, ${M_OPENS} opens, ${K_CONNECTS} TCP connects, ${D_DNS} DNS queries; unpaced)`);
    for (const [kind, [got, want]] of Object.entries(recall(t1, server.port))) console.log(`   ${kind.padEnd(8)} ${got}/${want} = ${pct(got, want)}`);
    const events1 = Object.values(t1.footer.counts).reduce((a, b) => a + b, 0);
    console.log(`   events ${events1} in ${(r1.commandMs / 1000).toFixed(2)} s (${Math.round(events1 / (r1.commandMs / 1000))}/s); lost ${JSON.stringify(t1.footer.lost)}`);
    console.log(`   cpu: ${cpuLine(r1)}`);

    // 2. lost events at a sustained rate
    const opensAtRate = RATE * SECONDS;
    const paced = workloadScript(0, opensAtRate, RATE, server.port, 0, 0);
    const { r: r2, trace: t2 } = await runTraced(paced, 'rate');
    const [got2] = recall(t2, server.port)['open']!;
    const events2 = Object.values(t2.footer.counts).reduce((a, b) => a + b, 0);
    console.log(`\n2. sustained rate: ${opensAtRate} opens paced at ${RATE}/s`);
    console.log(`   achieved ${Math.round(events2 / (r2.commandMs / 1000))} events/s over ${(r2.commandMs / 1000).toFixed(2)} s; open recall ${got2}/${opensAtRate} = ${pct(got2, opensAtRate)}`);
    console.log(`   lost ${JSON.stringify(t2.footer.lost)}`);
    console.log(`   cpu: ${cpuLine(r2)}`);

    // 3. overhead, alternating untraced and traced runs of the unpaced workload
    const untraced: number[] = [];
    const traced: number[] = [];
    await runUntraced(truth); // warm caches
    for (let i = 0; i < ROUNDS; i++) {
      untraced.push(await runUntraced(truth));
      traced.push((await runTraced(truth, `overhead-${i}`)).r.commandMs);
    }
    const u = median(untraced);
    const t = median(traced);
    console.log(`\n3. wall-time overhead (${ROUNDS} rounds each, alternating, median)`);
    console.log(`   a. syscall-saturating workload above (${Math.round(events1 / (u / 1000))} events/s untraced): untraced ${(u / 1000).toFixed(3)} s, traced ${(t / 1000).toFixed(3)} s → ${(((t - u) / u) * 100).toFixed(1)}%`);
    console.log(`      untraced runs ${untraced.map((x) => (x / 1000).toFixed(3)).join(' ')}; traced runs ${traced.map((x) => (x / 1000).toFixed(3)).join(' ')}`);
    const bu: number[] = [];
    const bt: number[] = [];
    let lastBuild: { r: TraceCommandResult; trace: Trace } | undefined;
    await runUntraced(buildLike);
    for (let i = 0; i < ROUNDS; i++) {
      bu.push(await runUntraced(buildLike));
      lastBuild = await runTraced(buildLike, `build-${i}`);
      bt.push(lastBuild.r.commandMs);
    }
    const bum = median(bu);
    const btm = median(bt);
    const buildEvents = Object.values(lastBuild!.trace.footer.counts).reduce((a, b) => a + b, 0);
    console.log(`   b. build-like workload (${GZIPS} × gzip -6 of 2 MiB, ${buildEvents} events): untraced ${(bum / 1000).toFixed(3)} s, traced ${(btm / 1000).toFixed(3)} s → ${(((btm - bum) / bum) * 100).toFixed(1)}%`);
    console.log(`      untraced runs ${bu.map((x) => (x / 1000).toFixed(3)).join(' ')}; traced runs ${bt.map((x) => (x / 1000).toFixed(3)).join(' ')}; lost ${lastBuild!.trace.footer.lost.total}`);
    console.log(`      cpu: ${cpuLine(lastBuild!.r)}`);
    console.log(`\ngoals: exec recall ≥ 99.9%, 0 lost at 20k events/s, overhead ≤ 5%`);
  } finally {
    server.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  if (err instanceof EbpfUnavailableError) {
    console.log(`benchmark skipped: ${err.message}`);
    rmSync(work, { recursive: true, force: true });
    return;
  }
  console.error(err);
  process.exitCode = 1;
});
