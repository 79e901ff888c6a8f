// Entry point of `katabot guest` alone (bin/katabot.js picks it): the tracer inside a Kata guest loads only its
// own modules, not the bot's, because its start-up time and memory are the guest's.
import { Command } from 'commander';
import { registerGuest } from './guest.ts';
import { runProgram } from './run.ts';

export async function main(argv: string[]): Promise<number> {
  const program = new Command('katabot').exitOverride().showHelpAfterError();
  registerGuest(program);
  return runProgram(program, argv);
}
