// Reads a job's JUnit files from its artifacts (`<build>/artifacts/junit*.xml`, as Prow's spyglass finds them),
// streaming each through the JUnit reader (src/render/junit.ts), so a file of any size costs bounded memory.
// A file that is not JUnit XML, or larger than the limit, is skipped and named, never fatal; a store that cannot
// be read (network, permissions) throws, and the caller retries.
import { JunitReader, JunitSyntaxError, mergeJunit, type JunitResult } from '../render/junit.ts';
import { jobBuildPath, JUNIT_IN_ARTIFACTS, type JobArtifacts } from './paths.ts';
import type { ArtifactStore } from './store.ts';

/** Files read per job, and bytes per file: bounds the time one report may take. */
const MAX_JUNIT_FILES = 100;
const MAX_JUNIT_BYTES = 256 * 1024 * 1024;

export interface JobJunit {
  result: JunitResult;
  /** Files read. */
  files: number;
  /** Files not read, with why (keys relative to the build directory). */
  skipped: Array<{ key: string; reason: string }>;
}

export async function readJobJunit(store: ArtifactStore, at: JobArtifacts, limits: { maxFiles?: number; maxBytes?: number } = {}): Promise<JobJunit> {
  const maxFiles = limits.maxFiles ?? MAX_JUNIT_FILES;
  const maxBytes = limits.maxBytes ?? MAX_JUNIT_BYTES;
  const build = `${jobBuildPath(at.ref, at.paths)}/`;
  const keys = (await store.list(`${build}artifacts/`)).map((k) => k.slice(build.length)).filter((k) => JUNIT_IN_ARTIFACTS.test(k));
  const results: JunitResult[] = [];
  const skipped: JobJunit['skipped'] = [];
  for (const key of keys) {
    if (results.length + skipped.length >= maxFiles) {
      skipped.push({ key, reason: `more than ${maxFiles} JUnit files` });
      continue;
    }
    const reader = new JunitReader();
    let bytes = 0;
    try {
      for await (const chunk of await store.stream(`${build}${key}`)) {
        bytes += chunk.byteLength;
        if (bytes > maxBytes) throw new TooLarge();
        reader.write(chunk);
      }
      results.push(reader.end());
    } catch (err) {
      if (err instanceof JunitSyntaxError) skipped.push({ key, reason: `not JUnit XML: ${err.message.split('\n')[0]!.slice(0, 120)}` });
      else if (err instanceof TooLarge) skipped.push({ key, reason: `larger than ${Math.round(maxBytes / 1024 / 1024)} MiB` });
      else throw err;
    }
  }
  return { result: mergeJunit(results), files: results.length, skipped };
}

class TooLarge extends Error {}
