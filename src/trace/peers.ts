// Which traced workload sits at the other end of a connection. Within one run, every workload's own addresses are
// learned from its events (a connect's source address, an accept's or listen's local address); a connection's
// remote address is then matched against them. The result is a workload identity (`namespace/workload`), stable
// across runs, never an address: the service graph and the least-privilege policies draw their edges from it.
import { addressIdentity, unmapIpv4 } from './profile-rules.ts';

/** Addresses remembered per item; beyond this a wide fan-out stops being tracked. */
const MAX_ADDRESSES_PER_ITEM = 1024;
/** Owners kept per address (several containers of one pod share its address). */
const MAX_OWNERS = 8;

/** `namespace/workload` of a profile scope `namespace/workload:container` (the container dropped). */
export function workloadOfScope(scope: string): string {
  const i = scope.lastIndexOf(':');
  return i < 0 ? scope : scope.slice(0, i);
}

/** An address that names one end of a connection between workloads: not loopback, unspecified or unknown. */
function routable(raw: string): string | undefined {
  const ip = unmapIpv4(raw.toLowerCase());
  const cls = addressIdentity(ip).cls;
  return cls === 'loopback' || cls === 'unspecified' || cls === 'unknown' ? undefined : ip;
}

/** Distinct addresses remembered by the routable() cache (every connect names two). */
const CACHE_MAX = 65536;

export class PeerIndex {
  /** address → workloads that used it as their own */
  readonly #owners = new Map<string, Set<string>>();
  /** item key → remote addresses seen for it */
  readonly #remote = new Map<string, Set<string>>();
  readonly #routable = new Map<string, string | undefined>();

  #ip(raw: string | undefined): string | undefined {
    if (raw === undefined || raw === '') return undefined;
    if (this.#routable.has(raw)) return this.#routable.get(raw);
    const ip = routable(raw);
    if (this.#routable.size >= CACHE_MAX) this.#routable.clear();
    this.#routable.set(raw, ip);
    return ip;
  }

  /** `scope` used `address` as its own (a connect's source, an accept's or listen's local address). */
  own(scope: string, address: string | undefined): void {
    const ip = this.#ip(address);
    if (!scope || ip === undefined) return;
    let set = this.#owners.get(ip);
    if (!set) { set = new Set(); this.#owners.set(ip, set); }
    if (set.size < MAX_OWNERS) set.add(workloadOfScope(scope));
  }

  /** The item `key` had `address` at its other end. */
  saw(key: string, address: string | undefined): void {
    const ip = this.#ip(address);
    if (ip === undefined) return;
    let set = this.#remote.get(key);
    if (!set) { set = new Set(); this.#remote.set(key, set); }
    if (set.size < MAX_ADDRESSES_PER_ITEM) set.add(ip);
  }

  /** Connections to `address` moved from item `from` to item `to` (an egress item renamed after a DNS lookup). */
  move(from: string, to: string, address: string): void {
    this.#remote.get(from)?.delete(address);
    this.saw(to, address);
  }

  /** The traced workloads behind the item's remote addresses, sorted; undefined when none is known. */
  peersOf(key: string): string[] | undefined {
    const ips = this.#remote.get(key);
    if (!ips) return undefined;
    const out = new Set<string>();
    for (const ip of ips) for (const w of this.#owners.get(ip) ?? []) out.add(w);
    return out.size > 0 ? [...out].sort() : undefined;
  }
}
