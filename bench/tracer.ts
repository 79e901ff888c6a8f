// Tracer benchmark (npm run bench:tracer): workloads that know their ground truth, traced by the real tracer, each
// mode measured against baselines in the same run, rounds interleaved so drift on a shared machine hits all alike.
//   modes: untraced; raw bpftrace printing one line per event to a file (no agent); katabot printing every event
//          (--no-aggregate, the tracer before in-kernel aggregation); katabot counting repeats in the kernel.
//   1. wall-time overhead, per round against that round's untraced run, median and spread:
//      a. syscall-heavy: N execs of /bin/true, M opens of 64 files, K TCP connects, D DNS queries, unpaced;
//      b. build-like: G × gzip -6 of 2 MiB.
//   2. recall against ground truth per mode (exec, open, connect, DNS), with lost events.
//   3. burst: 100k opens of 4 files in one tight loop plus 20 execs; lost events and execs missing per mode.
//   4. rate: opens paced at RATE/s for SECONDS; lost events at that rate.
//   5. with BENCH_BPF_STATS=1 (needs bpftool; turns kernel.bpf_stats_enabled on for the run, then back): the time
//      the probes themselves take in the kernel, per exec and per open, per mode — a figure the machine's noise
//      does not move.
//   CPU: bpftrace's and the agent's, in the workload window (compile/attach cost shown apart).
// Needs root and bpftrace; prints the reason and exits 0 when eBPF is unavailable.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTrace, type Trace } from '../src/trace/format.ts';
import { bpftraceLaunch } from '../src/tracer/bpftrace.ts';
import { createTraceCgroup, ownCgroupDir, removeCgroup } from '../src/tracer/cgroup-fs.ts';
import { traceCommand, type TraceCommandResult } from '../src/tracer/command.ts';
import { EbpfUnavailableError } from '../src/tracer/errors.ts';
import { preflight, type Preflight } from '../src/tracer/preflight.ts';
import { median } from './stats.ts';

const N_EXECS = Number(process.env['BENCH_EXECS'] ?? 1000);
const M_OPENS = Number(process.env['BENCH_OPENS'] ?? 20000);
const K_CONNECTS = Number(process.env['BENCH_CONNECTS'] ?? 500);
const D_DNS = Number(process.env['BENCH_DNS'] ?? 500);
const RATE = Number(process.env['BENCH_RATE'] ?? 20000);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const GZIPS = Number(process.env['BENCH_GZIPS'] ?? 20);
const BURST_OPENS = Number(process.env['BENCH_BURST_OPENS'] ?? 100_000);
const BURST_EXECS = 20;
const FILES = 64;

const work = mkdtempSync(join(tmpdir(), 'katabot-bench-'));
const dataDir = join(work, 'data');
mkdirSync(dataDir);
const files = Array.from({ length: FILES }, (_, i) => join(dataDir, `f${i}`));
for (const f of files) writeFileSync(f, 'x');

