// When a long-running trace (pod mode, host mode) ends: SIGINT or SIGTERM, an abort signal, a deadline, marker
// files that all exist (Prow's entrypoint markers, the action's stop file), or a custom package ending by itself.
import { existsSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import type { TraceSession } from './session.ts';

export interface StopConditions {
  /** Stop once all of these files exist. */
  untilFiles?: readonly string[] | undefined;
  durationMs?: number | undefined;
  signal?: AbortSignal | undefined;
  log?: ((line: string) => void) | undefined;
}

/** Resolves when one of the stop conditions holds. */
export async function waitForStop(session: TraceSession, o: StopConditions): Promise<void> {
  const deadline = o.durationMs !== undefined ? Date.now() + o.durationMs : Infinity;
  let stopRequested = false;
  const requestStop = (): void => { stopRequested = true; };
  process.on('SIGINT', requestStop);
  process.on('SIGTERM', requestStop);
  o.signal?.addEventListener('abort', requestStop);
  if (o.signal?.aborted) requestStop();
  const untilFiles = o.untilFiles ?? [];
  // a package whose program ends by itself (exit() in a probe) ends the trace
  void session.packageExited().then((name) => { o.log?.(`package ${name} ended`); requestStop(); });
  try {
    while (!stopRequested && Date.now() < deadline) {
      if (untilFiles.length > 0 && untilFiles.every((f) => existsSync(f))) break;
      await delay(Math.min(250, Math.max(1, deadline - Date.now())));
    }
  } finally {
    process.off('SIGINT', requestStop);
    process.off('SIGTERM', requestStop);
    o.signal?.removeEventListener('abort', requestStop);
  }
}
