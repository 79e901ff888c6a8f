// `katabot inject`: the mutating admission webhook that adds the guest tracer to Kata pods (src/jobs/inject.ts),
// serving AdmissionReview v1 over HTTPS at POST /mutate; and `katabot inject --yaml FILE`, the same change to
// workload YAML, which the genpolicy wrapper (scripts/genpolicy-katabot) runs before the real genpolicy.
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Command } from 'commander';
import { parseAllDocuments, stringify } from 'yaml';
import {
  DEFAULT_GUEST_INJECTION, injectIntoWorkload, reviewResponse, type AdmissionReview, type GuestInjectionPolicy,
} from '../jobs/inject.ts';
import { TraceUsageError } from '../tracer/errors.ts';

interface InjectCliOptions {
  port: string;
  tlsCert?: string;
  tlsKey?: string;
  image?: string;
  runtimeClasses?: string;
  confidentialClasses?: string;
  namespaces?: string;
  collectorPort?: string;
  yaml?: string;
  inPlace?: boolean;
}

const MAX_REVIEW_BYTES = 3 * 1024 * 1024;

const list = (v: string): string[] => v.split(',').map((s) => s.trim()).filter((s) => s !== '');

function policyFromOptions(o: Pick<InjectCliOptions, 'image' | 'runtimeClasses' | 'confidentialClasses' | 'namespaces' | 'collectorPort'>): GuestInjectionPolicy {
  const p: GuestInjectionPolicy = { ...DEFAULT_GUEST_INJECTION };
  if (o.image !== undefined) p.image = o.image;
  if (o.runtimeClasses !== undefined) p.runtimeClasses = list(o.runtimeClasses);
  if (o.confidentialClasses !== undefined) p.confidentialClasses = list(o.confidentialClasses);
  // `--namespaces ''` (or `*`): every namespace
  if (o.namespaces !== undefined) p.namespaces = o.namespaces === '*' ? [] : list(o.namespaces);
  if (o.collectorPort !== undefined) {
    const n = Number(o.collectorPort);
    if (!Number.isInteger(n) || n <= 0 || n > 65535) throw new TraceUsageError(`--collector-port wants a TCP port, got ${JSON.stringify(o.collectorPort)}`);
    p.collectorPort = n;
  }
  return p;
}

/** Multi-document workload YAML with the tracer added to every Kata pod template; the decisions, one per document. */
function injectYaml(text: string, policy: GuestInjectionPolicy): { yaml: string; decisions: string[] } {
  const docs = parseAllDocuments(text);
  const out: string[] = [];
  const decisions: string[] = [];
  for (const [i, d] of docs.entries()) {
    if (d.errors.length > 0) throw new TraceUsageError(`document ${i + 1}: not YAML: ${d.errors[0]!.message.split('\n')[0]}`);
    const value: unknown = d.toJS();
    if (value === null || value === undefined) continue;
    const decision = injectIntoWorkload(value, policy);
    const name = (value as { kind?: string; metadata?: { name?: string } });
    decisions.push(`${name.kind ?? '?'} ${name.metadata?.name ?? '?'}: ${decision.action === 'skip' ? `unchanged (${decision.why})` : decision.action === 'annotate' ? `not traced (${decision.reason})` : 'tracer added'}`);
    // untouched documents are kept as written (comments and all)
    out.push(decision.action === 'skip' ? String(d).replace(/\n$/, '') : stringify(value).replace(/\n$/, ''));
  }
  return { yaml: `${out.join('\n---\n')}\n`, decisions };
}

