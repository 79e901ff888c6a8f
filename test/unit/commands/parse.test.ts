import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCommands } from '../../../src/commands/registry.ts';
import type { ParsedCommand } from '../../../src/commands/types.ts';
import { MAX_TARGETS } from '../../../src/commands/types.ts';

const F = '```';
const codeBlock = (text: string, newline: boolean): string => `${F}\n${text}\n${F}${newline ? '\n' : ''}`;

const cases: Array<{ name: string; body: string; want: ParsedCommand[] }> = [
  // Nothing.
  { name: 'empty comment', body: '', want: [] },
  { name: 'prose', body: 'This is a comment about testing.', want: [] },
  { name: 'Nice weather', body: 'Nice weather outside, right?', want: [] },
  { name: '/testing is not a command', body: '/testing', want: [] },
  { name: '/tests is not a command', body: '/tests foo', want: [] },
  { name: 'mid-line /test is not a command', body: 'please /test all', want: [] },
  { name: 'indented /test is not a command', body: ' /test all', want: [] },
  { name: '"not /ok-to-test"', body: 'not /ok-to-test', want: [] },
  { name: '/retested', body: '/retested', want: [] },
  { name: '/helpme', body: '/helpme', want: [] },
  { name: '/help with words', body: '/help me', want: [] },
  { name: '/tracer', body: '/tracer', want: [] },
  { name: 'upper case is not a command', body: '/TEST all\n/Retest', want: [] },
  // /test.
  { name: '/test all', body: '/test all', want: [{ name: 'test-all' }] },
  { name: '/test all,', body: '/test all,', want: [{ name: 'test-all' }] },
  { name: '/test all with trailing words', body: '/test all please', want: [{ name: 'test-all' }] },
  { name: '/test allx is a target', body: '/test allx', want: [{ name: 'test', targets: ['allx'] }] },
  // Words after "/test all" are free text; a job's own trigger may still match them (registry tests).
  { name: '/test all foo', body: '/test all foo', want: [{ name: 'test-all' }] },
  { name: '/test all, then a job line', body: '/test all,\n/test foo', want: [{ name: 'test-all' }, { name: 'test', targets: ['foo'] }] },
  { name: '/test all,foo is neither test-all nor all', body: '/test all,foo', want: [{ name: 'test', targets: ['foo'] }] },
  { name: '/test one job', body: '/test e2e', want: [{ name: 'test', targets: ['e2e'] }] },
  { name: '/test two jobs', body: '/test a b', want: [{ name: 'test', targets: ['a', 'b'] }] },
  { name: '/test a, b', body: '/test a, b', want: [{ name: 'test', targets: ['a', 'b'] }] },
  { name: '/test a,b', body: '/test a,b', want: [{ name: 'test', targets: ['a', 'b'] }] },
  { name: '/test a, trailing comma', body: '/test a,', want: [{ name: 'test', targets: ['a'] }] },
  { name: '/test with a tab', body: '/test\te2e', want: [{ name: 'test', targets: ['e2e'] }] },
  { name: '/test dotted job name', body: '/test kata.e2e_1-x', want: [{ name: 'test', targets: ['kata.e2e_1-x'] }] },
  { name: 'duplicate targets collapse', body: '/test a a\n/test a b', want: [{ name: 'test', targets: ['a', 'b'] }] },
  { name: '/test ?', body: '/test ?', want: [{ name: 'test-help', reason: 'question' }] },
  { name: '/test?', body: '/test?', want: [{ name: 'test-help', reason: 'question' }] },
  { name: 'bare /test', body: '/test', want: [{ name: 'test-help', reason: 'empty' }] },
  { name: 'bare /test with trailing blanks', body: '/test  \t', want: [{ name: 'test-help', reason: 'empty' }] },
  { name: 'bare /test then ? on the next line (Prow case)', body: '/test \r\n?', want: [{ name: 'test-help', reason: 'empty' }] },
  { name: '/test ? wins over a bare /test', body: '/test\n/test ?', want: [{ name: 'test-help', reason: 'question' }] },
  { name: '/test ? and a job', body: '/test ?\n/test e2e', want: [{ name: 'test-help', reason: 'question' }, { name: 'test', targets: ['e2e'] }] },
  // /retest.
  { name: '/retest', body: '/retest', want: [{ name: 'retest' }] },
  { name: '/retest trailing space and CR', body: '/retest \r', want: [{ name: 'retest' }] },
  { name: '/retest FOO', body: '/retest FOO', want: [{ name: 'retest-with-target', target: 'FOO' }] },
  { name: '/retest a b keeps the first', body: '/retest a b\n/retest c', want: [{ name: 'retest-with-target', target: 'a' }] },
  { name: '/retest then another command (Prow case)', body: '/retest \r\n/other-command', want: [{ name: 'retest' }] },
  { name: '/retest-required', body: '/retest-required', want: [{ name: 'retest-required' }] },
  { name: '/retest-required x is nothing', body: '/retest-required x', want: [] },
  { name: '/test-manual-required', body: '/test-manual-required', want: [{ name: 'test-manual-required' }] },
  { name: '/test-manual-required with trailing blanks', body: '/test-manual-required  \nthanks', want: [{ name: 'test-manual-required' }] },
  { name: '/test-manual-required x is nothing', body: '/test-manual-required x', want: [] },
  // /ok-to-test.
  { name: '/ok-to-test', body: 'looks great, thanks!\n/ok-to-test', want: [{ name: 'ok-to-test' }] },
  { name: '/ok-to-test trailing space', body: 'looks great, thanks!\n/ok-to-test \r', want: [{ name: 'ok-to-test' }] },
  { name: '/ok-to-test cancel', body: '/ok-to-test cancel', want: [{ name: 'ok-to-test-cancel' }] },
  { name: '/ok-to-test  cancel', body: '/ok-to-test \t cancel ', want: [{ name: 'ok-to-test-cancel' }] },
  { name: 'cancel on the next line is a cancel (Prow regex)', body: '/ok-to-test\ncancel', want: [{ name: 'ok-to-test-cancel' }] },
  { name: 'ok-to-test and cancel: cancel wins', body: '/ok-to-test\n/ok-to-test cancel', want: [{ name: 'ok-to-test-cancel' }] },
  { name: '/ok-to-test please is nothing', body: '/ok-to-test please', want: [] },
  { name: '/ok-to-test-tdx', body: '/ok-to-test-tdx', want: [{ name: 'ok-to-test-tdx' }] },
  { name: '/ok-to-test-tdx is not /ok-to-test', body: '/ok-to-test-tdx \n', want: [{ name: 'ok-to-test-tdx' }] },
  // /trace and /help.
  { name: '/trace', body: '/trace', want: [{ name: 'trace', targets: [] }] },
  { name: '/trace jobs', body: '/trace a, b', want: [{ name: 'trace', targets: ['a', 'b'] }] },
  { name: '/trace twice', body: '/trace\n/trace a\n/trace b a', want: [{ name: 'trace', targets: ['a', 'b'] }] },
  { name: '/trace --probe list', body: '/trace --probe dns,tcp', want: [{ name: 'trace', targets: [], probes: ['dns', 'tcp'] }] },
  { name: '/trace --probe list and jobs', body: '/trace --probe dns,tcp e2e-a, e2e-b', want: [{ name: 'trace', targets: ['e2e-a', 'e2e-b'], probes: ['dns', 'tcp'] }] },
  { name: '/trace jobs then --probe=', body: '/trace e2e-a --probe=syscount@1.2.0', want: [{ name: 'trace', targets: ['e2e-a'], probes: ['syscount@1.2.0'] }] },
  { name: '/trace --probe twice merges', body: '/trace --probe dns a\n/trace --probe tcp,dns b', want: [{ name: 'trace', targets: ['a', 'b'], probes: ['dns', 'tcp'] }] },
  { name: '/trace --probe drops what is not a package name', body: '/trace --probe DNS,../x,tcp', want: [{ name: 'trace', targets: [], probes: ['tcp'] }] },
  { name: '/trace --probe without a list is a plain /trace', body: '/trace --probe', want: [{ name: 'trace', targets: [] }] },
  { name: '/help', body: '/help', want: [{ name: 'help' }] },
  { name: '/help with trailing blanks', body: '/help  ', want: [{ name: 'help' }] },
  // Several commands.
  {
    name: 'several commands in registry order',
    body: '/help\n/ok-to-test\n/retest\n/test a\n/trace a',
    want: [{ name: 'test', targets: ['a'] }, { name: 'retest' }, { name: 'ok-to-test' }, { name: 'trace', targets: ['a'] }, { name: 'help' }],
  },
  { name: 'repeated commands collapse', body: '/retest\n/retest\n/help\n/help', want: [{ name: 'retest' }, { name: 'help' }] },
  // Code blocks, quotes, comments (Prow's code-block cases).
  { name: '/test ? in a code block', body: codeBlock('/test ?', false), want: [] },
  { name: 'bare /test in a code block', body: `${F}\n/test\n${F}`, want: [] },
  { name: 'bare /test in a tilde block', body: '~~~\n/test\n~~~', want: [] },
  { name: '/retest FOO in a code block', body: codeBlock('/retest FOO', false), want: [] },
  { name: '/test FOO in a code block', body: codeBlock('/test FOO', false), want: [] },
  { name: 'one in a block, one not', body: codeBlock('/test FOO', true) + '/test BAR', want: [{ name: 'test', targets: ['BAR'] }] },
  { name: 'one out, one in a block', body: '/test FOO\n' + codeBlock('/test BAR', false), want: [{ name: 'test', targets: ['FOO'] }] },
  {
    name: 'several code blocks',
    body: codeBlock('/test FOO', true) + codeBlock('/test BAR', true) + codeBlock('/test BAZ', false),
    want: [],
  },
  {
    name: '/test mixed with code blocks',
    body: codeBlock('/test FOO', true) + codeBlock('/test BAR', true) + '/test BAZ\nWill trigger the help message.\n' + codeBlock('/test QUX', false),
    want: [{ name: 'test', targets: ['BAZ'] }],
  },
  { name: '/test all in a code block', body: codeBlock('/test all', false), want: [] },
  { name: 'nested fences', body: '````\n```\n/test a\n```\n/retest\n````\n/help', want: [{ name: 'help' }] },
  { name: 'unclosed fence', body: '/help\n```\n/retest', want: [{ name: 'help' }] },
  { name: 'quoted command', body: '> /ok-to-test\nthanks', want: [] },
  { name: 'quote then a command', body: '> /retest\n/test all', want: [{ name: 'test-all' }] },
  { name: 'command in an HTML comment', body: '<!-- /ok-to-test -->', want: [] },
  { name: 'command in a multi-line HTML comment', body: '<!--\n/ok-to-test\n-->', want: [] },
  { name: 'command right after a comment', body: '<!-- x -->/ok-to-test', want: [] },
  { name: 'command after a comment line', body: '<!-- x -->\n/ok-to-test', want: [{ name: 'ok-to-test' }] },
  // Line endings and odd characters.
  { name: 'CRLF', body: 'hi\r\n/test a\r\n/retest\r\n', want: [{ name: 'test', targets: ['a'] }, { name: 'retest' }] },
  { name: 'fullwidth solidus', body: '\uFF0Ftest all\n\uFF0Fretest', want: [] },
  { name: 'division slash', body: '\u2215test all', want: [] },
  { name: 'fraction slash', body: '\u2044retest', want: [] },
  { name: 'big solidus', body: '\u29F8ok-to-test', want: [] },
  { name: 'zero-width space before slash', body: '\u200B/retest', want: [] },
  { name: 'zero-width space inside', body: '/re\u200Btest', want: [] },
  { name: 'BOM before slash', body: '\uFEFF/ok-to-test', want: [] },
  { name: 'no-break space is not a separator', body: '/retest\u00A0', want: [] },
  { name: 'U+2028 is not a line break', body: 'x\u2028/retest', want: [] },
  { name: 'U+2029 after a command', body: '/retest\u2029', want: [] },
  { name: 'Cyrillic look-alike letters', body: '/t\u0435st all', want: [] },
  { name: 'NUL and control characters', body: '\u0000/retest\n/test\u0001 a\n/help\u0007', want: [] },
  { name: 'form feed is Go whitespace', body: '/retest\f', want: [{ name: 'retest' }] },
  { name: 'vertical tab is not Go whitespace', body: '/retest\v', want: [] },
];

