// `katabot trace`: the eBPF tracer's command line.
//   katabot trace [--out FILE] -- CMD ARGS…                 trace CMD and its descendants, exit with CMD's code
//   katabot trace --pod NAME --namespace NS | -l SELECTOR    trace pods on this node until interrupted
//   katabot trace --sidecar                                  trace the pod the tracer runs in (traced ProwJobs)
//   katabot trace --podman --pod NAME | -l SELECTOR          trace local Podman pods (their cgroups, names, labels)
//   katabot trace --host [--cgroup PATH]                     trace the machine (or a cgroup subtree) but the tracer
//   … --probe dns,tcp,syscount                               trace with these eBPF packages only (docs/bpf-packages.md)
import type { Command } from 'commander';
import { findProbesDir, resolvePackage } from '../adapters/bpf-packages.ts';
import { isBuiltinName } from '../bpf/builtin.ts';
import { PACKAGES_ENV, PackageError, parsePackageRef, resolveParams, unbundlePackages, type BpfPackage } from '../bpf/package.ts';
import type { SessionPackage } from '../tracer/session.ts';
import { renderSummary, type TraceSummary } from '../trace/summary.ts';
import type { TraceHeader } from '../trace/format.ts';
import { traceCommand } from '../tracer/command.ts';
import { EbpfUnavailableError, PackageProgramError, TraceUsageError } from '../tracer/errors.ts';
import { podmanPodSource } from '../tracer/podman.ts';
import { traceHost } from '../tracer/host.ts';
import { tracePods } from '../tracer/pods.ts';

/** Exit code when tracing itself fails (as env(1) and container runtimes use it). */
export const TRACER_FAILED = 125;

interface TraceCliOptions {
  out?: string;
  pod?: string;
  namespace?: string;
  selector?: string;
  sidecar?: boolean;
  podman?: boolean;
  host?: boolean;
  cgroup?: string;
  untilFile?: string[];
  readyFile?: string;
  duration?: string;
  cgroupRoot?: string;
  linger?: string;
  probe?: string;
  summary: boolean;
  aggregate: boolean;
}

/** `--probe LIST`: built-in packages by name; custom ones from KATABOT_BPF_PACKAGES (a traced job's sidecar), else
 * from the repository's .katabot/probes. Every custom package runs with its parameters' defaults. */
export async function resolveProbes(
  list: string, o: { optional?: boolean; log?: (line: string) => void; env?: NodeJS.ProcessEnv } = {},
): Promise<{ builtins: string[]; packages: SessionPackage[] }> {
  const env = o.env ?? process.env;
  const builtins: string[] = [];
  const packages: SessionPackage[] = [];
  let bundled: BpfPackage[] = [];
  try {
    bundled = env[PACKAGES_ENV] ? unbundlePackages(env[PACKAGES_ENV]) : [];
  } catch (err) {
    if (!o.optional || !(err instanceof PackageError)) throw err;
    o.log?.(`${PACKAGES_ENV} ignored: ${err.message}`);
  }
  for (const ref of list.split(',').map((r) => r.trim()).filter((r) => r !== '')) {
    const r = parsePackageRef(ref);
    if (r.kind === 'name' && isBuiltinName(r.name)) {
      if (!builtins.includes(r.name)) builtins.push(r.name);
      continue;
    }
    try {
      const pkg = (r.kind === 'name' ? bundled.find((p) => p.meta.name === r.name && (r.version === undefined || p.meta.version === r.version)) : undefined)
        ?? await resolvePackage(ref, { ...(findProbesDir() ? { probesDir: findProbesDir()! } : {}) });
      if (pkg.builtin) builtins.push(pkg.meta.name);
      else packages.push({ pkg, params: resolveParams(pkg.meta, {}) });
    } catch (err) {
      if (!o.optional || !(err instanceof PackageError)) throw err;
      o.log?.(`--probe ${ref} left out: ${err.message}`);
    }
  }
  return { builtins, packages };
}

