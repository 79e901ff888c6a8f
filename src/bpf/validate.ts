// Checks of a package that need no kernel: metadata against program (the output contract), placeholders and
// parameters, version requirements, and reading bpftrace's own diagnostics into problems with lines. Pure.
import { CUSTOM_KIND, packageId, resolveParams, versionAtLeast, PackageError, type BpfPackage, type PackageMeta } from './package.ts';
import { ATTACH_MARKER, scanSource } from './source.ts';

export interface Problem {
  severity: 'error' | 'warning';
  message: string;
  /** Line in the package's program file. */
  line?: number;
  col?: number;
}

export function hasErrors(problems: readonly Problem[]): boolean {
  return problems.some((p) => p.severity === 'error');
}

/** `program.bt:4:3: error: …` lines, as compilers print them. */
export function formatProblems(file: string, problems: readonly Problem[]): string[] {
  return problems.map((p) => `${file}${p.line !== undefined ? `:${p.line}${p.col !== undefined ? `:${p.col}` : ''}` : ''}: ${p.severity}: ${p.message}`);
}

/** Static checks: the program against its metadata. Built-in packages are generated, so they have none. */
export function checkPackage(pkg: BpfPackage, params: Record<string, unknown> = {}): Problem[] {
  if (pkg.builtin) return [];
  const problems: Problem[] = [];
  const err = (message: string, line?: number): void => { problems.push({ severity: 'error', message, ...(line !== undefined ? { line } : {}) }); };
  const warn = (message: string, line?: number): void => { problems.push({ severity: 'warning', message, ...(line !== undefined ? { line } : {}) }); };
  const meta = pkg.meta;
  const info = scanSource(pkg.source);
  for (const p of info.problems) err(p.message, p.line);
  if (info.probes.length === 0 && info.problems.length === 0) err('the program has no probe');

  // placeholders and parameters
  const declared = new Set(meta.parameters.map((p) => p.name));
  const used = new Set<string>();
  for (const p of info.placeholders) {
    used.add(p.name);
    if (p.name !== 'in_scope' && !declared.has(p.name)) {
      err(`\${${p.name}} is not a parameter of ${meta.name}${declared.size ? ` (parameters: ${[...declared].join(', ')})` : ' (it declares none)'}`, p.line);
    }
  }
  for (const p of meta.parameters) if (!used.has(p.name)) warn(`parameter ${p.name} is declared but the program never uses \${${p.name}}`);
  if (!used.has('in_scope')) {
    warn('the program does not use ${in_scope}: it sees every process on the machine, not just the command, pod or node it is run for');
  }
  try {
    resolveParams(meta, params);
  } catch (e) {
    if (!(e instanceof PackageError)) throw e;
    for (const m of e.problems) err(m);
  }

  // output contract: printf lines
  const printfEvents = meta.events.filter((e) => e.source === 'printf');
  const printed = new Set<string>();
  for (const call of info.printfs) {
    if (call.format === `${ATTACH_MARKER}\n`) continue;
    const text = call.format.endsWith('\n') ? call.format.slice(0, -1) : call.format;
    const columns = text.split('\t');
    const name = columns[0]!;
    if (meta.unnamed) continue;
    if (printfEvents.length === 0) {
      warn(`printf output is not declared in package.yaml: each line becomes a custom event "output" with the whole text`, call.line);
      continue;
    }
    if (name.startsWith('%')) {
      warn(`the event name (first column) is computed by ${JSON.stringify(name)}: the output contract cannot be checked here`, call.line);
      continue;
    }
    const spec = printfEvents.find((e) => e.name === name);
    if (!spec) {
      err(`printf prints ${JSON.stringify(name)}, which is not a declared event (declared: ${printfEvents.map((e) => e.name).join(', ')}); `
        + 'an event line is its name, a tab, then its fields separated by tabs', call.line);
      continue;
    }
    printed.add(name);
    if (columns.length - 1 !== spec.fields.length) {
      err(`printf for event ${name} has ${columns.length - 1} tab-separated column(s) after the name, package.yaml declares ${spec.fields.length} (${spec.fields.map((f) => f.name).join(', ')})`, call.line);
    }
  }
  for (const e of printfEvents) if (!printed.has(e.name) && !info.printfs.some((c) => c.format.startsWith('%'))) warn(`event ${e.name} is declared but no printf prints it`);

  // output contract: maps
  for (const e of meta.events) {
    if (e.source !== 'map') continue;
    if (!info.maps.has(e.map!)) err(`event ${e.name} reads map ${e.map}, which the program does not use`);
  }
  if (!meta.unnamed) {
    const declaredMaps = new Set(meta.events.filter((e) => e.map).map((e) => e.map!));
    for (const [m, line] of info.maps) {
      if (declaredMaps.has(m)) continue;
      // a map that is cleared in END is state, not output
      if (new RegExp(`clear\\(\\s*${m.replace(/[$@]/g, '\\$&')}\\s*\\)`).test(pkg.source)) continue;
      warn(`map ${m} is not declared in package.yaml: if it still holds entries at exit, bpftrace prints it and it becomes custom events "${mapEventName(m)}" (clear(${m}) in END if it is only state)`, line);
    }
  }
  for (const e of meta.events) {
    if (e.kind !== CUSTOM_KIND && e.source === 'printf' && !e.fields.some((f) => f.name === 'ts')) {
      warn(`event ${e.name} (kind ${e.kind}) has no ts field: it is timed when katabot reads it, not when it happened`);
    }
  }
  return problems;
}

