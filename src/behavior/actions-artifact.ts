// A katabot action's artifact, as GitHub serves it (a zip: GET /repos/{owner}/{repo}/actions/artifacts/{id}/zip):
// its manifest (katabot.json), and the profile of the traces (the host's, and guest traces under guest/) and the
// apiserver audit logs in it, mapped to API operations with the cluster's own /openapi/v2 when it came along.
// Entries are streamed out of the zip into the profile builder; a malformed trace is a BehaviorInputError naming
// the artifact, the entry and the line.
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { MANIFEST_FILE, manifestProblem, type ActionManifest } from '../trace/action-manifest.ts';
import type { OpenApiIndex } from '../trace/openapi-index.ts';
import { ProfileBuilder, type BehaviorProfile } from '../trace/profile.ts';
import { parseIgnoreFile, type IgnoreRules } from '../trace/profile-rules.ts';
import { openApiFromBuffer } from './openapi-load.ts';
import { BehaviorInputError, readAuditInto, readTraceInto } from './read.ts';

/** Small entries are read whole; traces and audit logs are streamed. */
const SMALL_ENTRY_BYTES = 64 << 20;

function openZip(zip: Buffer): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(zip, { lazyEntries: true, strictFileNames: false, validateEntrySizes: true }, (err, z) => (err ? reject(err) : resolve(z)));
  });
}

/** Calls `each` for every file entry in order; stops at the first error. */
async function forEachEntry(zip: Buffer, name: string, each: (entry: yauzl.Entry, open: () => Promise<Readable>) => Promise<void>): Promise<void> {
  let z: yauzl.ZipFile;
  try {
    z = await openZip(zip);
  } catch (err) {
    throw new BehaviorInputError(`${name}: not a zip archive: ${(err as Error).message}`);
  }
  try {
    await new Promise<void>((resolve, reject) => {
      z.on('error', reject);
      z.on('end', () => resolve());
      z.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName.endsWith('/')) { z.readEntry(); return; }
        const open = () => new Promise<Readable>((res, rej) => z.openReadStream(entry, (err, s) => (err ? rej(err) : res(s))));
        each(entry, open).then(() => z.readEntry(), reject);
      });
      z.readEntry();
    });
  } finally {
    z.close();
  }
}

async function readWhole(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of s) {
    n += (c as Buffer).length;
    if (n > SMALL_ENTRY_BYTES) throw new Error(`larger than ${SMALL_ENTRY_BYTES} bytes`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The artifact's small files: its manifest, ignore rules and /openapi/v2 capture. */
export interface ArtifactInfo {
  manifest: ActionManifest;
  /** ignore.txt as written (applied only from base-branch runs: a PR must not hide its own changes). */
  ignore?: string;
  openapi?: OpenApiIndex;
}

/** Reads katabot.json (and what it names besides the traces). Throws BehaviorInputError when it is no manifest. */
export async function readArtifactInfo(zip: Buffer, name: string): Promise<ArtifactInfo> {
  const small = new Map<string, Buffer>();
  await forEachEntry(zip, name, async (entry, open) => {
    if (entry.fileName === MANIFEST_FILE || entry.fileName === 'ignore.txt' || entry.fileName.endsWith('.json')) {
      try {
        small.set(entry.fileName, await readWhole(await open()));
      } catch (err) {
        throw new BehaviorInputError(`${name}: ${entry.fileName}: ${(err as Error).message}`);
      }
    }
  });
  const raw = small.get(MANIFEST_FILE);
  if (!raw) throw new BehaviorInputError(`${name}: no ${MANIFEST_FILE} (not an artifact of the katabot action)`);
  let manifest: unknown;
  try {
    manifest = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new BehaviorInputError(`${name}: ${MANIFEST_FILE}: not JSON: ${(err as Error).message}`);
  }
  const problem = manifestProblem(manifest);
  if (problem) throw new BehaviorInputError(`${name}: ${MANIFEST_FILE}: ${problem}`);
  const m = manifest as ActionManifest;
  const info: ArtifactInfo = { manifest: m };
  const ignore = m.files.ignore ? small.get(m.files.ignore) : undefined;
  if (ignore) info.ignore = ignore.toString('utf8');
  const openapi = m.files.openapi ? small.get(m.files.openapi) : undefined;
  if (openapi) {
    try {
      info.openapi = openApiFromBuffer(openapi, `${name}: ${m.files.openapi}`);
    } catch {
      // the audit log is then mapped with the default spec, or its requests stay unmatched
    }
  }
  return info;
}

/** An artifact's ignore.txt as rules (with the defaults); none: undefined (the defaults alone). */
export function ignoreRulesOf(text: string | undefined): IgnoreRules | undefined {
  return text ? parseIgnoreFile(text) : undefined;
}

/** The profile of the traces and audit logs the manifest lists. */
export async function profileOfArtifact(zip: Buffer, name: string, info: ArtifactInfo, o: { openapi?: OpenApiIndex | undefined } = {}): Promise<BehaviorProfile> {
  const m = info.manifest;
  const traces = new Set([...(m.files.trace ? [m.files.trace] : []), ...m.files.guest.filter((g) => g.endsWith('.jsonl'))]);
  const audits = new Set(m.files.audit);
  if (traces.size === 0) throw new BehaviorInputError(`${name}: the manifest lists no trace (status: ${m.status.state === 'failed' ? m.status.reason : m.status.state})`);
  const builder = new ProfileBuilder();
  const seen = new Set<string>();
  const index = info.openapi ?? o.openapi;
  await forEachEntry(zip, name, async (entry, open) => {
    if (traces.has(entry.fileName)) {
      seen.add(entry.fileName);
      await readTraceInto(builder, await open(), `${name}: ${entry.fileName}`);
    } else if (audits.has(entry.fileName)) {
      await readAuditInto(builder, await open(), index, `${name}: ${entry.fileName}`);
    }
  });
  if (m.files.trace && !seen.has(m.files.trace)) throw new BehaviorInputError(`${name}: ${m.files.trace} is listed in ${MANIFEST_FILE} but not in the artifact`);
  return builder.build();
}
