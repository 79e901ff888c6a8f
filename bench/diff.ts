// npm run bench:diff — behavior profile + diff on a generated 1M-event trace.
// Generates a base and a head trace (1M events each by default; BENCH_EVENTS to change) with the shape of a real
// job: opens over a few thousand paths (temp names, /proc/<pid>, versioned libraries), execs with random argv
// numbers, connects from ephemeral ports, DNS. Each measurement runs in its own child process so peak RSS is its
// own: (1) the base trace is profiled and saved as a profile (as the baseline cache keeps it; timed apart);
// (2) measured: load that profile, stream the head trace into a profile, diff;
// (3) a plain line-by-line JSON.parse of the same head file (readline), for the ratio.
// Goals (issue 5): ≤ 5 s, ≤ 250 MB peak RSS, ratio (plain parse time / profile+diff time) ≥ 0.3.
import { spawnSync } from 'node:child_process';
import { closeSync, createReadStream, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ProfileBuilder, type BehaviorProfile } from '../src/trace/profile.ts';
import { diffProfiles, diffToJson } from '../src/trace/diff.ts';
import { openChunks, readTraceInto } from '../src/behavior/read.ts';
import { rng } from '../test/fixtures/rng.ts';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const GOALS = { seconds: 5, rssMb: 250, ratio: 0.3 };


