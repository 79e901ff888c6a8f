// Go RE2 → JavaScript translation.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { goRegex, goRegexProblem, translateGoRegex } from '../../../src/jobs/regex.ts';

describe('goRegex matches as Go would', () => {
  const cases: Array<{ re: string; text: string; want: boolean }> = [
    { re: '(?m)^/test-gpu\\s*$', text: 'hi\n/test-gpu\n', want: true },
    { re: '^/test-gpu\\s*$', text: 'hi\n/test-gpu\n', want: false },
    { re: '(?i)^MAIN$', text: 'main', want: true },
    { re: '(?is)a.b', text: 'A\nB', want: true },
    { re: '(?P<name>x)y', text: 'xy', want: true },
    { re: 'a(?i)b', text: 'aB', want: true },
    { re: 'a(?i)b', text: 'AB', want: false },
    { re: 'a(?i)b|c', text: 'C', want: true },
    { re: 'a(?i)b|c', text: 'aC', want: true },
    { re: '(x(?i)y)z', text: 'xYz', want: true },
    { re: '(x(?i)y)z', text: 'xYZ', want: false },
    { re: '(?i:ab)c', text: 'ABc', want: true },
    { re: 'x\\z', text: 'x\n', want: false },
    { re: '(?m)x\\z', text: 'x\ny', want: false },
    { re: '\\Ax', text: 'yx', want: false },
    { re: '[[:digit:]]+\\.[[:alpha:]]', text: '12.a', want: true },
    { re: '[[:upper:]]', text: 'abc', want: false },
    { re: '\\Qa.b\\E', text: 'aXb', want: false },
    { re: '\\Qa.b\\E', text: 'a.b', want: true },
    { re: '[]a]', text: ']', want: true },
    { re: '^src/(dragonball|runtime-rs)/', text: 'src/runtime-rs/x', want: true },
    { re: '\\.md$', text: 'README.md', want: true },
  ];
  for (const c of cases) it(`${c.re} ~ ${JSON.stringify(c.text)}`, () => assert.equal(goRegex(c.re).test(c.text), c.want));
});

describe('goRegexProblem rejects what Go RE2 rejects', () => {
  const bad = ['(?=x)', '(?!x)', '(?<=x)', '(?<!x)', '(a)\\1', '\\pL', 'a(', 'a)', '[a', '\\', '[[:^alpha:]]', '[[:nope:]]', '(?x)a'];
  for (const re of bad) it(JSON.stringify(re), () => assert.notEqual(goRegexProblem(re), undefined));
  const good = ['', 'a|b', '(?m)^/test( | .* )e2e-kata-qemu,?($|\\s.*)', '\\012', 'a{2,3}', '(?U)a*', '(?:x)'];
  for (const re of good) it(`accepts ${JSON.stringify(re)}`, () => assert.equal(goRegexProblem(re), undefined));
});

describe('translateGoRegex', () => {
  it('leading flags become JS flags', () => assert.deepEqual(translateGoRegex('(?m)(?i)^a'), { source: '^a', flags: 'im' }));
  it('mid-pattern flags become a modifier group', () => assert.deepEqual(translateGoRegex('a(?i)b'), { source: 'a(?i:b)', flags: '' }));
  it('never sets g or y', () => assert.equal(goRegex('a', 'gy').flags, ''));
});
