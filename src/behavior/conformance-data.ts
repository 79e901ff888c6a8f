// Kubernetes' list of endpoints that are not eligible for conformance (data/kubernetes/ineligible_endpoints.yaml,
// kubernetes/kubernetes test/conformance/testdata, commit named in data/kubernetes/README.md), read once.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { parseIneligibleEndpoints, type IneligibleEndpoint } from '../trace/conformance.ts';
import { BehaviorInputError } from './read.ts';

/** The copy shipped with katabot (data/ sits beside src/ and dist/). */
export const INELIGIBLE_ENDPOINTS_FILE = fileURLToPath(new URL('../../data/kubernetes/ineligible_endpoints.yaml', import.meta.url));

const cache = new Map<string, Promise<Map<string, IneligibleEndpoint>>>();

async function load(path: string): Promise<Map<string, IneligibleEndpoint>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new BehaviorInputError(`${path}: no such file`);
  }
  try {
    return parseIneligibleEndpoints(parse(text), path);
  } catch (err) {
    throw new BehaviorInputError((err as Error).message.startsWith(path) ? (err as Error).message : `${path}: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** The ineligible endpoints, by operationId; read once per file. */
export function ineligibleEndpoints(path = INELIGIBLE_ENDPOINTS_FILE): Promise<Map<string, IneligibleEndpoint>> {
  let p = cache.get(path);
  if (!p) {
    p = load(path);
    p.catch(() => cache.delete(path));
    cache.set(path, p);
  }
  return p;
}
