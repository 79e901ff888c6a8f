// Running a commander program as `katabot` does: its exit code, and a user's mistake as one line, no stack trace.
import { CommanderError, type Command } from 'commander';

export async function runProgram(program: Command, argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    // User mistakes (bad config, bad flags) arrive as one-line errors: print them without a stack trace.
    process.stderr.write(`katabot: ${(err as Error).message}\n`);
    return 1;
  }
}
