// `/test <job>…`, `/test all`, `/test ?` and a bare `/test`. Pure: no I/O.
// Regexes are Prow's (pkg/pjutil/filter.go, pkg/pjutil/help.go), compiled with Go semantics.
import type { CommandSpec, ParsedCommand } from './types.ts';
import { captures, splitTargets } from './targets.ts';
import { compileGoRegExp } from '../config/go-regexp.ts';

/** Prow's TestAllRe. */
export const TEST_ALL_RE = compileGoRegExp(String.raw`(?m)^/test all,?($|\s.*)`);
/** Prow's TestHelpRe: "/test ?". */
export const TEST_HELP_RE = compileGoRegExp(String.raw`(?m)^/test[ \t]*\?\s*$`);
/** Prow's EmptyTestRe: a bare "/test". */
export const EMPTY_TEST_RE = compileGoRegExp(String.raw`(?m)^/test\s*$`);
/** Prow's TestWithAnyTargetRe, extended to capture the rest of the line. */
export const TEST_WITH_TARGETS_RE = compileGoRegExp(String.raw`(?m)^/test[ \t]+(\S.*)$`);

const NOT_JOB_NAMES: ReadonlySet<string> = new Set(['all', '?']);
/** The rest of a line TEST_ALL_RE matches: "all", "all,", "all <free text>". */
const TEST_ALL_REST = /^all,?(?:[\t\f\r ]|$)/;

export function parseTest(text: string): ParsedCommand[] {
  const out: ParsedCommand[] = [];
  if (TEST_ALL_RE.test(text)) out.push({ name: 'test-all' });
  if (TEST_HELP_RE.test(text)) out.push({ name: 'test-help', reason: 'question' });
  else if (EMPTY_TEST_RE.test(text)) out.push({ name: 'test-help', reason: 'empty' });
  // Words after "/test all" are free text (Prow's TestAllRe allows anything there), not job names.
  const rests = captures(TEST_WITH_TARGETS_RE, text).filter((rest) => !TEST_ALL_REST.test(rest));
  const targets = splitTargets(rests, NOT_JOB_NAMES);
  if (targets.length > 0) out.push({ name: 'test', targets });
  return out;
}

export const testCommand: CommandSpec = {
  name: 'test',
  usage: '/test [<job>…|all|?]',
  description:
    'Starts the named presubmit jobs, even when their run_if_changed does not match (the branch must). ' +
    '`/test all` starts the automatically triggered jobs whose file rules match. `/test ?` lists the jobs ' +
    'available for this PR; an unknown job name is answered with the closest names and starts nothing.',
  examples: ['/test all', '/test e2e-kata-qemu', '/test e2e-kata-qemu, e2e-kata-clh', '/test ?'],
  whoCanUse: 'Anyone on a trusted PR; trusted users (org members, repo collaborators) on any PR.',
  featured: true,
  parse: parseTest,
};