/** Expands `$ARTIFACTS` / `${ARTIFACTS}` (Prow sets ARTIFACTS=/logs/artifacts in decorated containers). */
export function expandOutPath(path: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.replace(/\$\{?([A-Z_][A-Z0-9_]*)\}?/g, (whole, name: string) => {
    const value = env[name];
    if (value === undefined || value === '') throw new TraceUsageError(`--out ${path}: ${name} is not set`);
    return value;
  });
}

function seconds(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new TraceUsageError(`${flag} wants a number of seconds, got ${JSON.stringify(value)}`);
  return n * 1000;
}

function printSummary(summary: TraceSummary, header: TraceHeader, out: string): void {
  process.stderr.write(renderSummary(summary, header, out, Math.max(60, Math.min(process.stderr.columns ?? 100, 160))));
}

async function run(commandArgs: string[], o: TraceCliOptions): Promise<number> {
  const log = (line: string): void => { process.stderr.write(`katabot trace: ${line}\n`); };
  const podMode = o.sidecar || o.pod !== undefined || o.selector !== undefined;
  if (o.cgroup !== undefined && !o.host) throw new TraceUsageError('--cgroup goes with --host');
  if (o.host && (podMode || commandArgs.length > 0)) throw new TraceUsageError('--host traces the machine: give no command and no --pod/-l/--sidecar');
  if (podMode && commandArgs.length > 0) throw new TraceUsageError('give either a command (after --) or --pod/-l/--sidecar, not both');
  if (o.pod !== undefined && o.selector !== undefined) throw new TraceUsageError('--pod and -l are exclusive');
  if (o.podman && (o.sidecar || (o.pod === undefined && o.selector === undefined))) throw new TraceUsageError('--podman traces local Podman pods: give --pod NAME or -l SELECTOR');
  if (o.host) return runHost(o, log);
  if (!podMode && commandArgs.length === 0) throw new TraceUsageError('nothing to trace: katabot trace [--out FILE] -- CMD ARGS…');
  const out = expandOutPath(o.out ?? (o.sidecar ? '$ARTIFACTS/katabot/trace.jsonl' : 'trace.jsonl'));
  const probes = o.probe !== undefined ? await resolveProbes(o.probe, { optional: o.sidecar === true, log }) : undefined;

  if (!podMode) {
    const linger = seconds(o.linger, '--linger');
    const r = await traceCommand({
      argv: commandArgs, out, log, aggregate: o.aggregate, ...(linger !== undefined ? { lingerMs: linger } : {}), ...(probes ?? {}),
    });
    if (o.summary) printSummary(r.summary, r.header, out);
    return r.exitCode;
  }
  const durationMs = seconds(o.duration, '--duration');
  const r = await tracePods({
    out,
    log,
    aggregate: o.aggregate,
    ...(o.sidecar ? { sidecar: true } : {}),
    ...(o.podman ? { pods: podmanPodSource() } : {}),
    ...(o.pod !== undefined ? { pod: o.pod } : {}),
    ...(o.namespace !== undefined ? { namespace: o.namespace } : {}),
    ...(o.selector !== undefined ? { selector: o.selector } : {}),
    ...(o.untilFile ? { untilFiles: o.untilFile } : {}),
    ...(o.readyFile !== undefined ? { readyFile: o.readyFile } : {}),
    ...(durationMs !== undefined ? { durationMs } : {}),
    ...(o.cgroupRoot !== undefined ? { cgroupRoot: o.cgroupRoot } : {}),
    ...(probes ?? {}),
    // in a traced job, a custom package that does not start must not cost the default trace
    ...(probes && o.sidecar ? { optionalPackages: true } : {}),
    onReady: () => log(`tracing ${o.sidecar ? 'this pod' : o.pod ?? o.selector}; stop with SIGINT or SIGTERM`),
  });
  if (o.summary) printSummary(r.summary, r.header, out);
  return 0;
}

