// Entry point of `katabot guest` alone (bin/katabot.js picks it): the tracer inside a Kata guest loads only its
// own modules, not the bot's, because its start-up time and memory are the guest's.
import { Command, CommanderError } from 'commander';
import { registerGuest } from './guest.ts';

export async function main(argv: string[]): Promise<number> {
  const program = new Command('katabot').exitOverride().showHelpAfterError();
  registerGuest(program);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    process.stderr.write(`katabot: ${(err as Error).message}\n`);
    return 1;
  }
}
