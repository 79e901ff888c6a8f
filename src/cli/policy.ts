// `katabot policy RUN --format networkpolicy|cilium|kubearmor|seccomp [--base RUN…]`: least-privilege policies for
// the workloads of a run (a trace, a saved profile or a directory of artifacts), learned from what they did.
// `--base` runs widen them, so the policies hold for every run given. See docs/policy.md.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadProfile } from '../behavior/read.ts';
import { collapseProfiles } from '../trace/profile.ts';
import { ciliumPolicies } from '../trace/policy/cilium.ts';
import { kubeArmorPolicies } from '../trace/policy/kubearmor.ts';
import { learnPolicies, type PolicySet } from '../trace/policy/model.ts';
import { networkPolicies } from '../trace/policy/networkpolicy.ts';
import { renderSeccomp, seccompProfiles } from '../trace/policy/seccomp.ts';
import { renderYaml, renderYamlStream, type PolicyDoc } from '../trace/policy/yaml.ts';
import { CliInputError, collect, ignoreRules, reportCliError } from './diff.ts';

const POLICY_FORMATS = ['networkpolicy', 'cilium', 'kubearmor', 'seccomp'] as const;
type PolicyFormat = (typeof POLICY_FORMATS)[number];

interface PolicyCliOptions {
  format: string;
  base?: string[];
  out?: string;
  workload?: string[];
  namespace?: string;
  name?: string;
  ignore?: string;
  defaultIgnores: boolean;
  threshold?: string;
}

/** The YAML documents of a format (seccomp is JSON, one file per workload). */
function policyDocs(format: Exclude<PolicyFormat, 'seccomp'>, set: PolicySet): PolicyDoc[] {
  switch (format) {
    case 'networkpolicy': return networkPolicies(set);
    case 'cilium': return ciliumPolicies(set);
    case 'kubearmor': return kubeArmorPolicies(set);
  }
}

function fileName(d: PolicyDoc): string {
  return `${d.kind.toLowerCase()}-${d.namespace ?? 'default'}-${d.name}.yaml`;
}

async function run(target: string, o: PolicyCliOptions): Promise<void> {
  if (!(POLICY_FORMATS as readonly string[]).includes(o.format)) throw new CliInputError(`--format wants ${POLICY_FORMATS.join(', ')}, got ${JSON.stringify(o.format)}`);
  const format = o.format as PolicyFormat;
  const threshold = o.threshold === undefined ? undefined : Number(o.threshold);
  if (threshold !== undefined && (!Number.isInteger(threshold) || threshold < 1)) throw new CliInputError(`--threshold wants a positive integer, got ${JSON.stringify(o.threshold)}`);
  const ignore = await ignoreRules(o.ignore, o.defaultIgnores);
  const inputs = [target, ...(o.base ?? [])];
  const profiles = [];
  for (const p of inputs) profiles.push(await loadProfile(p, { ignore }));
  // wide directories collapse as the diff collapses them, decided over every run given
  const collapsed = collapseProfiles(profiles, threshold !== undefined ? { threshold } : {});
  let set = learnPolicies(collapsed, {
    runs: inputs.map((p, i) => `${i === 0 ? 'run' : 'base run'} ${p}`),
    ...(o.namespace !== undefined ? { namespace: o.namespace } : {}),
    ...(o.name !== undefined ? { name: o.name } : {}),
  });
  if (o.workload?.length) {
    const unknown = o.workload.filter((w) => !set.workloads.some((x) => x.id === w));
    if (unknown.length > 0) throw new CliInputError(`--workload ${unknown.join(', ')}: not in the run (workloads: ${set.workloads.map((w) => w.id).join(', ') || 'none'})`);
    set = { ...set, workloads: set.workloads.filter((w) => o.workload!.includes(w.id)) };
  }
  if (o.out) await mkdir(o.out, { recursive: true });

  if (format === 'seccomp') {
    const { docs, missing } = seccompProfiles(set);
    for (const w of missing) process.stderr.write(`katabot policy: ${w}: no system calls in the run (trace with a syscall probe: --probe syscount)\n`);
    if (docs.length === 0) throw new CliInputError(`no workload has syscall data: trace with --probe exec,files,tcp,dns,syscount (docs/policy.md)`);
    for (const d of docs) if (d.unknown.length > 0) process.stderr.write(`katabot policy: ${d.workload}: syscall numbers ${d.unknown.join(', ')} are not in the x86_64 table and were left out\n`);
    if (o.out) {
      for (const d of docs) await writeFile(join(o.out, d.file), renderSeccomp(d));
      process.stderr.write(`katabot policy: ${docs.length} seccomp profile${docs.length === 1 ? '' : 's'} in ${o.out}\n`);
      return;
    }
    if (docs.length > 1) throw new CliInputError(`${docs.length} workloads have syscall data (${docs.map((d) => d.workload).join(', ')}): give --out DIR, or --workload`);
    process.stdout.write(renderSeccomp(docs[0]!));
    return;
  }
  const docs = policyDocs(format, set);
  if (o.out) {
    for (const d of docs) await writeFile(join(o.out, fileName(d)), renderYaml(d));
    process.stderr.write(`katabot policy: ${docs.length} ${format} document${docs.length === 1 ? '' : 's'} in ${o.out}\n`);
    return;
  }
  process.stdout.write(renderYamlStream(docs));
}

export function registerPolicy(program: Command): void {
  program
    .command('policy')
    .description('least-privilege policies learned from what a run did: NetworkPolicy, CiliumNetworkPolicy, KubeArmorPolicy, seccomp')
    .argument('<run>', 'a trace (JSONL), a saved profile, or a directory of artifacts')
    .requiredOption('--format <format>', `one of ${POLICY_FORMATS.join(', ')}`)
    .option('--base <run>', 'another run the policies must also allow (repeatable), e.g. the base branch\'s', collect)
    .option('--out <dir>', 'write one file per policy into this directory instead of stdout')
    .option('--workload <ns/name>', 'only this workload (repeatable)', collect)
    .option('--namespace <ns>', 'namespace of a command-mode trace\'s workload (default: default)')
    .option('--name <name>', 'name of a command-mode trace\'s workload (default: job)')
    .option('--ignore <file>', 'ignore globs (see katabot diff --help)')
    .option('--no-default-ignores', 'keep the noise every run has')
    .option('--threshold <n>', 'collapse directories with more children than this to one rule (default 20)')
    .addHelpText('after', '\nExamples:\n  katabot policy trace.jsonl --format networkpolicy\n  katabot policy pr.jsonl --base main-1.jsonl --base main-2.jsonl --format cilium --out policies/\n  katabot policy trace.jsonl --format seccomp --workload shop/db > shop-db.json\n')
    .action(async (target: string, options: PolicyCliOptions) => {
      try {
        await run(target, options);
      } catch (err) {
        reportCliError('policy', err);
      }
    });
}
