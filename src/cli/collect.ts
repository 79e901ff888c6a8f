// `katabot collect`: the node collector (src/tracer/collector.ts), and `katabot collect --finish`, which asks the
// collector on this node to end its merged trace and prints where it is (the traced job copies it out next).
import { connect } from 'node:net';
import type { Command } from 'commander';
import { DEFAULT_COLLECTOR_PORT } from '../jobs/inject.ts';
import { Collector, kubernetesPodDirectory } from '../tracer/collector.ts';
import { TraceUsageError } from '../tracer/errors.ts';
import { expandOutPath } from './trace.ts';

interface CollectCliOptions {
  out: string;
  port: string;
  cgroupRoot?: string;
  hostCgroup?: string[];
  host: boolean;
  api: boolean;
  node?: string;
  finish?: boolean;
  timeout: string;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new TraceUsageError(`--port wants a TCP port, got ${JSON.stringify(value)}`);
  return n;
}

/** Sends `finish` to the collector on this node and returns its answer (the trace's path and totals). */
export async function finishCollector(p: number, timeoutMs: number): Promise<{ out: string; events: number; guests: number; lost: number }> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: p });
    let text = '';
    const timer = setTimeout(() => { s.destroy(); reject(new TraceUsageError(`the collector on port ${p} did not finish within ${timeoutMs / 1000} s`, 1)); }, timeoutMs);
    s.setEncoding('utf8');
    s.on('connect', () => s.write('{"type":"finish"}\n'));
    s.on('data', (c: string) => { text += c; });
    s.on('error', (err) => { clearTimeout(timer); reject(new TraceUsageError(`no collector on port ${p}: ${err.message}`, 1)); });
    s.on('close', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(text.trim().split('\n')[0] ?? '') as { out: string; events: number; guests: number; lost: number });
      } catch {
        reject(new TraceUsageError(`the collector on port ${p} answered ${JSON.stringify(text.slice(0, 120))}`, 1));
      }
    });
  });
}

export function registerCollect(program: Command): void {
  program
    .command('collect')
    .description('node collector: trace the host side of pods and merge the Kata guests\' streams into one trace')
    .option('--out <file>', 'the merged trace ($ARTIFACTS is expanded)', '/var/run/katabot/trace.jsonl')
    .option('--port <port>', 'TCP port for the guests\' streams', String(DEFAULT_COLLECTOR_PORT))
    .option('--cgroup-root <dir>', 'the host\'s cgroup v2 hierarchy (default: the mounted one)')
    .option('--host-cgroup <path...>', 'host cgroups to trace, relative to the root (default: the kubepods tree and /kata_overhead)')
    .option('--no-host', 'do not trace the host side, only merge the guests')
    .option('--no-api', 'do not ask the API server for pod and container names')
    .option('--node <name>', 'this node, to list only its pods (default: $NODE_NAME)')
    .option('--finish', 'ask the collector on this node to end its trace, print its path and totals, and exit')
    .option('--timeout <seconds>', 'how long --finish waits', '120')
    .addHelpText('after', '\nExamples:\n  katabot collect --out /var/run/katabot/trace.jsonl\n  katabot collect --finish\n')
    .action(async (o: CollectCliOptions) => {
      const log = (line: string): void => { process.stderr.write(`katabot collect: ${line}\n`); };
      try {
        if (o.finish) {
          const r = await finishCollector(port(o.port), Number(o.timeout) * 1000);
          process.stdout.write(`${JSON.stringify(r)}\n`);
          return;
        }
        const abort = new AbortController();
        process.once('SIGTERM', () => abort.abort());
        process.once('SIGINT', () => abort.abort());
        const collector = await Collector.start({
          out: expandOutPath(o.out),
          port: port(o.port),
          ...(o.cgroupRoot !== undefined ? { cgroupRoot: o.cgroupRoot } : {}),
          ...(o.hostCgroup ? { hostCgroups: o.hostCgroup } : {}),
          traceHost: o.host,
          ...(o.api ? { pods: await kubernetesPodDirectory(o.node ?? process.env['NODE_NAME'], log) } : {}),
          signal: abort.signal,
          log,
          onListening: (p) => log(`listening for guests on port ${p}`),
        });
        const r = await collector.done();
        log(`done: ${Object.values(r.footer.counts).reduce((a, b) => a + b, 0)} events`);
        // finished on request (not by a signal): stay until stopped, so the pod is not restarted before the trace is copied
        if (!abort.signal.aborted) await new Promise<void>((resolve) => abort.signal.addEventListener('abort', () => resolve(), { once: true }));
      } catch (err) {
        if (!(err instanceof TraceUsageError)) throw err;
        process.stderr.write(`katabot collect: ${err.message}\n`);
        process.exitCode = err.exitCode;
      }
    });
}
