// `/trace` and `/trace <job>…`: run jobs with the eBPF tracer sidecar. Pure: no I/O.
import type { CommandSpec, ParsedCommand } from './types.ts';
import { captures, goCommandRegExp, matches, splitTargets } from './targets.ts';

export const TRACE_RE = goCommandRegExp(String.raw`(?m)^/trace\s*$`);
export const TRACE_WITH_TARGETS_RE = goCommandRegExp(String.raw`(?m)^/trace[ \t]+(\S.*)$`);

export function parseTrace(text: string): ParsedCommand[] {
  const targets = splitTargets(captures(TRACE_WITH_TARGETS_RE, text));
  if (targets.length > 0) return [{ name: 'trace', targets }];
  return matches(TRACE_RE, text) ? [{ name: 'trace', targets: [] }] : [];
}

export const traceCommand: CommandSpec = {
  name: 'trace',
  usage: '/trace [<job>…]',
  description:
    'Runs the named jobs (or the default set) with the katabot tracer sidecar, which records what the ' +
    'workload does (label `katabot.dev/trace: "true"`).',
  examples: ['/trace', '/trace e2e-kata-qemu'],
  whoCanUse: 'Trusted users (org members, repo collaborators), on a trusted PR: the tracer is privileged.',
  featured: false,
  parse: parseTrace,
};
