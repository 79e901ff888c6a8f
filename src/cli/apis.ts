// `katabot apis AUDIT_LOG`: Kubernetes API usage from an apiserver audit log, mapped to OpenAPI operations as
// APISnoop does, attributed to e2e and conformance tests. json: usage by level, conformance-eligible coverage,
// endpoints hit, categories; jsonl: one line per audit event; --export NAME: APISnoop's CSV exports
// (src/trace/apisnoop-exports.ts; --format csv is endpoint-coverage). Malformed lines are skipped and counted
// (stderr, and `skipped` in json) unless --strict.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { ineligibleEndpoints } from '../behavior/conformance-data.ts';
import { loadOpenApi, openApiFromBuffer, specArtifact } from '../behavior/openapi-load.ts';
import { BehaviorInputError, findInputs, forEachAuditEvent } from '../behavior/read.ts';
import { ApiUsageBuilder, usageReport } from '../trace/api-usage.ts';
import { EXPORT_NAMES, exportCsv, isExportName } from '../trace/apisnoop-exports.ts';
import { AuditDeduper, SkipCounter, skipsText } from '../trace/audit-parse.ts';
import { auditEventRow } from '../trace/audit.ts';
import type { OpenApiIndex } from '../trace/openapi-index.ts';
import { CliInputError, reportCliError } from './diff.ts';

interface ApisCliOptions {
  openapi?: string;
  format: string;
  export?: string;
  app?: string;
  strict?: boolean;
  ineligible?: string;
}

interface Inputs {
  audits: string[];
  /** A spec captured beside the logs (a directory of artifacts), used when --openapi is not given. */
  spec?: string;
}

async function inputs(path: string): Promise<Inputs> {
  let st;
  try {
    st = await stat(path);
  } catch {
    throw new BehaviorInputError(`${path}: no such file or directory`);
  }
  if (!st.isDirectory()) return { audits: [path] };
  const found = await findInputs(path);
  const audits = found.filter((i) => i.kind === 'audit').map((i) => i.path);
  if (audits.length === 0) throw new BehaviorInputError(`${path}: no audit log (audit.k8s.io/v1 Event JSONL) in this directory`);
  const files = (await readdir(path, { recursive: true })).map((f) => join(path, f));
  const spec = specArtifact(files);
  return spec ? { audits, spec } : { audits };
}

async function specOf(o: ApisCliOptions, found: Inputs): Promise<OpenApiIndex> {
  if (o.openapi) return loadOpenApi(o.openapi);
  if (found.spec) return openApiFromBuffer(await readFile(found.spec), found.spec);
  throw new CliInputError('--openapi SPEC is required (a file, a URL, or "cluster"), unless the directory holds the job\'s openapi-v2.json');
}

export function registerApis(program: Command): void {
  program
    .command('apis')
    .description('Kubernetes API usage from an apiserver audit log, by OpenAPI operation and conformance test (APISnoop-style)')
    .argument('<audit-log>', 'audit.k8s.io/v1 Event JSONL (gzip ok), or a directory of artifacts holding them')
    .option('--openapi <spec>', 'the cluster\'s OpenAPI v2 spec: a file (.json, .json.gz), a URL, or "cluster" (default: the openapi-v2.json beside the logs)')
    .option('--format <format>', 'json, jsonl (one line per event) or csv (= --export endpoint-coverage)', 'json')
    .option('--export <name>', `one of APISnoop's CSV exports: ${EXPORT_NAMES.join(', ')}`)
    .option('--app <app>', 'exports: only this app (a user agent program such as kubectl or e2e.test)')
    .option('--strict', 'a malformed audit event is an error (default: skipped and counted)')
    .option('--ineligible <file>', 'Kubernetes\' ineligible_endpoints.yaml (default: the copy shipped in data/kubernetes)')
    .addHelpText('after', '\nExamples:\n  katabot apis artifacts/katabot/                 # the job\'s audit log and spec\n'
      + '  katabot apis audit.log --openapi swagger.json.gz --export coverage-spreadsheet > coverage.csv\n')
    .action(async (log: string, o: ApisCliOptions) => {
      try {
        if (!['csv', 'json', 'jsonl'].includes(o.format)) throw new CliInputError(`--format wants csv, json or jsonl, got ${JSON.stringify(o.format)}`);
        const exportName = o.export ?? (o.format === 'csv' ? 'endpoint-coverage' : undefined);
        if (exportName !== undefined && !isExportName(exportName)) throw new CliInputError(`--export wants one of ${EXPORT_NAMES.join(', ')}, got ${JSON.stringify(exportName)}`);
        const found = await inputs(log);
        const index = await specOf(o, found);
        const ineligible = await ineligibleEndpoints(o.ineligible);
        const skips = new SkipCounter();
        const read = { skips, dedupe: new AuditDeduper(), ...(o.strict ? { strict: true } : {}) };
        if (o.format === 'jsonl' && exportName === undefined) {
          let buf = '';
          for (const f of found.audits) {
            await forEachAuditEvent(f, (ev) => {
              buf += JSON.stringify(auditEventRow(ev, index)) + '\n';
              if (buf.length > 1 << 16) { process.stdout.write(buf); buf = ''; }
            }, read);
          }
          process.stdout.write(buf);
        } else {
          const usage = new ApiUsageBuilder(index, read.dedupe);
          for (const f of found.audits) await forEachAuditEvent(f, (ev) => usage.add(ev), read);
          usage.addSkips(skips.summary());
          const rec = usage.record();
          process.stdout.write(exportName !== undefined
            ? exportCsv(exportName, { usage: rec, operations: index.operations, ineligible, ...(o.app ? { app: o.app } : {}) })
            : JSON.stringify(usageReport(rec, index.operations, ineligible), null, 2) + '\n');
        }
        if (skips.total > 0) process.stderr.write(`katabot apis: ${skipsText(skips.summary())}\n`);
      } catch (err) {
        reportCliError('apis', err);
      }
    });
}
