// `katabot <verb>`: the command-line entry point.
import { Command } from 'commander';
import { registerApis } from './apis.ts';
import { registerBackfill } from './backfill.ts';
import { registerBpf } from './bpf.ts';
import { registerCollect } from './collect.ts';
import { registerDiff } from './diff.ts';
import { registerImport } from './import.ts';
import { registerGraph } from './graph.ts';
import { registerPolicy } from './policy.ts';
import { registerGuest } from './guest.ts';
import { registerInject } from './inject.ts';
import { registerProfile } from './profile.ts';
import { runProgram } from './run.ts';
import { registerServe } from './serve.ts';
import { registerTrace } from './trace.ts';

export async function main(argv: string[]): Promise<number> {
  const program = new Command('katabot')
    .description('Prow external plugin and GitHub App for Kata Containers CI')
    .version(process.env.npm_package_version ?? '0.1.0')
    .exitOverride()
    .showHelpAfterError();
  registerServe(program);
  registerTrace(program);
  registerDiff(program);
  registerProfile(program);
  registerImport(program);
  registerPolicy(program);
  registerGraph(program);
  registerApis(program);
  registerBpf(program);
  registerBackfill(program);
  registerGuest(program);
  registerCollect(program);
  registerInject(program);
  return runProgram(program, argv);
}
