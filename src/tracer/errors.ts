// Errors the tracer reports to users as one line, without a stack trace.

/** eBPF tracing cannot run here; the message always starts with `eBPF unavailable:`. */
export class EbpfUnavailableError extends Error {
  readonly reason: string;
  constructor(reason: string) {
    super(`eBPF unavailable: ${reason}`);
    this.name = 'EbpfUnavailableError';
    this.reason = reason;
  }
}

/** A usage or environment problem that is not about eBPF (bad arguments, command not found). */
export class TraceUsageError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 2) {
    super(message);
    this.name = 'TraceUsageError';
    this.exitCode = exitCode;
  }
}

/** A package's program does not compile, attach or keep its output contract. `problems` are compiler-style lines
 * (`program.bt:4:3: error: …`). */
export class PackageProgramError extends Error {
  readonly problems: string[];
  constructor(pkg: string, problems: string[]) {
    super(`${pkg}: ${problems.length === 1 ? problems[0] : `\n  ${problems.join('\n  ')}`}`);
    this.name = 'PackageProgramError';
    this.problems = problems;
  }
}
