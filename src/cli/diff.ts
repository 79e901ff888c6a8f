// `katabot diff BASE HEAD`: the behavior diff of two runs (trace files, saved profiles, or artifact directories
// holding traces and apiserver audit logs). `--baseline B2 …` adds base runs: items that vary between base runs
// are reported as flaky, not as changes.
import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { loadOpenApi } from '../behavior/openapi-load.ts';
import { BehaviorInputError, loadProfile } from '../behavior/read.ts';
import { renderBehaviorComment } from '../render/behavior.ts';
import { renderBehaviorHtml } from '../render/behavior-html.ts';
import { diffProfiles, diffToJson, hasChanges } from '../trace/diff.ts';
import type { OpenApiIndex } from '../trace/openapi-index.ts';
import { defaultIgnores, parseIgnoreFile, type IgnoreRules } from '../trace/profile-rules.ts';

/** diff(1)'s convention: 1 = differences (with --exit-code), 2 = trouble. */
const DIFF_TROUBLE = 2;

interface DiffCliOptions {
  format: string;
  ignore?: string;
  defaultIgnores: boolean;
  baseline?: string[];
  openapi?: string;
  out?: string;
  job?: string;
  threshold?: string;
  showDiscovery?: boolean;
  exitCode?: boolean;
  strict?: boolean;
}

export class CliInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliInputError';
  }
}

/** Ignore rules from --ignore FILE (plus the defaults unless --no-default-ignores). */
export async function ignoreRules(file: string | undefined, defaults: boolean): Promise<IgnoreRules> {
  if (!file) return defaults ? defaultIgnores() : parseIgnoreFile('', false);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new CliInputError(`--ignore ${file}: no such file`);
  }
  try {
    return parseIgnoreFile(text, defaults);
  } catch (err) {
    throw new CliInputError(`--ignore ${file}: ${(err as Error).message}`);
  }
}

export async function openApiOption(spec: string | undefined): Promise<OpenApiIndex | undefined> {
  return spec ? loadOpenApi(spec) : undefined;
}

async function run(base: string, head: string, o: DiffCliOptions): Promise<number> {
  const format = o.format;
  if (!['json', 'md', 'html'].includes(format)) throw new CliInputError(`--format wants json, md or html, got ${JSON.stringify(format)}`);
  const threshold = o.threshold === undefined ? undefined : Number(o.threshold);
  if (threshold !== undefined && (!Number.isInteger(threshold) || threshold < 1)) throw new CliInputError(`--threshold wants a positive integer, got ${JSON.stringify(o.threshold)}`);
  const ignore = await ignoreRules(o.ignore, o.defaultIgnores);
  const openapi = await openApiOption(o.openapi);
  const load = (p: string) => loadProfile(p, { ignore, ...(openapi ? { openapi } : {}), ...(o.strict ? { strict: true } : {}) });
  const bases = [await load(base)];
  for (const b of o.baseline ?? []) bases.push(await load(b));
  const headProfile = await load(head);
  const d = diffProfiles(bases, headProfile, { ignore, ...(threshold !== undefined ? { threshold } : {}) });
  const ctx = { job: o.job ?? 'local', baseRef: base, ...(o.showDiscovery ? { showDiscovery: true } : {}) };
  const text = format === 'json' ? JSON.stringify(diffToJson(d), null, 2) + '\n'
    : format === 'md' ? renderBehaviorComment(d, { ...ctx, limit: Number.MAX_SAFE_INTEGER }) + '\n'
    : renderBehaviorHtml(d, ctx);
  if (o.out) await writeFile(o.out, text);
  else process.stdout.write(text);
  return o.exitCode && hasChanges(d) ? 1 : 0;
}

/** Prints user mistakes as one line and sets the exit code; anything else is a bug and propagates. */
export function reportCliError(verb: string, err: unknown, code = DIFF_TROUBLE): void {
  if (err instanceof BehaviorInputError || err instanceof CliInputError) {
    process.stderr.write(`katabot ${verb}: ${err.message}\n`);
    process.exitCode = code;
    return;
  }
  throw err;
}

/** commander's reducer for a repeatable option. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function registerDiff(program: Command): void {
  program
    .command('diff')
    .description('behavior diff of two runs: processes, files, network and Kubernetes API calls added, removed or flaky')
    .argument('<base>', 'base run: a trace (JSONL), a saved profile, or a directory of artifacts')
    .argument('<head>', 'head run, the same kinds')
    .option('--format <format>', 'json, md (the PR comment) or html (the full report)', 'md')
    .option('--ignore <file>', 'ignore globs, one a line: /path/glob, or "files|processes|network|k8sApi|custom: key glob"')
    .option('--no-default-ignores', 'do not ignore the noise every run has (locale, ld.so cache, /proc/self, …)')
    .option('--baseline <trace>', 'another base run (repeatable): items varying between base runs are flaky', collect)
    .option('--openapi <spec>', 'OpenAPI v2 spec to map audit logs to operations: a file (.json, .json.gz), a URL, or "cluster"')
    .option('--out <file>', 'write here instead of stdout')
    .option('--job <name>', 'job name for the heading', undefined)
    .option('--threshold <n>', 'collapse directories with more children than this to dir/** (default 20)')
    .option('--show-discovery', 'list API discovery requests in md output')
    .option('--exit-code', 'exit 1 when something was added or removed (as git diff --exit-code)')
    .option('--strict', 'a malformed audit log line is an error (default: skipped and counted)')
    .addHelpText('after', '\nExamples:\n  katabot diff base.jsonl head.jsonl --format json\n  katabot diff main-1.jsonl pr.jsonl --baseline main-2.jsonl --format html --out report.html\n')
    .action(async (base: string, head: string, options: DiffCliOptions) => {
      try {
        process.exitCode = await run(base, head, options);
      } catch (err) {
        reportCliError('diff', err);
      }
    });
}
