// From a real trace of a small multi-container workload to least-privilege policies and the service graph. Three
// Podman pods (Debian's podman with runc), each in its own network namespace on a Podman network with DNS
// (aardvark-dns): frontend → backend:8080 → db:5432, found by name. katabot's real tracer (`katabot trace --podman`,
// bpftrace, the syscount example package for system calls) follows them through their real cgroups. The four
// policy formats validate against their upstream schemas; the same workload traced twice needs no policy change;
// a variant that adds one outbound connection (frontend → db) needs exactly one new egress rule and draws exactly
// one new edge; the report's service graph renders and responds in Chromium (screenshots in test-artifacts/).
// Skipped with the reason without root, bpftrace, podman, runc, busybox or Chromium.
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { preflight } from '../../src/tracer/preflight.ts';
import { EbpfUnavailableError } from '../../src/tracer/errors.ts';
import type { ServiceGraph } from '../../src/trace/service-graph.ts';
import { ciliumValidator, kubeArmorValidator, networkPolicyValidator, openApiSkipReason, seccompValidator, type Validate } from '../fixtures/policy/schemas.ts';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const CLI = join(ROOT, 'bin/katabot.js');
const CHROMIUM = process.env.KATABOT_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test-artifacts', 'podman-policy');
// letters only: digits in names are normalised away (`kb<n>`), and the test looks nodes up by name
const TAG = `kb${[...String(process.pid)].map((d) => 'abcdefghij'[Number(d)]).join('')}`;
const work = mkdtempSync(join(tmpdir(), 'katabot-podman-policy-'));
// runc, not crun: crun refuses hybrid cgroup hosts. Root's default nofile/nproc limits exceed what a nested
// container may set, so the pods get modest ones.
const CONF = join(work, 'containers.conf');
writeFileSync(CONF, '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n[engine]\nruntime = "runc"\n');
const ENV = { ...process.env, CONTAINERS_CONF: CONF };
// The clients run as the containers' own processes, told what to fetch through a shared directory: `podman exec`
// would add the runtime's own exec machinery (runc init) to the trace, with timing-dependent system calls.
const SIGNAL = join(work, 'signal');
mkdirSync(SIGNAL);
const CLIENT = `# test client: fetches the URLs in $1.go, then writes $1.done
while :; do
  if [ -e /signal/$1.go ]; then
    for u in $(cat /signal/$1.go); do "$BUSYBOX" wget -q -O /dev/null "$u" || echo "$u" >> /signal/$1.err; done
    rm -f /signal/$1.go
    echo ok > /signal/$1.done
  fi
  "$BUSYBOX" usleep 100000
done
`;

function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function missing(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (eBPF and Podman pods)';
  for (const [cmd, pkg] of [['bpftrace', 'bpftrace'], ['podman', 'podman'], ['runc', 'runc'], ['busybox', 'busybox-static']] as const) {
    if (!which(cmd)) return `${cmd} is not installed (Debian package ${pkg}; scripts/katabot.sh installs it)`;
  }
  return undefined;
}

async function podman(...args: string[]): Promise<string> {
  return (await run('podman', args, { env: ENV, timeout: 60_000 })).stdout.trim();
}

const pods = ['frontend', 'backend', 'db'] as const;
const ports = { backend: 8080, db: 5432 } as const;
const busybox = () => spawnSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).stdout.trim();

