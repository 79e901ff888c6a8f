// `katabot import --from tetragon|inspektor-gadget|kubearmor FILE [--out F] [--strict]`: another tracer's output
// as a katabot trace (docs/trace-format.md "Importers"), for `katabot profile` and `katabot diff`.
import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { serializeTrace, TraceParseError, type Trace } from '../trace/format.ts';
import type { ImportOptions } from '../trace/importers/common.ts';
import { importInspektorGadget } from '../trace/importers/inspektor-gadget.ts';
import { importKubeArmor } from '../trace/importers/kubearmor.ts';
import { importTetragon } from '../trace/importers/tetragon.ts';
import { CliInputError, reportCliError } from './diff.ts';

const IMPORTERS: Readonly<Record<string, (text: string, opts: ImportOptions) => Trace>> = {
  tetragon: importTetragon,
  'inspektor-gadget': importInspektorGadget,
  kubearmor: importKubeArmor,
};

interface ImportCliOptions {
  from: string;
  out?: string;
  strict?: boolean;
}

export function registerImport(program: Command): void {
  program
    .command('import')
    .description('convert another tracer\'s output into a katabot trace (JSONL on stdout, or --out)')
    .argument('<file>', 'Tetragon JSON export, Inspektor Gadget trace exec/open/tcp JSON, or karmor logs --json / summary -o json')
    .requiredOption('--from <tool>', `the tracer that wrote FILE: ${Object.keys(IMPORTERS).join(', ')}`)
    .option('--out <file>', 'write the trace here instead of stdout')
    .option('--strict', 'fail on the first malformed line instead of skipping and counting it')
    .action(async (file: string, o: ImportCliOptions) => {
      try {
        const importer = IMPORTERS[o.from];
        if (!importer) throw new CliInputError(`--from wants ${Object.keys(IMPORTERS).join(', ')}, got ${JSON.stringify(o.from)}`);
        let text: string;
        try {
          text = await readFile(file, 'utf8');
        } catch {
          throw new CliInputError(`${file}: cannot read it`);
        }
        let trace: Trace;
        try {
          trace = importer(text, { katabot: process.env.npm_package_version ?? '0.1.0', strict: o.strict === true });
        } catch (err) {
          if (err instanceof TraceParseError) throw new CliInputError(`${file}: ${err.message}`);
          throw err;
        }
        const out = serializeTrace(trace);
        if (o.out) await writeFile(o.out, out);
        else process.stdout.write(out);
        const counts = Object.entries(trace.footer.counts).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`).join(', ');
        const skipped = trace.footer.malformed > 0 ? `; ${trace.footer.malformed} malformed line${trace.footer.malformed === 1 ? '' : 's'} skipped (--strict to fail on them)` : '';
        process.stderr.write(`katabot import: ${trace.events.length} events from ${o.from}${counts ? ` (${counts})` : ''}${skipped}\n`);
      } catch (err) {
        reportCliError('import', err, 1);
      }
    });
}