function generate(path: string, seed: number, variant: 'base' | 'head'): void {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const rand = (n: number): string => Array.from({ length: n }, () => 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'[Math.floor(r() * 62)]).join('');
  // the behaviour population is the same for every seed (seed 7); only pids, ports, temp names, argv numbers and
  // the sampling order differ between base and head, as between two runs of the same job
  const pop = rng(7);
  const ppick = <T>(xs: readonly T[]): T => xs[Math.floor(pop() * xs.length)]!;
  const exes = Array.from({ length: 300 }, (_, i) => `/usr/bin/tool-${i}`);
  const edges = Array.from({ length: 1500 }, () => [ppick(exes), ppick(exes)] as const);
  const libs = Array.from({ length: 400 }, (_, i) => `/usr/lib/x86_64-linux-gnu/lib${i}.so.${i % 7}.${i % 3}.1`);
  const srcs = Array.from({ length: 3000 }, (_, i) => `/src/project/pkg${i % 60}/file${i}.go`);
  const etc = ['/etc/passwd', '/etc/hosts', '/etc/resolv.conf', '/etc/nsswitch.conf', '/etc/ssl/certs/ca-certificates.crt', '/etc/ld.so.cache'];
  const dests = Array.from({ length: 100 }, (_, i) => ({ ip: `10.${i % 250}.${(i * 7) % 250}.${(i * 13) % 250}`, name: `svc${i}.example.com`, port: [443, 80, 8080, 6443][i % 4]! }));
  const tmpDirs = Array.from({ length: 50 }, () => `/tmp/tmp.${rand(10)}`);
  const fd = openSync(path, 'w');
  let buf = '';
  const flush = (force = false): void => {
    if (force || buf.length > 1 << 20) { writeSync(fd, buf); buf = ''; }
  };
  buf += JSON.stringify({
    type: 'header', format: 'katabot-trace', version: '1.0', katabot: '0.1.0', source: 'bpftrace', bpftrace: 'v0.17.0', kernel: '6.1.0',
    host: 'bench', start: '2025-01-01T00:00:00.000Z', target: { mode: 'command', argv: ['make', 'test'], cgroup: '/katabot/bench' }, limits: { strlen: 200, max_args: 32 },
  }) + '\n';
  const counts = { exec: 0, exit: 0, open: 0, connect: 0, accept: 0, listen: 0, dns: 0 };
  let ts = 1000;
  for (let i = 0; i < EVENTS; i++) {
    ts += 1 + Math.floor(r() * 5000);
    const pid = 10000 + Math.floor(r() * 20000);
    const ppid = pid - 1 - Math.floor(r() * 5);
    const [exe, child] = pick(edges);
    const x = r();
    let e: Record<string, unknown>;
    if (x < 0.6) {
      const y = r();
      const path = y < 0.35 ? pick(libs) : y < 0.7 ? pick(srcs) : y < 0.8 ? pick(etc) : y < 0.9 ? `${pick(tmpDirs)}/out-${Math.floor(r() * 30)}.o` : `/proc/${pid}/status`;
      const write = r() < 0.1;
      e = { type: 'event', ts, kind: 'open', pid, ppid, comm: exe.slice(9, 24), exe, uid: 0, path, flags: write ? ['write', 'create', 'truncate'] : ['read'], result: r() < 0.1 ? -2 : 3 };
      if (e['result'] === -2) e['error'] = 'ENOENT';
      counts.open++;
    } else if (x < 0.75) {
      e = { type: 'event', ts, kind: 'exec', pid, ppid, comm: child.slice(9, 24), exe: child, parent_exe: exe, argv: [child, '-j', String(Math.floor(r() * 64)), `--out=${pick(tmpDirs)}/x`], uid: 0, result: 0 };
      counts.exec++;
    } else if (x < 0.85) {
      e = { type: 'event', ts, kind: 'exit', pid, ppid, comm: exe.slice(9, 24), exe, uid: 0, result: 0 };
      counts.exit++;
    } else if (x < 0.93) {
      // a lookup, then the connection, from the same process
      const dest = pick(dests);
      buf += JSON.stringify({ type: 'event', ts, kind: 'dns', pid, ppid, comm: exe.slice(9, 24), exe, uid: 0, proto: 'udp', daddr: '10.96.0.10', dport: 53, query: dest.name, qtype: 'A' }) + '\n';
      counts.dns++;
      i++;
      ts++;
      e = { type: 'event', ts, kind: 'connect', pid, ppid, comm: exe.slice(9, 24), exe, uid: 0, proto: 'tcp', saddr: '10.0.0.2', sport: 32768 + Math.floor(r() * 28000), daddr: dest.ip, dport: dest.port, result: 0 };
      counts.connect++;
    } else if (x < 0.95) {
      e = { type: 'event', ts, kind: 'accept', pid, ppid, comm: exe.slice(9, 24), exe, uid: 0, proto: 'tcp', saddr: '0.0.0.0', sport: 8080, daddr: pick(dests).ip, dport: 32768 + Math.floor(r() * 28000) };
      counts.accept++;
    } else {
      e = { type: 'event', ts, kind: 'dns', pid, ppid, comm: exe.slice(9, 24), exe, uid: 0, proto: 'udp', daddr: '10.96.0.10', dport: 53, query: pick(dests).name, qtype: 'A' };
      counts.dns++;
    }
    buf += JSON.stringify(e) + '\n';
    flush();
  }
  if (variant === 'head') {
    // the behaviour change: a new exec, a new write under /etc, a new destination
    buf += JSON.stringify({ type: 'event', ts: ts + 1, kind: 'exec', pid: 99999, ppid: 10000, comm: 'curl', exe: '/usr/bin/curl', parent_exe: '/usr/bin/tool-1', argv: ['curl', 'https://new.example.org'], uid: 0, result: 0 }) + '\n';
    buf += JSON.stringify({ type: 'event', ts: ts + 2, kind: 'open', pid: 99999, ppid: 10000, comm: 'curl', exe: '/usr/bin/curl', uid: 0, path: '/etc/example.conf', flags: ['write', 'create', 'truncate'], result: 3 }) + '\n';
    buf += JSON.stringify({ type: 'event', ts: ts + 3, kind: 'connect', pid: 99999, ppid: 10000, comm: 'curl', exe: '/usr/bin/curl', uid: 0, proto: 'tcp', daddr: '93.184.216.34', dport: 443, result: 0 }) + '\n';
    counts.exec++; counts.open++; counts.connect++;
  }
  buf += JSON.stringify({ type: 'footer', counts, lost: { reported: 0, gap: 0, incomplete: 0, total: 0 }, malformed: 0, truncated: 0, duration_ms: 60000, end: '2025-01-01T00:01:00.000Z', exit_code: 0 }) + '\n';
  flush(true);
  closeSync(fd);
}

/** Profiles the base trace and saves the profile, as the baseline cache does (behavior/baseline.ts). */
async function childBase(base: string, out: string): Promise<void> {
  const t0 = performance.now();
  const bb = new ProfileBuilder();
  await readTraceInto(bb, await openChunks(base), base);
  writeFileSync(out, JSON.stringify(bb.build()));
  process.stdout.write(JSON.stringify({ ms: performance.now() - t0, rssKb: process.resourceUsage().maxRSS }));
}

/** The measured part: the saved base profile, the head trace streamed into a profile, the diff. */
async function childProfile(baseProfile: string, head: string): Promise<void> {
  const t0 = performance.now();
  const base = JSON.parse(readFileSync(baseProfile, 'utf8')) as BehaviorProfile;
  const hb = new ProfileBuilder();
  await readTraceInto(hb, await openChunks(head), head);
  const headProfile = hb.build();
  const d = diffProfiles([base], headProfile);
  const json = diffToJson(d);
  const t1 = performance.now();
  process.stdout.write(JSON.stringify({
    headMs: t1 - t0, rssKb: process.resourceUsage().maxRSS,
    added: json.summary.added, removed: json.summary.removed,
    keys: [...json.processes.added, ...json.files.added, ...json.network.added, ...json.k8sApi.added].map((i) => `+${i.key}`)
      .concat([...json.processes.removed, ...json.files.removed, ...json.network.removed, ...json.k8sApi.removed].map((i) => `−${i.key}`)),
    heapMb: process.memoryUsage().heapUsed / 1048576,
    items: headProfile.processes.length + headProfile.files.length + headProfile.network.length,
  }));
}

async function childParse(file: string): Promise<void> {
  const t0 = performance.now();
  let n = 0;
  const rl = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of rl) {
    if (line) { JSON.parse(line); n++; }
  }
  process.stdout.write(JSON.stringify({ ms: performance.now() - t0, lines: n, rssKb: process.resourceUsage().maxRSS }));
}

