// Kubernetes request → OpenAPI operationId, as APISnoop does it (kubernetes-sigs/apisnoop
// apps/snoopdb/postgres/snoopUtils.py): the spec's paths in a trie per segment count, the request path walked
// literal-first then through `{template}` segments, the audit verb mapped to an HTTP method. Differences: every
// template branch is tried (APISnoop takes the first only, which is why it special-cases namespace status and
// finalize), and levels, categories and groups follow its open_api table (300_fn_load_open_api.sql).
import type { ApiLevel } from './profile.ts';
import { isObject } from './json.ts';

export interface OpenApiOperation {
  operationId: string;
  method: string;
  /** Spec path, e.g. `/api/v1/namespaces/{namespace}/secrets`. */
  path: string;
  level: ApiLevel;
  /** First tag up to `_` (`core`, `apps`, `rbacAuthorization`). */
  category: string;
  /** x-kubernetes-group-version-kind; `core` for the legacy group, derived from the path when absent. */
  group: string;
  version: string;
  kind: string;
  /** x-kubernetes-action (get, list, watch, create, …), '' when absent. */
  action: string;
  deprecated: boolean;
  discovery: boolean;
  /** The operation's description (APISnoop's endpoint_coverage shows it). */
  description: string;
}

interface TrieNode {
  lit: Map<string, TrieNode>;
  /** `{template}` branches, in spec order, with their names. */
  varNames: string[];
  vars: TrieNode[];
  ops?: Map<string, OpenApiOperation>;
}

export interface OpenApiIndex {
  title: string;
  version: string;
  operations: OpenApiOperation[];
  /** Tries by path segment count. */
  tries: Map<number, TrieNode>;
}

function node(): TrieNode {
  return { lit: new Map(), varNames: [], vars: [] };
}

const METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch']);
/** Beta although their paths do not say so (APISnoop's load_open_api). */
const BETA_OPS = new Set(['getServiceAccountIssuerOpenIDConfiguration', 'getServiceAccountIssuerOpenIDKeyset']);
const DISCOVERY_OP = /^(getCoreAPIVersions|getAPIVersions|getCodeVersion|get\w*APIGroup|get\w*APIResources)$/;

function levelOfPath(path: string, operationId = ''): ApiLevel {
  if (path.includes('alpha')) return 'alpha';
  if (path.includes('beta') || BETA_OPS.has(operationId)) return 'beta';
  return 'stable';
}

function groupOfPath(path: string): string {
  const parts = path.split('/').filter((p) => p !== '');
  if (parts[0] === 'api') return 'core';
  if (parts[0] === 'apis' && parts[1]) return parts[1];
  return '';
}


/** Builds the index from a parsed Swagger 2.0 / OpenAPI v2 document. Throws when it has no `paths`. */
export function buildOpenApiIndex(spec: unknown): OpenApiIndex {
  if (!isObject(spec) || !isObject(spec['paths'])) throw new Error('not an OpenAPI v2 document: no "paths" object');
  const info = isObject(spec['info']) ? spec['info'] : {};
  const index: OpenApiIndex = {
    title: String(info['title'] ?? ''), version: String(info['version'] ?? ''), operations: [], tries: new Map(),
  };
  for (const [path, item] of Object.entries(spec['paths'] as Record<string, unknown>)) {
    if (!isObject(item)) continue;
    const parts = path.replace(/^\/+|\/+$/g, '').split('/');
    let trie = index.tries.get(parts.length);
    if (!trie) { trie = node(); index.tries.set(parts.length, trie); }
    let cur = trie;
    for (const part of parts) {
      if (part.startsWith('{')) {
        // one branch per template name, in spec order (APISnoop keys its dict by the name)
        let next = cur.varNames.indexOf(part);
        if (next < 0) { cur.varNames.push(part); cur.vars.push(node()); next = cur.vars.length - 1; }
        cur = cur.vars[next]!;
      } else {
        let n = cur.lit.get(part);
        if (!n) { n = node(); cur.lit.set(part, n); }
        cur = n;
      }
    }
    for (const [method, opRaw] of Object.entries(item)) {
      if (!METHODS.has(method) || !isObject(opRaw)) continue;
      const operationId = typeof opRaw['operationId'] === 'string' ? opRaw['operationId'] : '';
      if (!operationId) continue;
      const tags = Array.isArray(opRaw['tags']) ? opRaw['tags'] : [];
      const gvk = isObject(opRaw['x-kubernetes-group-version-kind']) ? opRaw['x-kubernetes-group-version-kind'] : undefined;
      const group = gvk ? (String(gvk['group'] ?? '') || 'core') : groupOfPath(path);
      const op: OpenApiOperation = {
        operationId,
        method,
        path,
        level: levelOfPath(path, operationId),
        category: typeof tags[0] === 'string' ? tags[0].split('_')[0]! : '',
        group,
        version: gvk ? String(gvk['version'] ?? '') : '',
        kind: gvk ? String(gvk['kind'] ?? '') : '',
        action: typeof opRaw['x-kubernetes-action'] === 'string' ? opRaw['x-kubernetes-action'] : '',
        deprecated: String(opRaw['description'] ?? '').toLowerCase().includes('deprecated'),
        discovery: DISCOVERY_OP.test(operationId),
        description: typeof opRaw['description'] === 'string' ? opRaw['description'] : '',
      };
      cur.ops ??= new Map();
      cur.ops.set(method, op);
      index.operations.push(op);
    }
  }
  index.operations.sort((a, b) => (a.operationId < b.operationId ? -1 : a.operationId > b.operationId ? 1 : 0));
  return index;
}