/** One traced run of the workload: katabot trace --podman around the clients' requests. */
async function traceRun(name: string, requests: Array<[from: (typeof pods)[number], to: keyof typeof ports]>): Promise<string> {
  const out = join(work, `${name}.jsonl`);
  const ready = join(work, `${name}.ready`);
  const child = spawn(process.execPath, [CLI, 'trace', '--podman', '-l', `app.kubernetes.io/part-of=${TAG}`, '--namespace', 'shop',
    '--out', out, '--ready-file', ready, '--probe', 'exec,files,tcp,dns,syscount', '--no-summary'], { cwd: ROOT, env: ENV, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 90_000;
  while (!existsSync(ready)) {
    if (existsSync(`${ready}.failed`)) throw new Error(`the tracer did not start: ${readFileSync(`${ready}.failed`, 'utf8')}`);
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the tracer did not start: ${stderr}`);
    await delay(100);
  }
  await fetchFrom(requests);
  await delay(1500); // the agent holds events for a second to restore kernel time order
  child.kill('SIGINT');
  const code = await exited;
  assert.equal(code, 0, `katabot trace exited ${code}: ${stderr}`);
  return out;
}

/** Has the clients fetch, and waits until they did. */
async function fetchFrom(requests: Array<[from: (typeof pods)[number], to: keyof typeof ports]>): Promise<void> {
  const by = new Map<string, string[]>();
  for (const [from, to] of requests) by.set(from, [...(by.get(from) ?? []), `http://${TAG}-${to}:${ports[to]}/hostname`]);
  for (const [from, urls] of by) writeFileSync(join(SIGNAL, `${from}.go`), urls.join('\n') + '\n');
  const deadline = Date.now() + 30_000;
  for (const from of by.keys()) {
    while (!existsSync(join(SIGNAL, `${from}.done`))) {
      if (Date.now() > deadline) throw new Error(`${from} did not fetch ${by.get(from)!.join(' ')}`);
      await delay(50);
    }
    rmSync(join(SIGNAL, `${from}.done`));
    if (existsSync(join(SIGNAL, `${from}.err`))) throw new Error(`${from} could not fetch ${readFileSync(join(SIGNAL, `${from}.err`), 'utf8')}`);
  }
}

function katabot(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: work, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let skip: string | undefined = missing();
const traces: Record<'base' | 'rerun' | 'variant', string> = { base: '', rerun: '', variant: '' };

before(async () => {
  if (!skip) {
    try {
      await preflight();
    } catch (err) {
      if (!(err instanceof EbpfUnavailableError)) throw err;
      skip = err.message;
    }
  }
  if (skip) { console.log(`# podman policy test skipped: ${skip}`); return; }
  const net = `${TAG}-net`;
  await podman('network', 'create', net);
  for (const w of pods) {
    await podman('pod', 'create', '--name', `${TAG}-${w}`, '--network', net,
      '--label', `app.kubernetes.io/name=${w}`, '--label', `app.kubernetes.io/part-of=${TAG}`);
  }
  // The host's root as each container's root, behind an overlay: no image to pull.
  writeFileSync(join(SIGNAL, 'client.sh'), CLIENT);
  const runIn = async (w: string, ...cmd: string[]): Promise<void> => {
    try {
      await podman('run', '-d', '--pod', `${TAG}-${w}`, '--name', `${TAG}-${w}-app`, '-v', `${SIGNAL}:/signal`, '-e', `BUSYBOX=${busybox()}`, '--rootfs', '/:O', ...cmd);
    } catch (err) {
      skip = `podman cannot run a container here: ${((err as { stderr?: string }).stderr ?? (err as Error).message).trim().split('\n').at(-1)}`;
    }
  };
  await runIn('db', busybox(), 'httpd', '-f', '-p', '5432', '-h', '/etc');
  await runIn('backend', busybox(), 'sh', '-c', `"$BUSYBOX" httpd -p 8080 -h /etc && exec "$BUSYBOX" sh /signal/client.sh backend`);
  await runIn('frontend', busybox(), 'sh', '/signal/client.sh', 'frontend');
  if (skip) { console.log(`# podman policy test skipped: ${skip}`); return; }
  // the servers answer before anything is traced
  for (let i = 0; ; i++) {
    try {
      await fetchFrom([['frontend', 'backend'], ['frontend', 'db']]);
      break;
    } catch (err) {
      if (i > 20) throw err;
      for (const f of readdirSync(SIGNAL)) if (f.endsWith('.err')) rmSync(join(SIGNAL, f));
      await delay(300);
    }
  }
  const normal: Array<[(typeof pods)[number], keyof typeof ports]> = [['frontend', 'backend'], ['backend', 'db']];
  traces.base = await traceRun('base', normal);
  traces.rerun = await traceRun('rerun', normal);
  traces.variant = await traceRun('variant', [...normal, ['frontend', 'db']]);
});

after(async () => {
  if (!missing()) {
    for (const w of pods) await podman('pod', 'rm', '-f', '-t', '0', `${TAG}-${w}`).catch(() => '');
    await podman('network', 'rm', '-f', `${TAG}-net`).catch(() => '');
  }
  rmSync(work, { recursive: true, force: true });
});

describe('policies and service graph from a real trace of Podman pods', () => {
  it('the trace attributes the workloads through their cgroups, with their labels', (t) => {
    if (skip) return t.skip(skip);
    const header = JSON.parse(readFileSync(traces.base, 'utf8').split('\n')[0]!) as { target: { pods: Array<{ name: string; labels?: Record<string, string> }> } };
    assert.deepEqual(header.target.pods.map((p) => [p.name, p.labels?.['app.kubernetes.io/name']]), pods.map((w) => [`${TAG}-${w}`, w]).sort());
    const graph = JSON.parse(katabot('graph', traces.base, '--format', 'json').stdout) as ServiceGraph;
    assert.deepEqual(graph.edges.map((e) => e.id), [
      `shop/${TAG}-backend → shop/${TAG}-db tcp/5432`,
      `shop/${TAG}-frontend → shop/${TAG}-backend tcp/8080`,
    ]);
    assert.ok(graph.nodes.find((n) => n.id === `shop/${TAG}-db`)!.names.some((n) => n.startsWith(`${TAG}-db.`)), 'the DNS name it was reached by');
  });

  const formats: Array<[string, () => Validate, string | undefined]> = [
    ['networkpolicy', networkPolicyValidator, openApiSkipReason()],
    ['cilium', ciliumValidator, undefined],
    ['kubearmor', kubeArmorValidator, undefined],
  ];
  for (const [format, validator, reason] of formats) {
    it(`katabot policy --format ${format} validates against its schema`, (t) => {
      if (skip || reason) return t.skip(skip ?? reason);
      const r = katabot('policy', traces.base, '--format', format);
      assert.equal(r.code, 0, r.stderr);
      const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as { metadata: { name: string } });
      assert.equal(docs.length, 3);
      const validate = validator();
      for (const d of docs) assert.deepEqual(validate(d), [], `${d.metadata.name}: ${JSON.stringify(d)}`);
      mkdirSync(ARTIFACTS, { recursive: true });
      writeFileSync(join(ARTIFACTS, `${format}.yaml`), r.stdout);
    });
  }

  it('katabot policy --format seccomp writes an OCI profile per workload from the syscall probe', (t) => {
    if (skip) return t.skip(skip);
    const dir = join(work, 'seccomp');
    const r = katabot('policy', traces.base, '--format', 'seccomp', '--out', dir);
    assert.equal(r.code, 0, r.stderr);
    const files = readdirSync(dir).sort();
    assert.deepEqual(files, pods.map((w) => `shop-${TAG}-${w}.json`).sort());
    const validate = seccompValidator();
    for (const f of files) {
      const profile = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { syscalls: Array<{ names: string[] }> };
      assert.deepEqual(validate(profile), [], f);
      // every workload served or fetched over TCP
      const names = profile.syscalls[0]!.names;
      assert.ok(f.includes('-frontend') ? names.includes('connect') : names.includes('accept') || names.includes('accept4'), `${f}: ${names.join(' ')}`);
    }
  });

  it('the same workload traced twice needs no policy change and changes no edge', (t) => {
    if (skip) return t.skip(skip);
    const md = katabot('diff', traces.base, traces.rerun, '--format', 'md');
    assert.equal(md.code, 0, md.stderr);
    assert.doesNotMatch(md.stdout, /<b>Policy<\/b>/);
    const graph = JSON.parse(katabot('graph', traces.rerun, '--base', traces.base, '--format', 'json').stdout) as ServiceGraph;
    assert.deepEqual(graph.edges.filter((e) => e.status !== 'same').map((e) => e.id), []);
  });

  it('one added outbound connection: exactly one new egress rule and one new edge', (t) => {
    if (skip) return t.skip(skip);
    const md = katabot('diff', traces.base, traces.variant, '--format', 'md').stdout;
    const policy = md.split('<summary><b>Policy</b>')[1]?.split('<summary><b>Service graph</b>')[0] ?? '';
    const egress = policy.split('\n').filter((l) => /^- .* connect to /.test(l));
    assert.deepEqual(egress, [`- Should \`shop/${TAG}-frontend\` connect to \`shop/${TAG}-db\` on TCP 5432?`]);
    const graph = JSON.parse(katabot('graph', traces.variant, '--base', traces.base, '--format', 'json').stdout) as ServiceGraph;
    assert.deepEqual(graph.edges.filter((e) => e.status !== 'same').map((e) => [e.id, e.status]), [[`shop/${TAG}-frontend → shop/${TAG}-db tcp/5432`, 'added']]);
  });

  it('the service graph renders in Chromium: pan, zoom, search, highlight a node\'s edges', { skip: existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}` }, async (t) => {
    if (skip) return t.skip(skip);
    const html = join(work, 'report.html');
    const r = katabot('diff', traces.base, traces.variant, '--format', 'html', '--out', html, '--job', 'shop');
    assert.equal(r.code, 0, r.stderr);
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`file://${html}`);
      const root = page.locator('.sg-root');
      await root.scrollIntoViewIfNeeded();
      assert.equal(await page.locator('g.sg-node').count(), 3);
      assert.equal(await page.locator('g.sg-edge.added').count(), 1);
      mkdirSync(ARTIFACTS, { recursive: true });
      await root.screenshot({ path: join(ARTIFACTS, 'service-graph.png') });
      // click a node: its edges and neighbours stay, the rest is dimmed
      await page.locator(`g.sg-node[data-id="shop/${TAG}-db"]`).click();
      assert.equal(await page.locator('g.sg-edge.sg-hi').count(), 2);
      assert.equal(await page.locator(`g.sg-node.sg-hi[data-id="shop/${TAG}-frontend"]`).count(), 1);
      await root.screenshot({ path: join(ARTIFACTS, 'service-graph-highlight.png') });
      // zoom and pan move the viewport
      const before = await page.locator('g.sg-viewport').getAttribute('transform');
      await page.locator('button[data-action="in"]').click();
      const box = (await page.locator('svg.sg').boundingBox())!;
      await page.mouse.move(box.x + 40, box.y + 40);
      await page.mouse.down();
      await page.mouse.move(box.x + 140, box.y + 90, { steps: 5 });
      await page.mouse.up();
      assert.notEqual(await page.locator('g.sg-viewport').getAttribute('transform'), before);
      // search
      await page.locator('input.sg-search').fill('backend');
      assert.equal(await page.locator('g.sg-node.sg-match').count(), 1);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });
});
