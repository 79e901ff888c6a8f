import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commandText } from '../../../src/commands/markdown.ts';

const FENCE = '```';

// Prow's pkg/markdown/code_block_test.go cases, then katabot's CommonMark additions.
const stay = 'should stay\nthis one should stay as well\nand this one too\n';
const block = `${FENCE}\nshould be filtered out\nthis one should be filtered out as well\nand this one too\n${FENCE}\n`;
const withLang = `${FENCE}shell\nshould be filtered out\n${FENCE}\n`;

const cases: Array<{ name: string; body: string; want: string }> = [
  { name: 'no code block, single line', body: 'should stay', want: 'should stay' },
  { name: 'no code block, multi-line', body: stay, want: stay },
  { name: 'one single-line block', body: `${FENCE}\nshould be filtered out\n${FENCE}`, want: '' },
  { name: 'one multi-line block', body: block, want: '' },
  { name: 'one tilde block', body: block.replaceAll(FENCE, '~~~'), want: '' },
  { name: 'block wrapped with text', body: stay + block + stay, want: stay + stay },
  { name: 'several blocks', body: block + block + block + block, want: '' },
  { name: 'several blocks, no final newline', body: block + block + block.slice(0, -1), want: '' },
  { name: 'block with a language', body: 'should stay\n' + withLang + stay, want: 'should stay\n' + stay },
  // Prow keeps an unclosed block; CommonMark (and katabot) run it to the end of the comment.
  { name: 'unclosed fence runs to the end', body: `${FENCE}\n/test all\nmore`, want: '' },
  { name: 'text after the closing fence stays', body: `${FENCE}\nx\n${FENCE}\n/retest`, want: '/retest' },
  { name: '"``` extra" does not close', body: `${FENCE}\n/test a\n${FENCE} extra\n/test b`, want: '' },
  { name: 'closing fence may have trailing blanks', body: `${FENCE}\n/test a\n${FENCE}  \t\n/test b`, want: '/test b' },
  { name: 'longer closing fence closes', body: `${FENCE}\n/test a\n${'`'.repeat(5)}\n/test b`, want: '/test b' },
  { name: 'shorter fence does not close (nested)', body: '````\n```\n/test a\n```\n````\n/test b', want: '/test b' },
  { name: 'other fence char does not close', body: `~~~\n${FENCE}\n/test a\n~~~\n/test b`, want: '/test b' },
  { name: 'tilde inside backticks is content', body: `${FENCE}\n~~~\n/test a\n${FENCE}\n/test b`, want: '/test b' },
  { name: 'fence indented 3 spaces opens', body: `   ${FENCE}\n/test a\n${FENCE}\n/test b`, want: '/test b' },
  { name: 'fence indented 4 spaces does not open', body: `    ${FENCE}\n/test a`, want: `    ${FENCE}\n/test a` },
  { name: 'closing fence indented up to 3 spaces', body: `${FENCE}\n/test a\n   ${FENCE}\n/test b`, want: '/test b' },
  { name: 'backtick info string with a backtick is inline code', body: '``` `x` ```\n/test a', want: '``` `x` ```\n/test a' },
  { name: 'tilde info string may hold backticks', body: '~~~ `x`\n/test a\n~~~\n/test b', want: '/test b' },
  { name: 'quoted line removed', body: '> /test all\n/retest', want: '/retest' },
  { name: 'quoted line with up to 3 spaces', body: '   > /test all', want: '' },
  { name: 'quoted nested', body: '>> /test all\n> > /ok-to-test', want: '' },
  { name: '4 spaces before > is not a quote', body: '    > x', want: '    > x' },
  { name: 'fence inside a quote ends with the quote', body: `> ${FENCE}\n/test all\n${FENCE}\n/retest`, want: '/test all' },
  { name: 'html comment on its own line', body: '<!-- /test all -->\n/retest', want: '\n/retest' },
  { name: 'multi-line html comment', body: '<!--\n/test all\n-->\n/retest', want: '\n\n/retest' },
  { name: 'unclosed html comment runs to the end', body: 'hi <!--\n/test all', want: 'hi ' },
  { name: 'text after a comment does not start a line', body: '<!-- c -->/test all', want: ' /test all' },
  { name: 'text after a multi-line comment does not start a line', body: '<!--\nx\n-->/test all', want: '\n /test all' },
  { name: 'inline comment after a command', body: '/retest <!-- please -->', want: '/retest ' },
  { name: 'empty comments <!--> and <!--->', body: 'a<!-->b<!--->c', want: 'abc' },
  { name: 'comment opener inside an inline code span', body: 'use `<!--` here\n/retest', want: 'use `<!--` here\n/retest' },
  { name: 'comment inside a fence is code', body: `${FENCE}\n<!--\n${FENCE}\n/retest\n-->`, want: '/retest\n-->' },
  { name: 'fence inside a comment is comment', body: `<!--\n${FENCE}\n-->\n/retest\n${FENCE}\n/test x`, want: '\n\n/retest' },
  { name: 'quoted line does not open a comment', body: '> <!--\n/retest', want: '/retest' },
  { name: 'CRLF normalised', body: '/retest\r\n/test all\r\n', want: '/retest\n/test all\n' },
  { name: 'lone CR is a line ending', body: 'hi\r/retest', want: 'hi\n/retest' },
  { name: 'U+2028 is not a line break', body: 'hi\u2028/retest', want: 'hi\uFFFD/retest' },
  { name: 'CRLF fences', body: `${FENCE}\r\n/test a\r\n${FENCE}\r\n/test b`, want: '/test b' },
];

describe('commandText', () => {
  for (const c of cases) {
    it(c.name, () => assert.equal(commandText(c.body), c.want));
  }

  it('is linear on a 200 KB body of backtick runs and comment openers', () => {
    const line = Array.from({ length: 400 }, (_, i) => '`'.repeat((i % 97) + 1) + ' <!-- ').join('');
    const body = (line + '\n').repeat(Math.ceil(200_000 / line.length));
    const out = commandText(body);
    assert.ok(out.length <= body.length);
  });
});
