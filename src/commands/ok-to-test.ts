// `/ok-to-test` and `/ok-to-test cancel`. Pure: no I/O.
import type { CommandSpec, ParsedCommand } from './types.ts';
import { compileGoRegExp } from '../config/go-regexp.ts';

/** Prow's OkToTestRe. */
export const OK_TO_TEST_RE = compileGoRegExp(String.raw`(?m)^/ok-to-test\s*$`);
/**
 * Prow's OkToTestCancelRe. As in Prow, `\s+` may cross a line break: "/ok-to-test" followed by a line
 * "cancel" is a cancel (the registry then drops the plain /ok-to-test, as Prow's net effect is a cancel).
 */
export const OK_TO_TEST_CANCEL_RE = compileGoRegExp(String.raw`(?m)^/ok-to-test\s+cancel\s*$`);

export function parseOkToTest(text: string): ParsedCommand[] {
  const out: ParsedCommand[] = [];
  if (OK_TO_TEST_RE.test(text)) out.push({ name: 'ok-to-test' });
  if (OK_TO_TEST_CANCEL_RE.test(text)) out.push({ name: 'ok-to-test-cancel' });
  return out;
}

export const okToTestCommand: CommandSpec = {
  name: 'ok-to-test',
  usage: '/ok-to-test [cancel]',
  description:
    "Marks the PR as trusted (label `ok-to-test`, removes `needs-ok-to-test`) and starts the automatic jobs. " +
    "`/ok-to-test cancel` revokes it: removes `ok-to-test`, restores `needs-ok-to-test`, starts nothing.",
  examples: ['/ok-to-test', '/ok-to-test cancel'],
  whoCanUse: 'Trusted users: members of the configured orgs, and repo collaborators unless only_org_members is set.',
  featured: false,
  parse: parseOkToTest,
};
