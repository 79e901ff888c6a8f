// `/retest`, and `/retest <x>` which is invalid and answered with help. Pure: no I/O.
import type { CommandSpec, ParsedCommand } from './types.ts';
import { captures } from './targets.ts';
import { compileGoRegExp } from '../config/go-regexp.ts';

/** Prow's RetestRe. */
const RETEST_RE = compileGoRegExp(String.raw`(?m)^/retest\s*$`);
/** Prow's RetestWithTargetRe, capturing the first target. */
const RETEST_WITH_TARGET_RE = compileGoRegExp(String.raw`(?m)^/retest[ \t]+(\S+)`);

function parseRetest(text: string): ParsedCommand[] {
  const out: ParsedCommand[] = [];
  if (RETEST_RE.test(text)) out.push({ name: 'retest' });
  const [target] = captures(RETEST_WITH_TARGET_RE, text);
  if (target !== undefined) out.push({ name: 'retest-with-target', target });
  return out;
}

export const retestCommand: CommandSpec = {
  name: 'retest',
  usage: '/retest',
  description:
    'Reruns the jobs whose latest result for the head commit failed or errored (check runs and commit ' +
    'statuses), plus automatic jobs that never ran. Takes no targets: use `/test <job>` for one job.',
  examples: ['/retest'],
  whoCanUse: 'Anyone on a trusted PR; trusted users (org members, repo collaborators) on any PR.',
  featured: true,
  parse: parseRetest,
};
