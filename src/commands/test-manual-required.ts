// `/test-manual-required`: start the required jobs that only ever run when asked for (Prow's trigger, 2026). Pure.
import type { CommandSpec, ParsedCommand } from './types.ts';
import { compileGoRegExp } from '../config/go-regexp.ts';

/** Prow's TestManualRequiredRe. */
export const TEST_MANUAL_REQUIRED_RE = compileGoRegExp(String.raw`(?m)^/test-manual-required\s*$`);

export function parseTestManualRequired(text: string): ParsedCommand[] {
  return TEST_MANUAL_REQUIRED_RE.test(text) ? [{ name: 'test-manual-required' }] : [];
}

export const testManualRequiredCommand: CommandSpec = {
  name: 'test-manual-required',
  usage: '/test-manual-required',
  description:
    'Starts the required jobs that run only on demand: not optional, not `always_run`, and without ' +
    '`run_if_changed` or `skip_if_only_changed`. Such jobs block merging until someone starts them.',
  examples: ['/test-manual-required'],
  whoCanUse: 'Anyone on a trusted PR; trusted users (org members, repo collaborators) on any PR.',
  featured: false,
  parse: parseTestManualRequired,
};
