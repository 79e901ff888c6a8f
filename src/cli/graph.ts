// `katabot graph RUN [--base RUN…]`: the service graph of a job's cluster — workloads and what they connected to,
// with protocol, port and count — as JSON, Graphviz DOT, mermaid or a self-contained interactive page. With
// `--base`, edges the run added or removed are marked; `--group-by LABEL` boxes workloads by a pod label.
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { loadProfile } from '../behavior/read.ts';
import { graphViewerScript } from '../render/graph-viewer.ts';
import { serviceGraphDot, serviceGraphMermaid, serviceGraphPage } from '../render/service-graph.ts';
import { layoutServiceGraph } from '../render/service-graph-layout.ts';
import { serviceGraph, serviceGraphJson } from '../trace/service-graph.ts';
import { CliInputError, collect, ignoreRules, reportCliError } from './diff.ts';

const FORMATS = ['json', 'dot', 'mermaid', 'html'] as const;

interface GraphCliOptions {
  format: string;
  base?: string[];
  groupBy?: string;
  out?: string;
  maxEdges?: string;
}

async function run(target: string, o: GraphCliOptions): Promise<void> {
  if (!(FORMATS as readonly string[]).includes(o.format)) throw new CliInputError(`--format wants ${FORMATS.join(', ')}, got ${JSON.stringify(o.format)}`);
  const maxEdges = o.maxEdges === undefined ? undefined : Number(o.maxEdges);
  if (maxEdges !== undefined && (!Number.isInteger(maxEdges) || maxEdges < 1)) throw new CliInputError(`--max-edges wants a positive integer, got ${JSON.stringify(o.maxEdges)}`);
  const ignore = await ignoreRules(undefined, true);
  const head = await loadProfile(target, { ignore });
  const bases = [];
  for (const b of o.base ?? []) bases.push(await loadProfile(b, { ignore }));
  const g = serviceGraph(head, bases, o.groupBy ? { groupBy: o.groupBy } : {});
  const text = o.format === 'json' ? serviceGraphJson(g)
    : o.format === 'dot' ? serviceGraphDot(g)
    : o.format === 'mermaid' ? `${serviceGraphMermaid(g, maxEdges ? { maxEdges } : { maxEdges: Number.MAX_SAFE_INTEGER }) ?? 'flowchart LR'}\n`
    : serviceGraphPage(g, layoutServiceGraph(g), `Service graph · ${target}`, graphViewerScript());
  if (o.out) await writeFile(o.out, text);
  else process.stdout.write(text);
}

export function registerGraph(program: Command): void {
  program
    .command('graph')
    .description('service graph of a run: workloads as nodes, observed connections as edges (port, count), DNS names as labels')
    .argument('<run>', 'a trace (JSONL), a saved profile, or a directory of artifacts')
    .option('--format <format>', `${FORMATS.join(', ')}`, 'json')
    .option('--base <run>', 'a base run (repeatable): edges added or removed by the run are coloured', collect)
    .option('--group-by <label>', 'group workloads by this pod label, e.g. app.kubernetes.io/part-of')
    .option('--max-edges <n>', 'mermaid: draw at most this many edges (changed and busiest first)')
    .option('--out <file>', 'write here instead of stdout')
    .addHelpText('after', '\nExamples:\n  katabot graph trace.jsonl --format dot | dot -Tsvg > graph.svg\n  katabot graph pr.jsonl --base main.jsonl --group-by app.kubernetes.io/part-of --format html --out graph.html\n')
    .action(async (target: string, options: GraphCliOptions) => {
      try {
        await run(target, options);
      } catch (err) {
        reportCliError('graph', err);
      }
    });
}
