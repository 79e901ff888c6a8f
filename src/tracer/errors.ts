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