/** The webhook's request handler: POST /mutate with an AdmissionReview, GET /healthz. */
function webhookHandler(policy: GuestInjectionPolicy, log: (line: string) => void): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (req.method === 'GET' && (req.url === '/healthz' || req.url === '/readyz')) {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    if (req.method !== 'POST' || !req.url?.startsWith('/mutate')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_REVIEW_BYTES) chunks.push(c);
    });
    req.on('end', () => {
      if (size > MAX_REVIEW_BYTES) {
        res.writeHead(413, { 'content-type': 'text/plain' }).end('AdmissionReview too large\n');
        return;
      }
      let review: AdmissionReview;
      try {
        review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as AdmissionReview;
        if (typeof review !== 'object' || review === null) throw new Error('not an object');
      } catch (err) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(`not an AdmissionReview: ${(err as Error).message}\n`);
        return;
      }
      const { review: answer, decision } = reviewResponse(review, policy);
      const obj = review.request?.object as { metadata?: { name?: string; generateName?: string } } | undefined;
      const who = `${review.request?.namespace ?? '?'}/${obj?.metadata?.name ?? `${obj?.metadata?.generateName ?? '?'}*`}`;
      log(`${who}: ${decision.action === 'inject' ? `tracer added (${decision.runtimeClass})` : decision.action === 'annotate' ? `not traced (${decision.reason})` : `unchanged (${decision.why})`}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
  };
}

export function startWebhook(o: { port: number; cert: Buffer; key: Buffer; policy: GuestInjectionPolicy; log: (line: string) => void; host?: string }): Promise<Server> {
  const server = createServer({ cert: o.cert, key: o.key }, webhookHandler(o.policy, o.log));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host ?? '0.0.0.0', () => resolve(server));
  });
}

export function registerInject(program: Command): void {
  program
    .command('inject')
    .description('mutating admission webhook adding the guest tracer to Kata pods; --yaml: the same to workload YAML (genpolicy)')
    .option('--port <port>', 'HTTPS port', '8443')
    .option('--tls-cert <file>', 'server certificate (PEM)')
    .option('--tls-key <file>', 'its key (PEM)')
    .option('--image <image>', 'the tracer image', DEFAULT_GUEST_INJECTION.image)
    .option('--runtime-classes <list>', 'Kata runtime classes to trace (comma-separated)')
    .option('--confidential-classes <list>', 'Kata runtime classes of confidential guests, never traced')
    .option('--namespaces <list>', `namespaces to trace; * for all (default: ${DEFAULT_GUEST_INJECTION.namespaces.join(',')})`)
    .option('--collector-port <port>', 'the node collector\'s port', String(DEFAULT_GUEST_INJECTION.collectorPort))
    .option('--yaml <file>', 'add the tracer to workload YAML (- for stdin) and print it, instead of serving')
    .option('--in-place', 'with --yaml FILE: rewrite the file')
    .action(async (o: InjectCliOptions) => {
      const log = (line: string): void => { process.stderr.write(`katabot inject: ${line}\n`); };
      try {
        const policy = policyFromOptions(o);
        if (o.yaml !== undefined) {
          let text: string;
          try {
            text = readFileSync(o.yaml === '-' ? 0 : o.yaml, 'utf8');
          } catch (err) {
            throw new TraceUsageError(`${o.yaml}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
          }
          let r: ReturnType<typeof injectYaml>;
          try {
            r = injectYaml(text, policy);
          } catch (err) {
            if (err instanceof TraceUsageError) throw new TraceUsageError(`${o.yaml}: ${err.message}`);
            throw err;
          }
          for (const d of r.decisions) log(`${o.yaml}: ${d}`);
          if (o.inPlace && o.yaml !== '-') writeFileSync(o.yaml, r.yaml);
          else process.stdout.write(r.yaml);
          return;
        }
        if (!o.tlsCert || !o.tlsKey) throw new TraceUsageError('the webhook needs --tls-cert and --tls-key (the API server only calls webhooks over HTTPS)');
        const p = Number(o.port);
        if (!Number.isInteger(p) || p <= 0 || p > 65535) throw new TraceUsageError(`--port wants a TCP port, got ${JSON.stringify(o.port)}`);
        const server = await startWebhook({ port: p, cert: readFileSync(o.tlsCert), key: readFileSync(o.tlsKey), policy, log });
        log(`serving AdmissionReview on https://0.0.0.0:${p}/mutate (classes ${policy.runtimeClasses.join(',')}; namespaces ${policy.namespaces.join(',') || 'all'})`);
        await new Promise<void>((resolve) => {
          const stop = (): void => { server.close(() => resolve()); };
          process.once('SIGTERM', stop);
          process.once('SIGINT', stop);
        });
      } catch (err) {
        if (!(err instanceof TraceUsageError)) throw err;
        process.stderr.write(`katabot inject: ${err.message}\n`);
        process.exitCode = err.exitCode;
      }
    });
}
