// `katabot apis AUDIT_LOG --openapi SPEC`: Kubernetes API usage from an apiserver audit log, mapped to OpenAPI
// operations as APISnoop does. csv: APISnoop's endpoint_coverage (every endpoint with its hits); json: usage by
// level, endpoints hit, categories and stable coverage; jsonl: one line per audit event.
import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { loadOpenApi } from '../behavior/openapi.ts';
import { BehaviorInputError, findInputs, forEachAuditEvent } from '../behavior/read.ts';
import { ApiUsageBuilder, auditEventRow } from '../trace/audit.ts';
import { CliInputError, reportCliError } from './diff.ts';

interface ApisCliOptions {
  openapi?: string;
  format: string;
}

async function auditFiles(path: string): Promise<string[]> {
  let st;
  try {
    st = await stat(path);
  } catch {
    throw new BehaviorInputError(`${path}: no such file or directory`);
  }
  if (!st.isDirectory()) return [path];
  const files = (await findInputs(path)).filter((i) => i.kind === 'audit').map((i) => i.path);
  if (files.length === 0) throw new BehaviorInputError(`${path}: no audit log (audit.k8s.io/v1 Event JSONL) in this directory`);
  return files;
}

export function registerApis(program: Command): void {
  program
    .command('apis')
    .description('Kubernetes API usage from an apiserver audit log, by OpenAPI operation (APISnoop-style)')
    .argument('<audit-log>', 'audit.k8s.io/v1 Event JSONL (gzip ok), or a directory of them')
    .option('--openapi <spec>', 'the cluster\'s OpenAPI v2 spec: a file (.json, .json.gz), a URL, or "cluster"')
    .option('--format <format>', 'csv, json or jsonl', 'json')
    .addHelpText('after', '\nExample:\n  katabot apis artifacts/audit/audit.log --openapi swagger.json.gz --format csv > coverage.csv\n')
    .action(async (log: string, o: ApisCliOptions) => {
      try {
        if (!['csv', 'json', 'jsonl'].includes(o.format)) throw new CliInputError(`--format wants csv, json or jsonl, got ${JSON.stringify(o.format)}`);
        if (!o.openapi) throw new CliInputError('--openapi SPEC is required (a file, a URL, or "cluster")');
        const index = await loadOpenApi(o.openapi);
        const files = await auditFiles(log);
        if (o.format === 'jsonl') {
          let buf = '';
          for (const f of files) {
            await forEachAuditEvent(f, (ev) => {
              buf += JSON.stringify(auditEventRow(ev, index)) + '\n';
              if (buf.length > 1 << 16) { process.stdout.write(buf); buf = ''; }
            });
          }
          process.stdout.write(buf);
          return;
        }
        const usage = new ApiUsageBuilder(index);
        for (const f of files) await forEachAuditEvent(f, (ev) => usage.add(ev));
        process.stdout.write(o.format === 'csv' ? usage.coverageCsv() : JSON.stringify(usage.build(), null, 2) + '\n');
      } catch (err) {
        reportCliError('apis', err);
      }
    });
}
