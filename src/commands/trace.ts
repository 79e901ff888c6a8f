// `/trace`, `/trace <job>…` and `/trace --probe dns,tcp [<job>…]`: run jobs with the eBPF tracer sidecar,
// optionally with chosen eBPF packages (built-in or from the repo's .katabot/probes). Pure: no I/O.
import { MAX_PROBES, type CommandSpec, type ParsedCommand } from './types.ts';
import { captures, splitTargets } from './targets.ts';
import { compileGoRegExp } from '../config/go-regexp.ts';

const TRACE_RE = compileGoRegExp(String.raw`(?m)^/trace\s*$`);
const TRACE_WITH_TARGETS_RE = compileGoRegExp(String.raw`(?m)^/trace[ \t]+(\S.*)$`);

/** A package reference: a package name, optionally `@version`. */
const PROBE_RE = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?(?:@[0-9A-Za-z.+-]{1,64})?$/;

/** Splits `--probe LIST` / `--probe=LIST` (comma-separated, no blanks inside) off a /trace line's rest. */
function splitProbes(rest: string): { rest: string; probes: string[] } {
  const words = rest.split(/[\t\f\r ]+/).filter((w) => w !== '');
  const kept: string[] = [];
  const probes: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    let list: string | undefined;
    if (w === '--probe' || w === '--probes') list = words[++i];
    else if (w.startsWith('--probe=') || w.startsWith('--probes=')) list = w.slice(w.indexOf('=') + 1);
    else {
      kept.push(w);
      continue;
    }
    for (const p of (list ?? '').split(',')) if (PROBE_RE.test(p) && !probes.includes(p) && probes.length < MAX_PROBES) probes.push(p);
  }
  return { rest: kept.join(' '), probes };
}

function parseTrace(text: string): ParsedCommand[] {
  const rests = captures(TRACE_WITH_TARGETS_RE, text).map(splitProbes);
  const targets = splitTargets(rests.map((r) => r.rest));
  const probes: string[] = [];
  for (const r of rests) for (const p of r.probes) if (!probes.includes(p) && probes.length < MAX_PROBES) probes.push(p);
  if (targets.length > 0 || probes.length > 0) return [{ name: 'trace', targets, ...(probes.length > 0 ? { probes } : {}) }];
  // a bare /trace, or one whose only words were an empty --probe
  return TRACE_RE.test(text) || rests.some((r) => r.rest === '') ? [{ name: 'trace', targets: [] }] : [];
}

export const traceCommand: CommandSpec = {
  name: 'trace',
  usage: '/trace [--probe <package>,…] [<job>…]',
  description:
    'Runs the named jobs (or the default set) with the katabot tracer sidecar, which records what the ' +
    'workload does (label `katabot.dev/trace: "true"`). `--probe` picks eBPF packages: the built-in `exec`, ' +
    '`files`, `tcp`, `dns`, or packages from the repository\'s `.katabot/probes/`.',
  examples: ['/trace', '/trace e2e-kata-qemu', '/trace --probe dns,tcp e2e-kata-qemu'],
  whoCanUse: 'Trusted users (org members, repo collaborators), on a trusted PR: the tracer is privileged.',
  featured: false,
  parse: parseTrace,
};
