// Conformance attribution, as APISnoop does it: the Kubernetes e2e framework puts the running test in the user
// agent (`e2e.test/v1.27.0 (linux/amd64) kubernetes/564f438 -- [sig-node] Pods should … [Conformance]`), so a
// request is "hit by an e2e test" when its user agent starts with `e2e.test` and "hit by a conformance test" when
// it contains `[Conformance]` (apps/snoopdb/postgres/initdb/301_fn_load_audit_events.sql). Which endpoints are
// eligible for conformance: stable and not deprecated, minus Kubernetes' own
// test/conformance/testdata/ineligible_endpoints.yaml (read as data; data/kubernetes/README.md names its commit).
import type { ApiLevel } from './profile.ts';
import { isObject } from './json.ts';

export interface UserAgentInfo {
  /** The program: `kubectl`, `e2e.test`, `kube-controller-manager`; `?` without a user agent. */
  program: string;
  /** What client-go appends after `kubernetes/<commit>/`: `scheduler`, `shared-informers`, a controller's account. */
  component?: string;
  /** The e2e test that made the request (the text after `--`), for e2e.test user agents. */
  test?: string;
  /** APISnoop's test_hit: the user agent starts with `e2e.test`. */
  e2e: boolean;
  /** APISnoop's conf_test_hit: the user agent contains `[Conformance]`. */
  conformance: boolean;
}

/** How an operation was hit: by a conformance test, by another e2e test, or by anything else. */
export type HitKind = 'conformance' | 'e2e' | 'other';

export function parseUserAgent(ua: string | undefined): UserAgentInfo {
  if (!ua || ua.trim() === '') return { program: '?', e2e: false, conformance: false };
  const sep = ua.indexOf('--');
  const client = (sep >= 0 ? ua.slice(0, sep) : ua).trim();
  const program = /^[^/\s]+/.exec(client)?.[0] ?? '?';
  const info: UserAgentInfo = { program, e2e: ua.startsWith('e2e.test'), conformance: ua.includes('[Conformance]') };
  const component = /\bkubernetes\/[^/\s]+\/(\S+)/.exec(client)?.[1];
  if (component) info.component = component;
  // APISnoop takes split_part(useragent, '--', 2); katabot keeps the rest of the line, as test names may hold `--`
  if (info.e2e && sep >= 0) {
    const test = ua.slice(sep + 2).trim();
    if (test) info.test = test;
  }
  return info;
}

export function hitKindOf(ua: UserAgentInfo): HitKind {
  return ua.conformance ? 'conformance' : ua.e2e ? 'e2e' : 'other';
}

export interface IneligibleEndpoint {
  endpoint: string;
  reason: string;
  link: string;
}


/**
 * Kubernetes' ineligible_endpoints.yaml (a list of `{endpoint, reason, link}`), parsed. Throws one line naming the
 * file and the entry when the shape is wrong.
 */
export function parseIneligibleEndpoints(doc: unknown, name: string): Map<string, IneligibleEndpoint> {
  if (!Array.isArray(doc)) throw new Error(`${name}: expected a list of {endpoint, reason, link}`);
  const out = new Map<string, IneligibleEndpoint>();
  doc.forEach((e, i) => {
    if (!isObject(e) || typeof e['endpoint'] !== 'string' || e['endpoint'] === '') throw new Error(`${name}: entry ${i + 1}: no endpoint`);
    out.set(e['endpoint'], { endpoint: e['endpoint'], reason: typeof e['reason'] === 'string' ? e['reason'] : '', link: typeof e['link'] === 'string' ? e['link'] : '' });
  });
  return out;
}

export type Eligibility = { eligible: true } | { eligible: false; reason: string; link?: string };

/** APISnoop's conformance.eligible_endpoint: stable, not deprecated, and not on Kubernetes' ineligible list. */
export function conformanceEligibility(
  op: { operationId: string; level: ApiLevel; deprecated: boolean },
  ineligible?: ReadonlyMap<string, IneligibleEndpoint>,
): Eligibility {
  if (op.level !== 'stable') return { eligible: false, reason: `${op.level} API` };
  if (op.deprecated) return { eligible: false, reason: 'deprecated' };
  const listed = ineligible?.get(op.operationId);
  if (listed) return listed.link ? { eligible: false, reason: listed.reason, link: listed.link } : { eligible: false, reason: listed.reason };
  return { eligible: true };
}