/** `--host`: until SIGINT/SIGTERM, the --until-file files or --duration; a custom package that does not start is left out. */
async function runHost(o: TraceCliOptions, log: (line: string) => void): Promise<number> {
  const out = expandOutPath(o.out ?? 'trace.jsonl');
  const probes = o.probe !== undefined ? await resolveProbes(o.probe, { optional: true, log }) : undefined;
  const durationMs = seconds(o.duration, '--duration');
  const r = await traceHost({
    out,
    log,
    aggregate: o.aggregate,
    ...(o.cgroup !== undefined ? { cgroup: o.cgroup } : {}),
    ...(o.untilFile ? { untilFiles: o.untilFile } : {}),
    ...(o.readyFile !== undefined ? { readyFile: o.readyFile } : {}),
    ...(durationMs !== undefined ? { durationMs } : {}),
    ...(probes ?? {}),
    ...(probes ? { optionalPackages: true } : {}),
    onReady: () => log(`tracing ${o.cgroup ?? 'this machine'} but the tracer; stop with SIGINT or SIGTERM`),
  });
  if (o.summary) printSummary(r.summary, r.header, out);
  return 0;
}

export function registerTrace(program: Command): void {
  program
    .command('trace')
    .description('trace what a command or pod really does (execs, exits, opens, TCP, DNS) with eBPF into a JSONL trace')
    .argument('[command...]', 'command to run and trace, after --')
    .option('--out <file>', 'trace file; $ARTIFACTS is expanded (default: trace.jsonl, $ARTIFACTS/katabot/trace.jsonl with --sidecar)')
    .option('--pod <name>', 'trace this pod (run on its node)')
    .option('--namespace <ns>', 'namespace of --pod or -l', undefined)
    .option('-l, --selector <selector>', 'trace the pods matching this label selector')
    .option('--sidecar', 'trace the pod this tracer runs in (POD_NAME/POD_NAMESPACE from the downward API)')
    .option('--podman', 'with --pod or -l: trace local Podman pods instead of Kubernetes ones (--namespace names them)')
    .option('--host', 'trace the whole machine but the tracer itself, until interrupted (the katabot action)')
    .option('--cgroup <path>', 'with --host: only this cgroup subtree, e.g. /system.slice (created when under /katabot/)')
    .option('--until-file <path...>', 'stop once these files exist (Prow entrypoint marker files)')
    .option('--ready-file <path>', 'create this file once the probes are attached')
    .option('--duration <seconds>', 'stop after this long (pod and host mode)')
    .option('--cgroup-root <dir>', 'cgroup v2 hierarchy to resolve cgroup paths in (default: the mounted one)')
    .option('--linger <seconds>', 'keep tracing descendants that outlive the command this long (default 1)')
    .option('--probe <packages>', 'trace with these eBPF packages only: built-in exec, files, tcp, dns, and custom ones (comma-separated)')
    .option('--no-summary', 'do not print the summary on stderr')
    .option('--no-aggregate', 'print every open and connect instead of counting repeats in the kernel (docs/trace-format.md)')
    .addHelpText('after', '\nExamples:\n  katabot trace --out run.jsonl -- make test\n  katabot trace --pod test-pod --namespace test-pods --duration 60\n')
    .action(async (commandArgs: string[], options: TraceCliOptions) => {
      try {
        process.exitCode = await run(commandArgs, options);
      } catch (err) {
        if (err instanceof PackageError || err instanceof PackageProgramError) {
          process.stderr.write(`katabot trace: ${err.message}\n`);
          process.exitCode = options.sidecar ? 0 : TRACER_FAILED;
        } else if (err instanceof EbpfUnavailableError) {
          process.stderr.write(`${err.message}\n`);
          // A traced ProwJob must not fail because its tracer could not run: the reason is in --ready-file.failed.
          process.exitCode = options.sidecar ? 0 : TRACER_FAILED;
        } else if (err instanceof TraceUsageError) {
          process.stderr.write(`katabot trace: ${err.message}\n`);
          process.exitCode = err.exitCode;
        } else {
          throw err;
        }
      }
    });
}