/** The custom event name of a map that package.yaml does not declare: `@opens` → `opens`, `@` → `map`. */
export function mapEventName(map: string): string {
  return map === '@' ? 'map' : map.slice(1);
}

/** Minimum bpftrace and kernel versions against the ones found. */
export function checkRequirements(meta: PackageMeta, found: { bpftrace?: string; kernel?: string }): Problem[] {
  const problems: Problem[] = [];
  if (found.bpftrace !== undefined && !versionAtLeast(found.bpftrace, meta.requires.bpftrace)) {
    problems.push({ severity: 'error', message: `${packageId(meta)} needs bpftrace ≥ ${meta.requires.bpftrace}, this is ${found.bpftrace}` });
  }
  if (found.kernel !== undefined && meta.requires.kernel !== undefined && !versionAtLeast(found.kernel, meta.requires.kernel)) {
    problems.push({ severity: 'error', message: `${packageId(meta)} needs Linux ≥ ${meta.requires.kernel}, this is ${found.kernel}` });
  }
  return problems;
}

const LOCATED = /^(.*?):(\d+)(?:-(\d+))?(?::(\d+)(?:-\d+)?)?: (ERROR|WARNING): (.*)$/;

/**
 * bpftrace's stderr as problems. `file` is the path bpftrace was given: located lines naming it carry their line.
 * Warnings that a kprobe is "not traceable" become errors: the probe does not exist on this kernel (bpftrace itself
 * would only fail when attaching).
 */
export function parseBpftraceDiagnostics(stderr: string, file: string): Problem[] {
  const problems: Problem[] = [];
  const lines = stderr.split('\n');
  for (const raw of lines) {
    const line = raw.trimEnd();
    if (line.trim() === '') continue;
    if (/RLIMIT_MEMLOCK/.test(line)) continue; // kernels ≥ 5.11 account BPF memory to the cgroup instead
    if (/WARNING: Addrspace mismatch/.test(line)) continue; // user/kernel pointer hints on str(args->…)
    const m = LOCATED.exec(line);
    if (m && (m[1] === file || m[1]!.endsWith(`/${file.split('/').pop()}`) || m[1] === 'stdin')) {
      const severity = m[5] === 'ERROR' ? 'error' : 'warning';
      let message = m[6]!;
      let sev: Problem['severity'] = severity;
      if (/is not traceable/.test(message)) {
        sev = 'error';
        message = `probe does not exist on this kernel: ${message}`;
      } else if (/tracepoint not found/.test(message)) {
        message = `probe does not exist on this kernel: ${message}`;
      }
      // bpftrace reports an expression as `4:3-9` and a probe as the range `4-5` from the end of the previous one:
      // the probe itself is on the range's last line
      problems.push({ severity: sev, message, line: Number(m[3] ?? m[2]), ...(m[4] !== undefined ? { col: Number(m[4]) } : {}) });
      continue;
    }
    const bare = /^(ERROR|WARNING): (.*)$/.exec(line.trim());
    if (bare) {
      problems.push({ severity: bare[1] === 'ERROR' ? 'error' : 'warning', message: bare[2]! });
      continue;
    }
  }
  return problems;
}
