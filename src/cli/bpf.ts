// `katabot bpf`: eBPF packages (docs/bpf-packages.md). Local verbs read packages from the repo's
// `.katabot/probes/`, a path, or the built-ins; cluster verbs talk to the API server of KUBECONFIG, kubectl-style.
//   katabot bpf validate PKG [--param k=v] [--attach]
//   katabot bpf run PKG[@V][,PKG…] [--param k=v] [--out FILE] -- CMD ARGS…     local, like katabot trace
//   katabot bpf run PKG[@V] (--node N… | --all-nodes | --pod P) [-n NS] [--param k=v] [--duration D]
//   katabot bpf list | logs INSTANCE [-f] [--node N] | delete INSTANCE [--out FILE] | upgrade INSTANCE PKG@V
//   katabot bpf packages | show PKG | push PKG
//   katabot bpf agent …   (the container entrypoint of an instance; not for people)
import { createWriteStream, existsSync, readFileSync, writeFileSync, mkdirSync, type WriteStream } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { KubeConfig } from '@kubernetes/client-node';
import { BpfCluster, BpfClusterError, BpfStartError } from '../adapters/bpf-cluster.ts';
import { findProbesDir, listPackages, resolvePackage, type PackageSources } from '../adapters/bpf-packages.ts';
import { builtinPackage, BUILTIN_VERSION } from '../bpf/builtin.ts';
import { age, CONFIGMAP_KEYS, DEFAULT_TRACER_IMAGE, table, targetText } from '../bpf/cluster.ts';
import {
  PACKAGE_FILE, PackageError, packageFromFiles, packageId, parseParamArgs, resolveParams, stringifyPackageMeta, type BpfPackage,
} from '../bpf/package.ts';
import { formatProblems, hasErrors } from '../bpf/validate.ts';
import { renderSummary } from '../trace/summary.ts';
import { validatePackage } from '../tracer/bpf-check.ts';
import { traceCommand } from '../tracer/command.ts';
import { EbpfUnavailableError, PackageProgramError, TraceUsageError } from '../tracer/errors.ts';
import { tracePods } from '../tracer/pods.ts';
import { markFailed } from '../tracer/ready-file.ts';
import { TRACER_FAILED } from './trace.ts';

interface ClusterOpts {
  namespace?: string;
  kubeconfig?: string;
}

interface CommonOpts extends ClusterOpts {
  probesDir?: string;
  param?: string[];
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** `30`, `30s`, `5m`, `2h` → seconds. */
function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(text.trim());
  if (!m) throw new TraceUsageError(`--duration wants seconds or 30s/5m/2h, got ${JSON.stringify(text)}`);
  return Math.round(Number(m[1]) * (m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : 1));
}

function kubeConfig(o: ClusterOpts): KubeConfig {
  const kc = new KubeConfig();
  if (o.kubeconfig) kc.loadFromFile(o.kubeconfig);
  else kc.loadFromDefault();
  if (!kc.getCurrentCluster()) throw new BpfClusterError('no Kubernetes cluster configured: set KUBECONFIG or pass --kubeconfig');
  return kc;
}

function haveKubeconfig(o: ClusterOpts): boolean {
  return o.kubeconfig !== undefined || process.env['KUBECONFIG'] !== undefined || existsSync(join(homedir(), '.kube', 'config'))
    || process.env['KUBERNETES_SERVICE_HOST'] !== undefined;
}

function cluster(o: ClusterOpts): BpfCluster {
  return new BpfCluster(kubeConfig(o), o.namespace);
}

function sources(o: CommonOpts, withCluster: boolean): PackageSources {
  const probesDir = o.probesDir ?? findProbesDir();
  return {
    ...(probesDir ? { probesDir } : {}),
    ...(withCluster && haveKubeconfig(o) ? { cluster: cluster(o) } : {}),
  };
}

const err = (line: string): void => { process.stderr.write(`${line}\n`); };
const out = (text: string): void => { process.stdout.write(text); };

