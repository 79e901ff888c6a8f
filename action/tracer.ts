// The tracer the katabot action runs as root on the runner: `katabot trace` alone, bundled with its dependencies
// into action/dist/tracer.js (action/build.ts), so the runner needs no npm install.
import { Command } from 'commander';
import { registerTrace } from '../src/cli/trace.ts';

const program = new Command('katabot');
registerTrace(program);
await program.parseAsync(process.argv);
