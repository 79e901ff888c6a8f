// `/ok-to-test-tdx`: approves the TDX (confidential hardware) jobs. Pure: no I/O.
import type { CommandSpec, ParsedCommand } from './types.ts';
import { compileGoRegExp } from '../config/go-regexp.ts';

/** Same shape as Prow's OkToTestRe. */
const OK_TO_TEST_TDX_RE = compileGoRegExp(String.raw`(?m)^/ok-to-test-tdx\s*$`);

function parseOkToTestTdx(text: string): ParsedCommand[] {
  return OK_TO_TEST_TDX_RE.test(text) ? [{ name: 'ok-to-test-tdx' }] : [];
}

export const okToTestTdxCommand: CommandSpec = {
  name: 'ok-to-test-tdx',
  usage: '/ok-to-test-tdx',
  description:
    'Approves the TDX jobs (confidential hardware) by adding the TDX label, and starts them. Without the ' +
    'label TDX jobs never run. Unless the label is sticky, every new push removes it: approval is per commit. ' +
    'On an untrusted PR it also counts as `/ok-to-test`.',
  examples: ['/ok-to-test-tdx'],
  whoCanUse: 'Only the configured TDX approvers (`tdx.approvers`).',
  featured: false,
  parse: parseOkToTestTdx,
};