describe('parseCommands', () => {
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(parseCommands(c.body), c.want));
  }

  it('caps targets per comment', () => {
    const body = '/test ' + Array.from({ length: 500 }, (_, i) => `job-${i}`).join(' ');
    const [cmd] = parseCommands(body);
    assert.equal(cmd?.name, 'test');
    assert.equal(cmd?.name === 'test' ? cmd.targets.length : 0, MAX_TARGETS);
  });

  it('handles a 200 KB body with a command at the end', () => {
    const filler = 'lorem ipsum /test all dolor `x` <!-- c --> > q\n'.repeat(4500);
    assert.ok(filler.length > 200_000);
    assert.deepEqual(parseCommands(filler + '/retest'), [{ name: 'retest' }]);
  });

  it('handles a 200 KB single line of spaces after /test', () => {
    const body = '/test' + ' '.repeat(200_000) + 'x';
    assert.deepEqual(parseCommands(body), [{ name: 'test', targets: ['x'] }]);
  });

  it('handles 200 KB of command lines', () => {
    const body = '/test a\n/retest\n/ok-to-test cancel\n'.repeat(8000);
    assert.ok(body.length > 200_000);
    assert.deepEqual(parseCommands(body), [{ name: 'test', targets: ['a'] }, { name: 'retest' }, { name: 'ok-to-test-cancel' }]);
  });

  it('handles 200 KB inside an unclosed fence', () => {
    assert.deepEqual(parseCommands('/help\n```\n' + '/test all\n'.repeat(25_000)), [{ name: 'help' }]);
  });
});
