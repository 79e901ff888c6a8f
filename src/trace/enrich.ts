// Enrichers: the steps between a decoder (the trace normaliser, a package's decoder) and the trace, each adding
// what the agent knows and the kernel record does not say — as Inspektor Gadget runs operators between a gadget
// and its formatter. A decoder hands every event it makes to one pipeline, with the raw facts it read. Pure.
import type { CustomTraceEvent, TraceEvent } from './format.ts';
import { decodeBpftraceBuffer, parseDnsQuery } from './dns.ts';

/** Who an event belongs to, resolved from its cgroup id by the agent. */
export interface Attribution {
  cgroup?: string;
  container?: string;
  container_id?: string;
  pod?: string;
  namespace?: string;
}

/** What a record said that is not an event field: the raw input of the enrichers. */
export interface EventFacts {
  /** cgroup v2 id of the task, as bpftrace's `cgroup` builtin prints it. */
  cgid?: string;
  /** The start of a message sent to port 53 (bpftrace `%r` text) and its length; TCP messages start with a length. */
  dns?: { payload: string; len: number; tcp: boolean };
}

/** Adds to an event in place; returns false when the event is not one after all (it is then dropped). */
export type Enricher = (event: TraceEvent | CustomTraceEvent, facts: EventFacts) => boolean | void;

/** The enrichers in order, as one; the first that drops an event ends it. */
export function pipeline(...steps: Array<Enricher | undefined>): Enricher {
  const present = steps.filter((s): s is Enricher => s !== undefined);
  return (event, facts) => {
    for (const step of present) if (step(event, facts) === false) return false;
    return true;
  };
}

/** cgroup id → cgroup path, pod, container (the agent's CgroupIndex and pod facts, in `attribute`). */
export function cgroupAttribution(attribute: (cgroupId: string) => Attribution | undefined): Enricher {
  return (event, facts) => {
    if (facts.cgid === undefined) return;
    const who = attribute(facts.cgid);
    if (who) Object.assign(event, who);
  };
}

/** The question of a DNS message a process sent: its name and type. A message that is no query (a reply, or
 * another protocol on port 53) is not a `dns` event. */
export const dnsNaming: Enricher = (event, facts) => {
  if (event.kind !== 'dns' || !facts.dns) return;
  const question = parseDnsQuery(decodeBpftraceBuffer(facts.dns.payload).subarray(0, facts.dns.len), facts.dns.tcp);
  if (!question) return false;
  event.query = question.name;
  if (question.qtype) event.qtype = question.qtype;
  if (question.truncated) event.truncated = true;
};