function child(args: string[]): Record<string, unknown> {
  const r = spawnSync(process.execPath, [new URL(import.meta.url).pathname, ...args], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`bench child ${args[0]} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

async function main(): Promise<void> {
  const mode = process.argv[2];
  if (mode === '--child-base') return childBase(process.argv[3]!, process.argv[4]!);
  if (mode === '--child-profile') return childProfile(process.argv[3]!, process.argv[4]!);
  if (mode === '--child-parse') return childParse(process.argv[3]!);
  const dir = mkdtempSync(join(tmpdir(), 'katabot-bench-diff-'));
  const keep = process.env.BENCH_KEEP === '1';
  try {
    const base = join(dir, 'base.jsonl');
    const head = join(dir, 'head.jsonl');
    const g0 = performance.now();
    generate(base, 1, 'base');
    generate(head, 2, 'head');
    const mb = (statSync(head).size / 1e6).toFixed(0);
    console.log(`generated 2 × ${EVENTS.toLocaleString('en')} events (head ${mb} MB) in ${((performance.now() - g0) / 1000).toFixed(1)} s`);
    const parse = child(['--child-parse', head]);
    const baseProfile = join(dir, 'base.profile.json');
    const baseRun = child(['--child-base', base, baseProfile]);
    const prof = child(['--child-profile', baseProfile, head]);
    const headS = (prof['headMs'] as number) / 1000;
    const parseS = (parse['ms'] as number) / 1000;
    const rssMb = (prof['rssKb'] as number) / 1024;
    const ratio = parseS / headS;
    const ok = (b: boolean): string => (b ? 'ok' : 'MISSED');
    console.log(`plain JSON.parse (readline), head:     ${parseS.toFixed(2)} s, peak RSS ${((parse['rssKb'] as number) / 1024).toFixed(0)} MB`);
    console.log(`profile base → saved profile (apart):   ${((baseRun['ms'] as number) / 1000).toFixed(2)} s, peak RSS ${((baseRun['rssKb'] as number) / 1024).toFixed(0)} MB`);
    console.log(`load base profile + profile head + diff: ${headS.toFixed(2)} s   goal ≤ ${GOALS.seconds} s   ${ok(headS <= GOALS.seconds)}`);
    console.log(`peak RSS of that process:               ${rssMb.toFixed(0)} MB   goal ≤ ${GOALS.rssMb} MB   ${ok(rssMb <= GOALS.rssMb)}`);
    console.log(`ratio plain parse / profile+diff:       ${ratio.toFixed(2)}     goal ≥ ${GOALS.ratio}     ${ok(ratio >= GOALS.ratio)}`);
    const keys = prof['keys'] as string[];
    console.log(`heap in use at the end: ${(prof['heapMb'] as number).toFixed(0)} MB`);
    console.log(`head profile: ${prof['items']} items; diff: +${prof['added']} −${prof['removed']}: ${keys.slice(0, 10).join(' | ')}${keys.length > 10 ? ' | …' : ''}`);
  } finally {
    if (keep) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

await main();
