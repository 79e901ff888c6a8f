// Kubernetes API usage from apiserver audit logs (audit.k8s.io/v1 Event JSONL), mapped to OpenAPI operations
// (openapi.ts) and attributed to user agents and service accounts; the APISnoop-style exports of `katabot apis`.
import type { AuditEvent } from './audit-parse.ts';
import { findOperation, isDiscoveryPath, isIgnoredRequest, uriParts, type OpenApiIndex, type OpenApiOperation } from './openapi-index.ts';
import type { ApiItem, ApiLevel } from './profile.ts';
import { normalizeNamespace, normalizePath } from './profile-rules.ts';

/** `kubectl/v1.30.2 (linux/amd64) kubernetes/abc` → `kubectl`; an e2e test keeps its test name. */
export function userAgentName(ua: string | undefined): string {
  if (!ua) return '?';
  const agent = ua.split(/[/\s]/)[0] || '?';
  const test = ua.split(' -- ')[1];
  return test ? `${agent} -- ${test.trim()}` : agent;
}

/** `system:serviceaccount:ns:name` → `sa:ns/name` (generated namespaces normalised); other users unchanged. */
export function principalOf(username: string | undefined): string {
  if (!username) return '?';
  const m = /^system:serviceaccount:([^:]+):(.+)$/.exec(username);
  if (m) return `sa:${normalizeNamespace(m[1]!)}/${m[2]}`;
  const node = /^system:node:(.+)$/.exec(username);
  if (node) return 'system:node:<node>';
  return username;
}

export interface ApiRequest {
  item: Omit<ApiItem, 'count' | 'by'>;
  by: string;
  userAgent: string;
  principal: string;
  op?: OpenApiOperation;
}

/** Normalised non-resource path for keys (ids and random names collapse like file paths). */
export function keyPath(path: string): string {
  return normalizePath(path.replace(/\/+$/, '') || '/');
}

/**
 * Classifies one request. Returns undefined for what APISnoop skips (health, metrics, /openapi/v2). Without an
 * index, the item has no operationId or level and is keyed by verb and resource only.
 */
export function classifyRequest(ev: AuditEvent, index?: OpenApiIndex): ApiRequest | undefined {
  const q = ev.requestURI.search(/[?#]/);
  const path = q >= 0 ? ev.requestURI.slice(0, q) : ev.requestURI;
  if (isIgnoredRequest(uriParts(path))) return undefined;
  let op: OpenApiOperation | undefined;
  if (index) {
    const m = findOperation(index, ev.verb, ev.requestURI);
    if (m.kind === 'ignored') return undefined;
    if (m.kind === 'operation') op = m.op;
  }
  const ref = ev.objectRef;
  let apiVersion: string;
  let resource: string;
  let group: string;
  if (ref?.resource) {
    group = ref.apiGroup || 'core';
    const version = ref.apiVersion ?? (op?.version || '?');
    apiVersion = ref.apiGroup ? `${ref.apiGroup}/${version}` : version;
    resource = ref.subresource ? `${ref.resource}/${ref.subresource}` : ref.resource;
  } else {
    apiVersion = keyPath(path);
    resource = '';
    group = op?.group ?? (path.startsWith('/apis/') ? path.split('/')[2] ?? '' : path.startsWith('/api') ? 'core' : '');
  }
  const discovery = op ? op.discovery : !ref?.resource && isDiscoveryPath(path);
  const operationId = op?.operationId ?? null;
  const what = resource ? `${apiVersion} ${resource}` : apiVersion;
  const key = `${ev.verb} ${what}${operationId ? ` (${operationId})` : ''}`;
  const userAgent = userAgentName(ev.userAgent);
  const principal = principalOf(ev.user?.username);
  const item: ApiRequest['item'] = {
    key, verb: ev.verb, apiVersion, resource, operationId, level: op?.level ?? null, group: op?.group ?? group,
    category: op?.category ?? '', discovery,
  };
  const r: ApiRequest = { item, by: `${userAgent} (${principal})`, userAgent, principal };
  if (op) r.op = op;
  return r;
}

// ---------------------------------------------------------------------------------------------------------------
// `katabot apis` exports

/** `--format jsonl`: one line per audit event. */
export interface AuditEventRow {
  auditID: string | null;
  verb: string;
  requestURI: string;
  operationId: string | null;
  level: ApiLevel | null;
}

export function auditEventRow(ev: AuditEvent, index: OpenApiIndex): AuditEventRow {
  const m = findOperation(index, ev.verb, ev.requestURI);
  const op = m.kind === 'operation' ? m.op : undefined;
  return { auditID: ev.auditID ?? null, verb: ev.verb, requestURI: ev.requestURI, operationId: op?.operationId ?? null, level: op?.level ?? null };
}
