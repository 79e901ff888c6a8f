// `katabot bpf validate`: the static checks (src/bpf/validate.ts), the version requirements, then bpftrace itself:
// a compile of the program as it would run (`--emit-elf`, which resolves every probe against this kernel's
// tracepoints and BTF), and optionally a real load and attach (the verifier), stopped at once.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinKinds, DEFAULT_PROGRAM_OPTIONS, generateProgram } from '../bpf/builtin.ts';
import { PackageError, resolveParams, type BpfPackage } from '../bpf/package.ts';
import { renderProgram, scopeExpression } from '../bpf/source.ts';
import { checkPackage, checkRequirements, parseBpftraceDiagnostics, type Problem } from '../bpf/validate.ts';
import { bpftraceBinary, bpftraceLaunch, checkBpftrace, failureReason, kernfsParentField } from './bpftrace.ts';
import { PackageRun } from './package-run.ts';
import { cgroup2Root } from './cgroup-fs.ts';
import { EbpfUnavailableError, PackageProgramError } from './errors.ts';

export interface ValidateOptions {
  params?: Record<string, string>;
  /** Also load and attach the program (needs root), then stop it. */
  attach?: boolean;
  /** Skip the bpftrace steps (static checks only), e.g. where bpftrace is missing. */
  staticOnly?: boolean;
}

export interface ValidateReport {
  problems: Problem[];
  /** What ran: static, requirements, compile, attach; and why a step was skipped. */
  steps: Array<{ step: string; ok: boolean; note?: string }>;
  bpftrace?: string;
  kernel: string;
}

function runCompile(bin: string, file: string, elf: string): Promise<{ code: number | null; stderr: string }> {
  const launch = bpftraceLaunch(bin, ['--emit-elf', elf, file]);
  return new Promise((resolve) => {
    const child = spawn(launch.command, launch.args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, BPFTRACE_STRLEN: '64' } });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c: string) => { stderr += c; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', (err) => { clearTimeout(timer); resolve({ code: null, stderr: `ERROR: ${err.message}` }); });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stderr }); });
  });
}

export async function validatePackage(pkg: BpfPackage, o: ValidateOptions = {}): Promise<ValidateReport> {
  const report: ValidateReport = { problems: [], steps: [], kernel: release() };
  const statics = checkPackage(pkg, o.params ?? {});
  report.problems.push(...statics);
  report.steps.push({ step: 'metadata and output contract', ok: !statics.some((p) => p.severity === 'error') });
  if (o.staticOnly) return report;

  let version: string;
  const bin = bpftraceBinary();
  try {
    version = (await checkBpftrace(bin)).raw;
  } catch (err) {
    if (!(err instanceof EbpfUnavailableError)) throw err;
    report.steps.push({ step: 'compile', ok: false, note: `skipped: ${err.message}` });
    return report;
  }
  report.bpftrace = version;
  const req = checkRequirements(pkg.meta, { bpftrace: version, kernel: report.kernel });
  report.problems.push(...req);
  report.steps.push({ step: `requirements (bpftrace ≥ ${pkg.meta.requires.bpftrace}${pkg.meta.requires.kernel ? `, Linux ≥ ${pkg.meta.requires.kernel}` : ''})`, ok: req.length === 0 });

  let params: ReturnType<typeof resolveParams> = {};
  try {
    params = resolveParams(pkg.meta, o.params ?? {});
  } catch (err) {
    if (!(err instanceof PackageError)) throw err;
    report.steps.push({ step: 'compile', ok: false, note: 'skipped: parameters do not resolve' });
    return report;
  }
  const parent = await kernfsParentField(bin);
  let text: string;
  try {
    text = pkg.builtin
      ? generateProgram({ ...DEFAULT_PROGRAM_OPTIONS, scope: { kind: 'all' }, agentPid: process.pid, kernfsParentField: parent, kinds: builtinKinds([pkg.meta.name]) })
      : renderProgram(pkg.source, { params, scope: scopeExpression({ kind: 'cgroups', ids: [1n] }, parent), attachMarker: true });
  } catch (err) {
    report.steps.push({ step: 'compile', ok: false, note: `skipped: ${(err as Error).message}` });
    return report;
  }
  const dir = mkdtempSync(join(tmpdir(), 'katabot-bpf-validate-'));
  const file = join(dir, pkg.meta.program);
  writeFileSync(file, text);
  try {
    let r: { code: number | null; stderr: string };
    try {
      r = await runCompile(bin, file, join(dir, 'program.elf'));
    } catch (err) {
      if (!(err instanceof EbpfUnavailableError)) throw err;
      report.steps.push({ step: 'compile', ok: false, note: `skipped: ${err.message}` });
      return report;
    }
    const diags = parseBpftraceDiagnostics(r.stderr, file);
    report.problems.push(...diags);
    const failed = r.code !== 0 || diags.some((p) => p.severity === 'error');
    if (r.code !== 0 && !diags.some((p) => p.severity === 'error')) report.problems.push({ severity: 'error', message: `bpftrace --emit-elf: ${failureReason(r.stderr, r.code)}` });
    report.steps.push({ step: 'compile (bpftrace --emit-elf: syntax, types, probes on this kernel)', ok: !failed });
    if (failed || !o.attach) return report;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  if (pkg.builtin) {
    report.steps.push({ step: 'attach', ok: true, note: 'built-in packages attach with katabot trace' });
    return report;
  }
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    report.steps.push({ step: 'attach', ok: false, note: 'skipped: loading BPF programs needs root' });
    return report;
  }
  try {
    const run = await PackageRun.start({
      preflight: { bin, version: { raw: version, major: 0, minor: 0, patch: 0 }, kernfsParent: parent, cgroupRoot: cgroup2Root() },
      pkg,
      params,
      // a scope nothing is in: the probes load and attach, nothing is traced
      scope: '0',
      startNs: process.hrtime.bigint(),
      onEvent: () => {},
      attachTimeoutMs: 60_000,
    });
    await run.stop();
    report.steps.push({ step: 'attach (load through the verifier, attach every probe, stop)', ok: true });
  } catch (err) {
    if (err instanceof PackageProgramError) {
      for (const line of err.problems) report.problems.push({ severity: 'error', message: line.replace(/^[^:]+:(\d+:)?(\d+:)? ?error: /, '') , ...lineOf(line) });
    } else if (err instanceof EbpfUnavailableError) {
      report.problems.push({ severity: 'error', message: err.message });
    } else {
      throw err;
    }
    report.steps.push({ step: 'attach', ok: false });
  }
  return report;
}

function lineOf(text: string): { line?: number } {
  const m = /^[^:]+:(\d+)/.exec(text);
  return m ? { line: Number(m[1]) } : {};
}