// The load generator: opens (optionally paced) of the first `nfiles` data files, then TCP connects, then DNS
// queries. One process, so its own startup opens are easy to tell apart from the counted ones (data/f* only).
const genPath = join(work, 'gen.mjs');
writeFileSync(genPath, `
import fs from 'node:fs';
import net from 'node:net';
import dgram from 'node:dgram';
const [dir, opens, rate, port, connects, dns, nfiles] = process.argv.slice(2).map((a, i) => (i === 0 ? a : Number(a)));
const files = Array.from({ length: nfiles }, (_, i) => dir + '/f' + i);
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

function workloadScript(name: string, execs: number, opens: number, rate: number, port: number, connects: number, dns: number, nfiles = FILES): string {
  const script = join(work, `${name}.sh`);
  writeFileSync(script, [
    `for ((i = 0; i < ${execs}; i++)); do /bin/true bench-$i; done`,
    `exec ${process.execPath} ${genPath} ${dataDir} ${opens} ${rate} ${port} ${connects} ${dns} ${nfiles}`,
  ].join('\n') + '\n');
  return script;
}

async function startServer(): Promise<{ port: number; stop: () => void }> {
  const p = spawn(process.execPath, [serverPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => p.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  return { port, stop: () => p.kill() };
}

/** Runs a script, in `cgroupDir` when given; resolves with its wall time in ms. */
function runScript(script: string, cgroupDir?: string): Promise<number> {
  const argv = cgroupDir ? ['-c', 'echo 0 > "$0/cgroup.procs" || exit 125; exec /bin/bash "$1"', cgroupDir, script] : [script];
  const t = performance.now();
  const p = spawn(cgroupDir ? '/bin/sh' : '/bin/bash', argv, { stdio: 'ignore' });
  return new Promise((resolve, reject) => p.on('exit', (code) => (code === 0 ? resolve(performance.now() - t) : reject(new Error(`workload exited ${code}`)))));
}

/** The probes katabot's program has, each printing one line per event, as one would write them by hand. */
function rawProgram(cgroupId: bigint): string {
  const f = `/cgroup == ${cgroupId}/`;
  return `BEGIN { printf("ready\\n"); }
tracepoint:syscalls:sys_enter_execve ${f} { printf("exec %d %d %s %s\\n", pid, curtask->real_parent->tgid, comm, str(args->filename)); }
tracepoint:sched:sched_process_exit ${f} { printf("exit %d %d\\n", pid, curtask->exit_code); }
tracepoint:syscalls:sys_enter_openat ${f} { @path[tid] = (uint64)args->filename; }
tracepoint:syscalls:sys_exit_openat ${f} { printf("open %d %d %s %s\\n", pid, args->ret, comm, str(@path[tid])); delete(@path[tid]); }
tracepoint:sock:inet_sock_set_state ${f} { if (args->oldstate == 7 && args->newstate == 2) { printf("connect %d %s %d\\n", pid, ntop(args->daddr), args->dport); } }
tracepoint:syscalls:sys_enter_sendto ${f} { printf("send %d %d %d\\n", pid, args->fd, args->len); }
END { clear(@path); }
`;
}

/** Raw bpftrace on the script's own cgroup, writing its lines to a file: the cost of printing every event. */
async function runRaw(pre: Preflight, script: string): Promise<number> {
  const cg = createTraceCgroup(pre.cgroupRoot);
  const dir = mkdtempSync(join(work, 'raw-'));
  const program = join(dir, 'raw.bt');
  const out = join(dir, 'out.json');
  writeFileSync(program, rawProgram(cg.id));
  const launch = bpftraceLaunch(pre.bin, ['-f', 'json', '-o', out, program]);
  const bt = spawn(launch.command, launch.args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, BPFTRACE_STRLEN: '200', BPFTRACE_PERF_RB_PAGES: '1024' } });
  const exited = new Promise<void>((resolve) => bt.on('close', () => resolve()));
  try {
    const deadline = Date.now() + 120_000;
    for (;;) {
      let text = '';
      try { text = readFileSync(out, 'utf8'); } catch { /* not yet */ }
      if (text.includes('ready')) break;
      if (Date.now() > deadline || bt.exitCode !== null) throw new Error('raw bpftrace did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
    return await runScript(script, cg.dir);
  } finally {
    const again = setInterval(() => bt.kill('SIGINT'), 500);
    bt.kill('SIGINT');
    await exited;
    clearInterval(again);
    removeCgroup(cg.dir, ownCgroupDir(pre.cgroupRoot));
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runTraced(script: string, name: string, aggregate: boolean): Promise<{ r: TraceCommandResult; trace: Trace }> {
  const out = join(work, `${name}.jsonl`);
  const r = await traceCommand({ argv: ['/bin/bash', script], out, stdio: 'ignore', lingerMs: 500, aggregate });
  if (r.exitCode !== 0) throw new Error(`traced workload exited ${r.exitCode}`);
  const trace = parseTrace(readFileSync(out, 'utf8'));
  rmSync(out, { force: true });
  return { r, trace };
}

const pct = (a: number, b: number): string => (b === 0 ? 'n/a' : `${((100 * a) / b).toFixed(2)}%`);
const signed = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(1)}%`;
const spread = (xs: number[]): string => `${signed(Math.min(...xs))} … ${signed(Math.max(...xs))}`;

/** Counts from the trace's events, `count` included: the numbers the profile would see. */
function recall(trace: Trace, port: number): Record<string, [captured: number, performed: number]> {
  const execArgs = new Set<string>();
  let opens = 0;
  let connects = 0;
  const dns = new Set<string>();
  const known = new Set(files);
  for (const e of trace.events) {
    const n = e.count ?? 1;
    if (e.kind === 'exec' && e.exe === '/bin/true' && e.result === 0 && e.argv?.[1]?.startsWith('bench-')) execArgs.add(e.argv[1]);
    else if (e.kind === 'open' && e.path && known.has(e.path) && (e.result ?? -1) >= 0) opens += n;
    else if (e.kind === 'connect' && e.dport === port && e.result === 0) connects += n;
    else if (e.kind === 'dns' && e.query?.endsWith('.bench.example')) dns.add(e.query);
  }
  return { exec: [execArgs.size, N_EXECS], open: [opens, M_OPENS], connect: [connects, K_CONNECTS], dns: [dns.size, D_DNS] };
}

function cpuLine(r: TraceCommandResult): string {
  const bpf = r.cpu.bpftrace - r.cpu.bpftraceAtAttach;
  const agent = r.cpu.agent - r.cpu.agentAtAttach;
  return `bpftrace ${bpf.toFixed(2)} s, agent ${agent.toFixed(2)} s; compile+attach: bpftrace ${r.cpu.bpftraceAtAttach.toFixed(2)} s`;
}

type Mode = 'untraced' | 'raw' | 'per-event' | 'aggregated';
const MODES: readonly Mode[] = ['untraced', 'raw', 'per-event', 'aggregated'];

async function main(): Promise<void> {
  const pre = await preflight();
  const server = await startServer();
  try {
    const load0 = loadavg();
    console.log(`katabot tracer benchmark — ${new Date().toISOString()}; bpftrace ${pre.version.raw}; load average ${load0.map((l) => l.toFixed(2)).join(' ')}`);
    const heavy = workloadScript('syscall-heavy', N_EXECS, M_OPENS, 0, server.port, K_CONNECTS, D_DNS);
    const workloads = [{ name: 'a. syscall-heavy', script: heavy }, { name: 'b. build-like', script: buildLike }];
    const times = new Map<string, Record<Mode, number[]>>(workloads.map((w) => [w.name, { untraced: [], raw: [], 'per-event': [], aggregated: [] }]));
    const last = new Map<string, { r: TraceCommandResult; trace: Trace }>();
    for (const w of workloads) await runScript(w.script); // warm caches
    for (let round = 0; round < ROUNDS; round++) {
      for (const w of workloads) {
        // a different order each round, so a slow moment of the machine does not always hit the same mode
        const order = MODES.map((_, i) => MODES[(i + round) % MODES.length]!);
        for (const mode of order) {
          const t = times.get(w.name)![mode];
          if (mode === 'untraced') t.push(await runScript(w.script));
          else if (mode === 'raw') t.push(await runRaw(pre, w.script));
          else {
            const run = await runTraced(w.script, `${w.name}-${mode}-${round}`, mode === 'aggregated');
            t.push(run.r.commandMs);
            last.set(`${w.name}/${mode}`, run);
          }
        }
      }
      process.stderr.write(`round ${round + 1}/${ROUNDS} done\n`);
    }

    console.log(`\n1. wall-time overhead (${ROUNDS} rounds, modes interleaved; each round's traced time against that round's untraced time)`);
    for (const w of workloads) {
      const t = times.get(w.name)!;
      const events = Object.values(last.get(`${w.name}/aggregated`)!.trace.footer.counts).reduce((a, b) => a + b, 0);
      console.log(`   ${w.name} (${events} events; untraced median ${(median(t.untraced) / 1000).toFixed(3)} s, runs ${t.untraced.map((x) => (x / 1000).toFixed(2)).join(' ')})`);
      for (const mode of MODES.slice(1)) {
        const overhead = t[mode].map((x, i) => ((x - t.untraced[i]!) / t.untraced[i]!) * 100);
        console.log(`      ${mode.padEnd(10)} median ${signed(median(overhead))} (spread ${spread(overhead)}); `
          + `against raw bpftrace ×${(median(t[mode]) / median(t.raw)).toFixed(2)}; runs ${t[mode].map((x) => (x / 1000).toFixed(2)).join(' ')}`);
      }
      for (const mode of ['per-event', 'aggregated'] as const) {
        const run = last.get(`${w.name}/${mode}`)!;
        console.log(`      ${mode.padEnd(10)} cpu: ${cpuLine(run.r)}; lost ${run.trace.footer.lost.total}; aggregated in the kernel ${run.r.stats.aggregated}`);
      }
    }

    console.log(`\n2. recall, syscall-heavy (${N_EXECS} execs, ${M_OPENS} opens, ${K_CONNECTS} TCP connects, ${D_DNS} DNS queries), last round`);
    for (const mode of ['per-event', 'aggregated'] as const) {
      const { trace } = last.get(`a. syscall-heavy/${mode}`)!;
      const rec = Object.entries(recall(trace, server.port)).map(([k, [got, want]]) => `${k} ${got}/${want} = ${pct(got, want)}`).join(', ');
      console.log(`   ${mode.padEnd(10)} ${rec}; lost ${JSON.stringify(trace.footer.lost)}`);
    }

    console.log(`\n3. burst: ${BURST_OPENS} opens of 4 files in one tight loop while ${BURST_EXECS} programs start`);
    // the execs run while the opens do, one every 15 ms
    const burst = join(work, 'burst.sh');
    writeFileSync(burst, [
      `${process.execPath} ${genPath} ${dataDir} ${BURST_OPENS} 0 ${server.port} 0 0 4 &`,
      `for ((i = 0; i < ${BURST_EXECS}; i++)); do /bin/true bench-$i; sleep 0.015; done`,
      'wait',
    ].join('\n') + '\n');
    for (const mode of ['per-event', 'aggregated'] as const) {
      const { r, trace } = await runTraced(burst, `burst-${mode}`, mode === 'aggregated');
      const [execs] = recall(trace, server.port)['exec']!;
      const [opens] = recall(trace, server.port)['open']!;
      console.log(`   ${mode.padEnd(10)} opens ${opens}/${BURST_OPENS} in ${(r.commandMs / 1000).toFixed(2)} s; execs ${execs}/${BURST_EXECS} (missing ${BURST_EXECS - execs}); lost ${JSON.stringify(trace.footer.lost)}`);
    }

    const opensAtRate = RATE * SECONDS;
    console.log(`\n4. sustained rate: ${opensAtRate} opens of 64 files paced at ${RATE}/s`);
    const paced = workloadScript('rate', 0, opensAtRate, RATE, server.port, 0, 0);
    for (const mode of ['per-event', 'aggregated'] as const) {
      const { r, trace } = await runTraced(paced, `rate-${mode}`, mode === 'aggregated');
      const [got] = recall(trace, server.port)['open']!;
      console.log(`   ${mode.padEnd(10)} open recall ${got}/${opensAtRate} = ${pct(got, opensAtRate)}; lost ${trace.footer.lost.total}; cpu: ${cpuLine(r)}`);
    }
    if (process.env['BENCH_BPF_STATS'] === '1') await kernelCosts();
    const load1 = loadavg();
    console.log(`\nload average at the end ${load1.map((l) => l.toFixed(2)).join(' ')} (2 cores are shared: the spread above is the noise)`);
    console.log('goals: syscall-heavy ≤ +15% with 0 recall lost; build-like within noise; burst 0 lost and no exec missing');
  } finally {
    server.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

interface ProgStat { id: number; name?: string; run_cnt?: number; run_time_ns?: number }

function progStats(): Map<number, ProgStat> {
  const list = JSON.parse(execFileSync('bpftool', ['prog', 'show', '-j'], { encoding: 'utf8', maxBuffer: 64 << 20 })) as ProgStat[];
  return new Map(list.map((p) => [p.id, p]));
}

/** In-kernel time of the tracer's probes while `script` runs (not while bpftrace starts or stops). */
async function probeTime(script: string, aggregate: boolean): Promise<Array<{ name: string; runs: number; ns: number }>> {
  const go = join(work, 'go');
  const done = join(work, 'done');
  rmSync(go, { force: true });
  rmSync(done, { force: true });
  const wrapper = join(work, 'wrapped.sh');
  writeFileSync(wrapper, `while [ ! -e ${go} ]; do sleep 0.05; done\n/bin/bash ${script}\ntouch ${done}\nsleep 2\n`);
  const before = progStats();
  let measured!: Promise<Array<{ name: string; runs: number; ns: number }>>;
  await traceCommand({
    argv: ['/bin/bash', wrapper], out: join(work, 'probe-time.jsonl'), stdio: 'ignore', aggregate,
    onReady: () => {
      measured = (async () => {
        const start = progStats();
        writeFileSync(go, '');
        while (!existsSync(done)) await new Promise((r) => setTimeout(r, 20));
        const end = progStats();
        const out: Array<{ name: string; runs: number; ns: number }> = [];
        for (const [id, p] of end) {
          const q = start.get(id);
          if (!q || before.has(id)) continue; // only the programs this trace loaded
          const runs = (p.run_cnt ?? 0) - (q.run_cnt ?? 0);
          if (runs > 0) out.push({ name: p.name ?? String(id), runs, ns: (p.run_time_ns ?? 0) - (q.run_time_ns ?? 0) });
        }
        return out;
      })();
    },
  });
  return measured;
}

async function kernelCosts(): Promise<void> {
  let previous: string;
  try {
    previous = readFileSync('/proc/sys/kernel/bpf_stats_enabled', 'utf8').trim();
    execFileSync('bpftool', ['version']);
  } catch {
    console.log('\n5. in-kernel probe time: skipped (needs bpftool and /proc/sys/kernel/bpf_stats_enabled)');
    return;
  }
  writeFileSync('/proc/sys/kernel/bpf_stats_enabled', '1');
  try {
    console.log('\n5. in-kernel probe time while the workload runs (bpf_stats): µs per exec and per open');
    const execs = join(work, 'execs-only.sh');
    writeFileSync(execs, `for ((i = 0; i < ${N_EXECS}; i++)); do /bin/true bench-$i; done\n`);
    const opens = join(work, 'opens-only.sh');
    writeFileSync(opens, `exec ${process.execPath} ${genPath} ${dataDir} ${M_OPENS} 0 0 0 0 ${FILES}\n`);
    for (const [what, script, n] of [['exec of /bin/true (its own opens included)', execs, N_EXECS], ['open of one of 64 files', opens, M_OPENS]] as const) {
      for (const aggregate of [false, true]) {
        const progs = await probeTime(script, aggregate);
        const total = progs.reduce((a, p) => a + p.ns, 0);
        const top = progs.sort((a, b) => b.ns - a.ns).slice(0, 4).map((p) => `${p.name} ${(p.ns / p.runs / 1000).toFixed(1)} µs × ${p.runs}`).join(', ');
        console.log(`   ${what}, ${aggregate ? 'aggregated' : 'per-event '}: ${(total / n / 1000).toFixed(1)} µs (${top})`);
      }
    }
  } finally {
    writeFileSync('/proc/sys/kernel/bpf_stats_enabled', previous);
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
