// The files a long-running tracer tells its world with (a sidecar's startup probe, Prow's entrypoint, the action):
// `<file>` once the probes are attached, `<file>.failed` with the reason when tracing cannot start.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export function markReady(file: string | undefined): void {
  if (!file) return;
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${new Date().toISOString()}\n`);
  } catch {
    // the trace goes on; whoever waits for the file gives up at its own time bound
  }
}

export function markFailed(file: string | undefined, reason: string): void {
  if (!file) return;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.failed`, `${reason}\n`);
}
