// `katabot guest`: the tracer inside a Kata guest, as the sidecar `katabot inject` adds (src/tracer/guest/agent.ts).
// Its identity and the collector's address come from the downward API (POD_NAME, POD_NAMESPACE, POD_UID,
// KATABOT_COLLECTOR_HOST = status.hostIP, KATABOT_COLLECTOR_PORT); flags override them.
import type { Command } from 'commander';
import { DEFAULT_COLLECTOR_PORT, GUEST_READY_FILE } from '../jobs/inject.ts';
import { runGuestTracer } from '../tracer/guest/agent.ts';
import { TraceUsageError } from '../tracer/errors.ts';

interface GuestCliOptions {
  collector?: string;
  pod?: string;
  namespace?: string;
  uid?: string;
  readyFile: string;
}

/** `host:port`, `[v6]:port` or a bare host (the default port). */
function parseHostPort(value: string, defaultPort: number): { host: string; port: number } {
  const m = /^\[([^\]]+)\](?::([0-9]+))?$/.exec(value) ?? /^([^:]+)(?::([0-9]+))?$/.exec(value);
  if (!m) {
    // a bare IPv6 address
    if (value.includes(':')) return { host: value, port: defaultPort };
    throw new TraceUsageError(`not host:port: ${JSON.stringify(value)}`);
  }
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new TraceUsageError(`bad port in ${JSON.stringify(value)}`);
  return { host: m[1]!, port };
}

export function registerGuest(program: Command): void {
  program
    .command('guest')
    .description('trace a Kata guest from inside (the sidecar katabot inject adds) and stream to the node collector')
    .option('--collector <host:port>', 'the node collector (default: $KATABOT_COLLECTOR_HOST:$KATABOT_COLLECTOR_PORT)')
    .option('--pod <name>', 'this pod (default: $POD_NAME)')
    .option('--namespace <ns>', 'its namespace (default: $POD_NAMESPACE)')
    .option('--uid <uid>', 'its UID (default: $POD_UID)')
    .option('--ready-file <path>', 'created once the tracer is done starting, traced or not', GUEST_READY_FILE)
    .action(async (o: GuestCliOptions) => {
      const env = process.env;
      const log = (line: string): void => { process.stderr.write(`katabot guest: ${line}\n`); };
      const host = env['KATABOT_COLLECTOR_HOST'];
      const collectorArg = o.collector ?? (host ? `${host.includes(':') ? `[${host}]` : host}:${env['KATABOT_COLLECTOR_PORT'] ?? DEFAULT_COLLECTOR_PORT}` : undefined);
      const pod = { name: o.pod ?? env['POD_NAME'], namespace: o.namespace ?? env['POD_NAMESPACE'], uid: o.uid ?? env['POD_UID'] };
      const missing = [
        ...(collectorArg ? [] : ['--collector (or KATABOT_COLLECTOR_HOST)']),
        ...(pod.name ? [] : ['--pod (or POD_NAME)']), ...(pod.namespace ? [] : ['--namespace (or POD_NAMESPACE)']), ...(pod.uid ? [] : ['--uid (or POD_UID)']),
      ];
      try {
        if (missing.length > 0) throw new TraceUsageError(`missing ${missing.join(', ')}`);
        const abort = new AbortController();
        const stop = (): void => abort.abort();
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
        const r = await runGuestTracer({
          collector: parseHostPort(collectorArg!, DEFAULT_COLLECTOR_PORT),
          pod: { name: pod.name!, namespace: pod.namespace!, uid: pod.uid! },
          readyFile: o.readyFile,
          signal: abort.signal,
          log,
        });
        if (r.status === 'traced') log(`started in ${r.startupMs} ms, peak memory ${Math.round((r.memoryKib ?? 0) / 1024)} MiB`);
        process.exitCode = 0;
      } catch (err) {
        if (!(err instanceof TraceUsageError)) throw err;
        process.stderr.write(`katabot guest: ${err.message}\n`);
        process.exitCode = err.exitCode;
      }
    });
}