/** APISnoop's assign_verb_to_method. */
export function methodForVerb(verb: string, uri: string): string | null {
  if (verb === 'get' && uri.endsWith('HEAD')) return 'head';
  switch (verb) {
    case 'get': case 'list': case 'watch': return 'get';
    case 'proxy': return 'proxy';
    case '': return 'options';
    case 'create': case 'post': return 'post';
    case 'update': case 'put': return 'put';
    case 'patch': return 'patch';
    case 'connect': return 'connect';
    case 'delete': case 'delete_collection': case 'deletecollection': return 'delete';
    default: return null;
  }
}

/** APISnoop's IGNORED_PATHS (whole segments) and /openapi/v2. */
const IGNORED_SEGMENTS: readonly string[] = [
  'metrics', 'readyz', 'livez', 'healthz', 'example.com', 'kope.io', 'snapshot.storage.k8s.io', 'metrics.k8s.io', 'wardle.k8s.io',
];

/** Request path → parts as APISnoop's format_uri_parts: everything after `proxy` is one part. */
export function uriParts(path: string): string[] {
  const parts = path.replace(/^\/+|\/+$/g, '').split('/');
  const proxy = parts.indexOf('proxy');
  if (proxy >= 0) {
    const tail = parts.slice(proxy + 1);
    return tail.length > 0 ? [...parts.slice(0, proxy + 1), tail.join('/')] : parts.slice(0, proxy + 1);
  }
  return parts;
}

export function isIgnoredRequest(parts: readonly string[]): boolean {
  if (parts.some((p) => IGNORED_SEGMENTS.includes(p))) return true;
  return parts.length === 2 && parts[0] === 'openapi' && parts[1] === 'v2';
}

/** Discovery requests by path, for those the spec does not list (`/apis/<aggregated group>`, `/openapi/v3`). */
export function isDiscoveryPath(path: string): boolean {
  const p = path.replace(/\/+$/, '');
  return p === '/api' || p === '/version' || /^\/api\/v1$/.test(p) || /^\/apis(\/[^/]+){0,2}$/.test(p) || /^\/openapi\/v3(\/|$)/.test(p);
}

export type OperationMatch =
  | { kind: 'operation'; op: OpenApiOperation }
  | { kind: 'ignored'; reason: string }
  | { kind: 'unmatched'; reason: string };

function walk(n: TrieNode, parts: readonly string[], i: number, method: string): OpenApiOperation | undefined {
  if (i === parts.length) return n.ops?.get(method);
  const lit = n.lit.get(parts[i]!);
  if (lit) {
    const found = walk(lit, parts, i + 1, method);
    if (found) return found;
  }
  for (const v of n.vars) {
    const found = walk(v, parts, i + 1, method);
    if (found) return found;
  }
  return undefined;
}

/** Finds the operation of a request (the query string is ignored, so `?watch=true` maps to the list operation). */
export function findOperation(index: OpenApiIndex, verb: string, requestURI: string): OperationMatch {
  const method = methodForVerb(verb, requestURI);
  if (method === null) return { kind: 'unmatched', reason: `no method for verb ${JSON.stringify(verb)}` };
  const q = requestURI.search(/[?#]/);
  const path = q >= 0 ? requestURI.slice(0, q) : requestURI;
  const parts = uriParts(path);
  if (isIgnoredRequest(parts)) return { kind: 'ignored', reason: 'health, metrics or /openapi/v2' };
  const trie = index.tries.get(parts.length);
  if (!trie) return { kind: 'unmatched', reason: 'no spec path has this many segments' };
  const op = walk(trie, parts, 0, method);
  return op ? { kind: 'operation', op } : { kind: 'unmatched', reason: `no operation for ${method.toUpperCase()} ${path}` };
}
