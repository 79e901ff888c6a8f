// Worker thread for the config loader (load.ts): parses configuration files off the main thread, so a reload of a
// large job config never holds the event loop. One request per file; plain data in and out.
import { parentPort } from 'node:worker_threads';
import { configErrorData, parseConfigFile, type ConfigErrorData, type FileKind, type ParsedFile, type Preset } from './config-files.ts';
import { ConfigError } from './errors.ts';

export interface ParseRequest { id: number; kind: FileKind; path: string; text: string; presets: Preset[] }
export type ParseResponse = { id: number; ok: ParsedFile } | { id: number; error: ConfigErrorData } | { id: number; crash: string };

parentPort?.on('message', (req: ParseRequest) => {
  let res: ParseResponse;
  try {
    res = { id: req.id, ok: parseConfigFile(req.kind, req.path, req.text, req.presets) };
  } catch (e) {
    res = e instanceof ConfigError ? { id: req.id, error: configErrorData(e) } : { id: req.id, crash: e instanceof Error ? (e.stack ?? e.message) : String(e) };
  }
  parentPort?.postMessage(res);
});