/** Runs a verb, turning the errors users cause into one line and an exit code. */
async function verb(fn: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await fn();
  } catch (e) {
    if (e instanceof PackageError || e instanceof PackageProgramError || e instanceof BpfStartError || e instanceof BpfClusterError) {
      err(`katabot bpf: ${e.message}`);
      process.exitCode = 1;
    } else if (e instanceof EbpfUnavailableError) {
      err(e.message);
      process.exitCode = TRACER_FAILED;
    } else if (e instanceof TraceUsageError) {
      err(`katabot bpf: ${e.message}`);
      process.exitCode = e.exitCode;
    } else if ((e as { code?: unknown }).code !== undefined && (e as { body?: unknown }).body !== undefined) {
      const body = (e as { body?: unknown }).body;
      let msg = String((e as Error).message);
      try {
        msg = (JSON.parse(String(body)) as { message?: string }).message ?? msg;
      } catch {
        // keep the client's message
      }
      err(`katabot bpf: Kubernetes API: ${msg}`);
      process.exitCode = 1;
    } else {
      throw e;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------

async function validateVerb(ref: string, o: CommonOpts & { attach?: boolean }): Promise<number> {
  const pkg = await resolvePackage(ref, sources(o, true));
  const report = await validatePackage(pkg, { params: parseParamArgs(o.param ?? []), attach: o.attach ?? false });
  const file = pkg.origin.kind === 'builtin' ? `${pkg.meta.name} (built-in)` : pkg.origin.kind === 'cluster' ? `configmap/${pkg.origin.configMap}/${pkg.meta.program}` : pkg.meta.unnamed ? pkg.origin.path : join(pkg.origin.path, pkg.meta.program);
  for (const line of formatProblems(file, report.problems)) err(line);
  for (const s of report.steps) err(`${s.ok ? 'ok  ' : s.note ? 'skip' : 'FAIL'}  ${s.step}${s.note ? ` (${s.note})` : ''}`);
  const bad = hasErrors(report.problems);
  err(`${packageId(pkg.meta)}: ${bad ? 'invalid' : 'valid'}${report.bpftrace ? ` for bpftrace ${report.bpftrace}, Linux ${report.kernel}` : ''}`);
  return bad ? 1 : 0;
}

interface RunOpts extends CommonOpts {
  node?: string[];
  allNodes?: boolean;
  pod?: string;
  duration?: string;
  image?: string;
  timeout?: string;
  out?: string;
  summary: boolean;
}

async function runVerb(ref: string, command: string[], o: RunOpts): Promise<number> {
  const clusterTarget = (o.node?.length ?? 0) > 0 || o.allNodes === true || o.pod !== undefined;
  if (command.length > 0 && clusterTarget) throw new TraceUsageError('give either a command after -- (local) or --node/--all-nodes/--pod (cluster), not both');
  if (command.length === 0 && !clusterTarget) throw new TraceUsageError('where? give a command after -- to trace it here, or --node N, --all-nodes or --pod P -n NS');
  const params = parseParamArgs(o.param ?? []);
  if (command.length > 0) {
    const src = sources(o, false);
    const refs = ref.split(',').filter((r) => r !== '');
    const pkgs = await Promise.all(refs.map((r) => resolvePackage(r, src)));
    if (pkgs.length > 1 && Object.keys(params).length > 0) throw new TraceUsageError('--param with several packages: run them one at a time');
    const outPath = o.out ?? 'trace.jsonl';
    const r = await traceCommand({
      argv: command,
      out: outPath,
      log: (line) => err(`katabot bpf: ${line}`),
      builtins: pkgs.filter((p) => p.builtin).map((p) => p.meta.name),
      packages: pkgs.filter((p) => !p.builtin).map((pkg) => ({ pkg, params: resolveParams(pkg.meta, params) })),
    });
    if (o.summary) {
      process.stderr.write(renderSummary(r.summary, r.header, outPath, Math.max(60, Math.min(process.stderr.columns ?? 100, 160))));
      const custom = r.footer.custom;
      if (custom) err(`custom events: ${Object.entries(custom.counts).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}${custom.lost ? `, lost ${custom.lost}` : ''}${custom.malformed ? `, malformed ${custom.malformed}` : ''}`);
    }
    return r.exitCode;
  }
  if (o.allNodes && ((o.node?.length ?? 0) > 0 || o.pod !== undefined)) throw new TraceUsageError('--all-nodes goes alone');
  if (o.pod !== undefined && (o.node?.length ?? 0) > 0) throw new TraceUsageError('--pod runs on the pod\'s node: leave out --node');
  const c = cluster(o);
  const pkg = await resolvePackage(ref, sources(o, true));
  if (pkg.meta.unnamed && pkg.origin.kind !== 'cluster') err(`katabot bpf: ${pkg.origin.kind === 'file' ? pkg.origin.path : pkg.meta.name} is an unnamed package: its printf lines and maps become custom events as they come`);
  const started = await c.run({
    pkg,
    params,
    target: o.pod !== undefined ? { kind: 'pod', namespace: c.namespace, name: o.pod } : o.allNodes ? { kind: 'all-nodes' } : { kind: 'nodes', nodes: o.node! },
    image: o.image ?? process.env['KATABOT_TRACER_IMAGE'] ?? DEFAULT_TRACER_IMAGE,
    ...(o.duration !== undefined ? { durationSeconds: parseDuration(o.duration) } : {}),
    ...(o.timeout !== undefined ? { timeoutMs: parseDuration(o.timeout) * 1000 } : {}),
    log: (line) => err(`katabot bpf: ${line}`),
  });
  out(`${started.id}\n`);
  err(`katabot bpf: ${packageId(pkg.meta)} runs as ${started.id} (${started.workload.toLowerCase()} ${started.name}, ${targetText(started.target)}, pods ${started.pods.join(' ')}); `
    + `katabot bpf logs ${started.id} -f`);
  return 0;
}

async function listVerb(o: ClusterOpts): Promise<number> {
  const rows = await cluster(o).list();
  const now = Date.now();
  out(table(['INSTANCE', 'PACKAGE', 'VERSION', 'REV', 'TARGET', 'NODES', 'STATE', 'AGE'],
    rows.map((r) => [r.id, r.package, r.version, String(r.revision), r.target, r.nodes.join(',') || '-', r.state, age(r.created, now)])));
  return 0;
}

async function logsVerb(id: string, o: ClusterOpts & { follow?: boolean; node?: string }): Promise<number> {
  await cluster(o).logs(id, { follow: o.follow ?? false, ...(o.node !== undefined ? { node: o.node } : {}), write: (line) => out(`${line}\n`) });
  return 0;
}

function traceFiles(path: string | undefined): { write?: (pod: string, line: string) => void; close: () => Promise<void> } {
  if (path === undefined) return { close: async () => {} };
  const streams = new Map<string, WriteStream>();
  // one pod: FILE; several: FILE with the pod's name before the extension
  let pods = 0;
  return {
    write: (pod, line) => {
      let s = streams.get(pod);
      if (!s) {
        pods++;
        const p = pods === 1 ? path : path.replace(/(\.jsonl)?$/, `.${pod}$1`);
        mkdirSync(dirname(p), { recursive: true });
        s = createWriteStream(p);
        streams.set(pod, s);
      }
      s.write(`${line}\n`);
    },
    close: async () => { await Promise.all([...streams.values()].map((s) => new Promise<void>((r) => s.end(() => r())))); },
  };
}

function reportFlush(results: Array<{ pod: string; node: string | undefined; events: number; footer: boolean }>): boolean {
  let ok = true;
  for (const r of results) {
    err(`katabot bpf: ${r.pod}${r.node ? ` on ${r.node}` : ''}: ${r.events} events, ${r.footer ? 'maps flushed, trace complete' : 'no footer: the trace was cut (bpftrace did not end cleanly)'}`);
    ok &&= r.footer;
  }
  return ok;
}

async function deleteVerb(id: string, o: ClusterOpts & { out?: string }): Promise<number> {
  const files = traceFiles(o.out);
  const results = await cluster(o).delete(id, files.write ? { write: files.write } : {});
  await files.close();
  reportFlush(results);
  err(`katabot bpf: instance ${id} deleted`);
  return 0;
}

async function upgradeVerb(id: string, ref: string, o: CommonOpts & { image?: string; timeout?: string; out?: string }): Promise<number> {
  const c = cluster(o);
  const pkg = await resolvePackage(ref, sources(o, true));
  const files = traceFiles(o.out);
  const r = await c.upgrade(id, pkg, {
    params: parseParamArgs(o.param ?? []),
    ...(o.image !== undefined ? { image: o.image } : {}),
    ...(o.timeout !== undefined ? { timeoutMs: parseDuration(o.timeout) * 1000 } : {}),
    log: (line) => err(`katabot bpf: ${line}`),
    ...(files.write ? { write: files.write } : {}),
  });
  await files.close();
  reportFlush(r.flushed);
  err(`katabot bpf: ${id} upgraded from ${r.from} to ${r.to} (revision ${r.revision})`);
  return 0;
}

async function packagesVerb(o: CommonOpts): Promise<number> {
  const { rows, broken, clusterError } = await listPackages(sources(o, true));
  out(table(['NAME', 'VERSION', 'ORIGIN', 'EVENTS', 'DESCRIPTION'], rows.map((r) => [r.name, r.version, r.origin, r.events || '-', r.description])));
  for (const b of broken) err(`katabot bpf: ${b.path}: ${b.error}`);
  if (clusterError) err(`katabot bpf: cluster packages not listed: ${clusterError}`);
  return broken.length > 0 ? 1 : 0;
}

function describeOrigin(pkg: BpfPackage): string {
  switch (pkg.origin.kind) {
    case 'builtin': return 'built-in (part of katabot\'s tracer program; shown for an example scope)';
    case 'cluster': return `configmap ${pkg.origin.namespace}/${pkg.origin.configMap}`;
    default: return pkg.origin.path;
  }
}

async function showVerb(ref: string, o: CommonOpts): Promise<number> {
  const pkg = await resolvePackage(ref, sources(o, true));
  out(`# ${packageId(pkg.meta)} — ${describeOrigin(pkg)}\n`);
  out(`# --- ${PACKAGE_FILE}\n${stringifyPackageMeta(pkg.meta)}`);
  out(`# --- ${pkg.builtin ? 'program (generated)' : pkg.meta.program}\n${pkg.source}${pkg.source.endsWith('\n') ? '' : '\n'}`);
  return 0;
}

async function pushVerb(ref: string, o: CommonOpts): Promise<number> {
  const c = cluster(o);
  const pkg = await resolvePackage(ref, sources(o, false));
  if (pkg.builtin) throw new TraceUsageError(`${pkg.meta.name} is built in: nothing to push`);
  const problems = (await validatePackage(pkg, { staticOnly: true })).problems;
  if (hasErrors(problems)) throw new PackageError(packageId(pkg.meta), formatProblems(pkg.meta.program, problems.filter((p) => p.severity === 'error')));
  const name = await c.pushPackage(pkg);
  err(`katabot bpf: ${packageId(pkg.meta)} stored in configmap ${c.namespace}/${name}`);
  return 0;
}

interface AgentOpts {
  package: string;
  readyFile?: string;
  terminationLog?: string;
  cgroupRoot?: string;
  pod?: string;
  namespace?: string;
  podUid?: string;
  duration?: string;
  out: string;
}

/** The container entrypoint of an instance: the package from the mounted ConfigMap, its trace on stdout (the pod
 * log). SIGTERM (pod deletion) stops it: SIGINT to bpftrace, maps printed and written, footer, exit 0. */
async function agentVerb(o: AgentOpts): Promise<number> {
  const log = (line: string): void => err(`katabot bpf agent: ${line}`);
  const fail = (message: string): number => {
    log(message);
    if (o.terminationLog) {
      mkdirSync(dirname(o.terminationLog), { recursive: true });
      writeFileSync(o.terminationLog, message.slice(0, 4000));
    }
    return 1;
  };
  const file = (k: string): string | undefined => (existsSync(join(o.package, k)) ? readFileSync(join(o.package, k), 'utf8') : undefined);
  let pkg: BpfPackage;
  let params: Record<string, unknown> = {};
  try {
    const builtin = file(CONFIGMAP_KEYS.builtin)?.trim();
    if (builtin) {
      const b = builtinPackage(builtin);
      if (!b) return fail(`${builtin} is not a built-in package of this katabot (built-ins are version ${BUILTIN_VERSION})`);
      pkg = b;
    } else {
      const files: Record<string, string> = {};
      for (const k of [PACKAGE_FILE, CONFIGMAP_KEYS.program]) {
        const t = file(k);
        if (t !== undefined) files[k] = t;
      }
      pkg = packageFromFiles(files, { kind: 'file', path: o.package }, o.package);
    }
    params = JSON.parse(file(CONFIGMAP_KEYS.params) ?? '{}') as Record<string, unknown>;
  } catch (e) {
    return fail((e as Error).message);
  }
  // SIGTERM from the kubelet may come while bpftrace still compiles: remember it, stop as soon as it runs
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    const resolved = resolveParams(pkg.meta, params);
    await tracePods({
      out: o.out,
      log,
      signal: stop.signal,
      ...(o.podUid !== undefined ? { podUid: o.podUid, pod: o.pod ?? o.podUid, namespace: o.namespace ?? 'default' } : { node: true }),
      ...(o.readyFile !== undefined ? { readyFile: o.readyFile } : {}),
      ...(o.cgroupRoot !== undefined && existsSync(o.cgroupRoot) ? { cgroupRoot: o.cgroupRoot } : {}),
      ...(o.duration !== undefined ? { durationMs: parseDuration(o.duration) * 1000 } : {}),
      builtins: pkg.builtin ? [pkg.meta.name] : [],
      packages: pkg.builtin ? [] : [{ pkg, params: resolved }],
      flushEveryMs: 500,
      onReady: () => log(`${packageId(pkg.meta)} attached`),
    });
    return 0;
  } catch (e) {
    if (e instanceof EbpfUnavailableError || e instanceof PackageProgramError || e instanceof PackageError || e instanceof TraceUsageError) {
      if (o.readyFile) markFailed(o.readyFile, e.message);
      return fail(e.message);
    }
    throw e;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

// ---------------------------------------------------------------------------------------------------------------

function clusterOptions(c: Command): Command {
  return c
    .option('-n, --namespace <ns>', 'namespace of the instances (default: the kubeconfig context\'s)')
    .option('--kubeconfig <file>', 'kubeconfig (default: KUBECONFIG, ~/.kube/config, in-cluster)');
}

function packageOptions(c: Command): Command {
  return c.option('--probes-dir <dir>', 'package directory (default: .katabot/probes of the repository around the current directory)');
}

export function registerBpf(program: Command): void {
  const bpf = program
    .command('bpf')
    .description('eBPF packages: validate bpftrace programs, run them locally or on chosen nodes, read, upgrade and delete them');

  packageOptions(clusterOptions(bpf.command('validate')
    .description('check a package: metadata, output contract, parameters, versions, a bpftrace compile on this kernel')
    .argument('<package>', 'name[@version], a package directory, or a .bt file')
    .option('--param <k=v>', 'a parameter value (repeatable)', collect)
    .option('--attach', 'also load and attach the program (needs root), then stop it')))
    .action((ref: string, o: CommonOpts & { attach?: boolean }) => verb(() => validateVerb(ref, o)));

  packageOptions(clusterOptions(bpf.command('run')
    .description('run a package: here against a command (after --), or on the cluster as a Job/DaemonSet')
    .argument('<package>', 'name[@version], a package directory, or a .bt file (locally: several, comma-separated)')
    .argument('[command...]', 'command to run and trace, after --')
    .option('--node <name>', 'run on this node (repeatable: a DaemonSet over those nodes)', collect)
    .option('--all-nodes', 'run on every node (a DaemonSet)')
    .option('--pod <name>', 'run on the pod\'s node, scoped to the pod (namespace: -n)')
    .option('--param <k=v>', 'a parameter value (repeatable)', collect)
    .option('--duration <d>', 'stop after this long (30s, 5m, 2h); cluster instances run until deleted otherwise')
    .option('--image <image>', `tracer image (default: KATABOT_TRACER_IMAGE or ${DEFAULT_TRACER_IMAGE})`)
    .option('--timeout <d>', 'how long the start may take on the cluster (default 2m)')
    .option('--out <file>', 'trace file of a local run (default: trace.jsonl)')
    .option('--no-summary', 'local run: do not print the summary on stderr')
    .addHelpText('after', '\nExamples:\n  katabot bpf run syscount -- make test\n  katabot bpf run syscount@1.1.0 --node worker-1 --param min_id=0\n  katabot bpf run ./probes/opens.bt --pod my-pod -n test-pods --duration 10m\n')))
    .action((ref: string, command: string[], o: RunOpts) => verb(() => runVerb(ref, command, o)));

  clusterOptions(bpf.command('list').description('running instances: package, version, target, nodes, state, age'))
    .action((o: ClusterOpts) => verb(() => listVerb(o)));

  clusterOptions(bpf.command('logs')
    .description('an instance\'s events, in the trace format (one trace per node)')
    .argument('<instance>')
    .option('-f, --follow', 'keep streaming')
    .option('--node <name>', 'only the pod on this node'))
    .action((id: string, o: ClusterOpts & { follow?: boolean; node?: string }) => verb(() => logsVerb(id, o)));

  clusterOptions(bpf.command('delete')
    .description('stop an instance (SIGINT to bpftrace, so its maps are printed) and remove its ConfigMap, Job/DaemonSet and pods')
    .argument('<instance>')
    .option('--out <file>', 'save the final traces (FILE, or FILE.<pod>.jsonl per pod when there are several)'))
    .action((id: string, o: ClusterOpts & { out?: string }) => verb(() => deleteVerb(id, o)));

  packageOptions(clusterOptions(bpf.command('upgrade')
    .description('replace an instance\'s program; a failed start rolls back to the version it ran')
    .argument('<instance>')
    .argument('<package>', 'name@version (or a path)')
    .option('--param <k=v>', 'a parameter value (repeatable); others carry over', collect)
    .option('--image <image>', 'tracer image (default: the instance\'s)')
    .option('--timeout <d>', 'how long the new version may take to start (default 2m)')
    .option('--out <file>', 'save the previous version\'s final trace')))
    .action((id: string, ref: string, o: CommonOpts & { image?: string; timeout?: string; out?: string }) => verb(() => upgradeVerb(id, ref, o)));

  packageOptions(clusterOptions(bpf.command('packages').description('packages: built-in, in .katabot/probes, and in the cluster\'s ConfigMaps')))
    .action((o: CommonOpts) => verb(() => packagesVerb(o)));

  packageOptions(clusterOptions(bpf.command('show').description('a package\'s metadata and source').argument('<package>')))
    .action((ref: string, o: CommonOpts) => verb(() => showVerb(ref, o)));

  packageOptions(clusterOptions(bpf.command('push').description('store a package in a ConfigMap, so the cluster has it by name').argument('<package>')))
    .action((ref: string, o: CommonOpts) => verb(() => pushVerb(ref, o)));

  bpf.command('agent', { hidden: true })
    .description('the entrypoint of an instance\'s container')
    .requiredOption('--package <dir>', 'the mounted package (package.yaml, program.bt or builtin, params.json)')
    .option('--ready-file <file>', 'created once every probe is attached (the readiness probe)')
    .option('--termination-log <file>', 'why the start failed (the container\'s terminationMessagePath)')
    .option('--cgroup-root <dir>', 'the host\'s cgroup2 hierarchy')
    .option('--pod <name>').option('--namespace <ns>').option('--pod-uid <uid>', 'trace this pod (found by UID in the cgroup tree)')
    .option('--duration <d>', 'stop after this long')
    .option('--out <file>', 'trace file (- is standard output)', '-')
    .action((o: AgentOpts) => verb(() => agentVerb(o)));
}
