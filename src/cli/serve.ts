// `katabot serve`: run the webhook server and worker until SIGINT/SIGTERM.
import type { Command } from 'commander';
import { runtimeOptions } from '../config/env.ts';
import { startKatabot } from '../server/app.ts';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve GitHub webhooks (and Prow hook forwards), create ProwJobs and report back')
    .option('-p, --port <port>', 'listen port (default: $PORT or 3000)')
    .option('--host <host>', 'listen address (default: $HOST or 0.0.0.0)')
    .action(async (flags: { port?: string; host?: string }) => {
      const env = { ...process.env };
      if (flags.port) env.PORT = flags.port;
      if (flags.host) env.HOST = flags.host;
      const bot = await startKatabot(runtimeOptions(env));
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          bot.deps.log.info({ signal }, 'shutting down');
          void bot.close().finally(resolve);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
