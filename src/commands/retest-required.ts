// `/retest-required`. Pure: no I/O.
import type { CommandSpec, ParsedCommand } from './types.ts';
import { compileGoRegExp } from '../config/go-regexp.ts';

/** Prow's RetestRequiredRe. */
const RETEST_REQUIRED_RE = compileGoRegExp(String.raw`(?m)^/retest-required\s*$`);

function parseRetestRequired(text: string): ParsedCommand[] {
  return RETEST_REQUIRED_RE.test(text) ? [{ name: 'retest-required' }] : [];
}

export const retestRequiredCommand: CommandSpec = {
  name: 'retest-required',
  usage: '/retest-required',
  description: 'Like `/retest`, but skips optional jobs.',
  examples: ['/retest-required'],
  whoCanUse: 'Anyone on a trusted PR; trusted users (org members, repo collaborators) on any PR.',
  featured: false,
  parse: parseRetestRequired,
};
