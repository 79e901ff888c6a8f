import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { COMMANDS, commandText, defaultRerunCommand, defaultTrigger, goTriggerToRegExp, GoRegExpError, parseCommands } from '../../../src/commands/registry.ts';

describe('COMMANDS', () => {
  it('has one spec per command file, uniquely named', () => {
    assert.deepEqual(
      COMMANDS.map((c) => c.name),
      ['test', 'retest', 'retest-required', 'test-manual-required', 'ok-to-test', 'ok-to-test-tdx', 'trace', 'help'],
    );
  });

  for (const spec of COMMANDS) {
    it(`${spec.name}: help fields are filled and every example parses`, () => {
      assert.ok(spec.usage.startsWith('/'));
      assert.ok(spec.description.length > 10);
      assert.ok(spec.whoCanUse.length > 3);
      assert.ok(spec.examples.length > 0);
      assert.equal(typeof spec.featured, 'boolean');
      for (const ex of spec.examples) assert.notDeepEqual(spec.parse(commandText(ex)), [], ex);
    });
  }
});

describe('defaultTrigger (Prow DefaultTriggerFor)', () => {
  const cases: Array<{ job: string; body: string; want: boolean }> = [
    { job: 'job', body: '/test job', want: true },
    { job: 'job', body: '/test job,', want: true },
    { job: 'job', body: '/test job ', want: true },
    { job: 'job', body: '/test job\nthanks', want: true },
    { job: 'job', body: '/test job\r\n', want: true },
    { job: 'job', body: '/test other job', want: true },
    { job: 'job', body: '/test other, job', want: true },
    { job: 'job', body: '/test job other', want: true },
    { job: 'job', body: '/test job, other', want: true },
    { job: 'job', body: '/test all job', want: true },
    { job: 'job', body: 'hi\n/test job', want: true },
    { job: 'job', body: '/test jobs', want: false },
    { job: 'job', body: '/test ajob', want: false },
    { job: 'job', body: '/test job-x', want: false },
    { job: 'job', body: '/test other,job', want: false },
    { job: 'job', body: '/testjob', want: false },
    { job: 'job', body: '/test\tjob', want: false },
    { job: 'job', body: ' /test job', want: false },
    { job: 'job', body: 'please /test job', want: false },
    { job: 'job', body: '/test all', want: false },
    { job: 'job', body: '/retest job', want: false },
    { job: 'job', body: '/test job\u00a0', want: false }, // NBSP is not Go whitespace
    { job: 'job', body: '/test \u00a0job', want: false },
    { job: 'e2e.kata', body: '/test e2e.kata', want: true },
    { job: 'e2e.kata', body: '/test e2eXkata', want: false }, // the dot is escaped
    { job: 'a+b', body: '/test a+b', want: true },
    { job: 'a+b', body: '/test aab', want: false },
  ];
  for (const c of cases) {
    it(`${c.job} vs ${JSON.stringify(c.body)} → ${c.want}`, () => assert.equal(defaultTrigger(c.job).test(c.body), c.want));
  }

  it('the default rerun command matches the default trigger (Prow validation)', () => {
    for (const job of ['e2e-kata-qemu', 'a.b', 'x_y-1']) assert.ok(defaultTrigger(job).test(defaultRerunCommand(job)));
  });

  it('is fast on a 200 KB line', () => {
    const body = '/test ' + 'x '.repeat(100_000) + 'job';
    assert.equal(defaultTrigger('job').test(body), true);
    assert.equal(defaultTrigger('nope').test(body), false);
  });
});

describe('goTriggerToRegExp', () => {
  const cases: Array<{ name: string; trigger: string; body: string; want: boolean }> = [
    // Prow's test triggers.
    { name: 'old default trigger', trigger: '(?m)^/test (?:.*? )?jib(?: .*?)?$', body: '/test jib', want: true },
    { name: 'old default trigger, later word', trigger: '(?m)^/test (?:.*? )?jib(?: .*?)?$', body: 'x\n/test a jib b', want: true },
    { name: 'old default trigger, other job', trigger: '(?m)^/test (?:.*? )?jib(?: .*?)?$', body: '/test jab', want: false },
    { name: 'exact trigger', trigger: '(?m)^/test job$', body: '/test job', want: true },
    { name: 'exact trigger, extra', trigger: '(?m)^/test job$', body: '/test job x', want: false },
    { name: 'silly trigger (no flags, unanchored)', trigger: 'Nice weather outside, right?', body: 'Nice weather outside, right?', want: true },
    { name: 'unanchored search', trigger: '/rerun_command', body: 'please /rerun_command now', want: true },
    // Flags.
    { name: '(?i)', trigger: '(?i)^/test foo$', body: '/TEST Foo', want: true },
    { name: '(?mi)', trigger: '(?mi)^/test foo$', body: 'x\n/Test FOO\ny', want: true },
    { name: '(?im) twice', trigger: '(?i)(?m)^/test foo$', body: 'x\n/TEST foo', want: true },
    { name: 'no m: ^ is the start of text', trigger: '^/test foo', body: 'x\n/test foo', want: false },
    { name: 'no m: $ is the end of text only', trigger: '^/test foo$', body: '/test foo\n', want: false },
    { name: 'mid-pattern (?i) holds to the group end', trigger: 'a(?i)b', body: 'aB', want: true },
    { name: 'mid-pattern (?i) does not reach back', trigger: 'a(?i)b', body: 'AB', want: false },
    { name: 'mid-pattern (?i) spans alternation', trigger: '^(?:a(?i)b|c)$', body: 'C', want: true },
    { name: 'mid-pattern (?i) ends with its group', trigger: '^(a(?i)b)c$', body: 'aBC', want: false },
    { name: '(?i:…) group', trigger: '^(?i:b)c$', body: 'Bc', want: true },
    { name: '(?i:…) group is scoped', trigger: '^(?i:b)c$', body: 'BC', want: false },
    { name: '(?-i:…) inside (?i)', trigger: '(?i)^a(?-i:b)$', body: 'Ab', want: true },
    { name: '(?-i:…) inside (?i), wrong case', trigger: '(?i)^a(?-i:b)$', body: 'AB', want: false },
    { name: '(?s) dot matches newline', trigger: '(?s)^a.b$', body: 'a\nb', want: true },
    { name: 'dot does not match newline', trigger: '^a.b$', body: 'a\nb', want: false },
    { name: 'Go dot matches CR', trigger: '^a.b$', body: 'a\rb', want: true },
    { name: 'Go dot matches U+2028', trigger: '^a.b$', body: 'a\u2028b', want: true },
    // Escapes and classes.
    { name: '\\s is ASCII', trigger: '^a\\sb$', body: 'a\u00a0b', want: false },
    { name: '\\s matches tab', trigger: '^a\\sb$', body: 'a\tb', want: true },
    { name: '\\S matches NBSP', trigger: '^a\\Sb$', body: 'a\u00a0b', want: true },
    { name: '\\A with m', trigger: '(?m)\\Afoo', body: 'x\nfoo', want: false },
    { name: '\\z with m', trigger: '(?m)foo\\z', body: 'foo\nx', want: false },
    { name: '\\z at the end', trigger: '(?m)foo\\z', body: 'x\nfoo', want: true },
    { name: '\\Q…\\E', trigger: '^\\Q.*+\\E$', body: '.*+', want: true },
    { name: '\\Q…\\E is literal', trigger: '^\\Q.*\\E$', body: 'ab', want: false },
    { name: 'POSIX class', trigger: '^[[:digit:]]+$', body: '123', want: true },
    { name: 'POSIX class rejects', trigger: '^[[:digit:]]+$', body: '12a', want: false },
    { name: 'leading ] in a class', trigger: '^[]a]+$', body: ']a]', want: true },
    { name: 'negated class with leading ]', trigger: '^[^]a]$', body: 'b', want: true },
    { name: 'named group (?P<n>)', trigger: '^(?P<job>[a-z]+)$', body: 'abc', want: true },
    { name: 'octal escape', trigger: '^\\101$', body: 'A', want: true },
    { name: '\\x{…} escape', trigger: '^\\x{41}\\x42$', body: 'AB', want: true },
    { name: 'astral \\x{…} with a quantifier', trigger: '^\\x{1F600}+$', body: '\u{1F600}\u{1F600}', want: true },
    { name: 'astral literal with a quantifier', trigger: '^\u{1F600}+$', body: '\u{1F600}\u{1F600}', want: true },
    { name: '{ that is not a repeat is literal', trigger: '^a{,2}$', body: 'a{,2}', want: true },
    { name: 'repeat', trigger: '^a{2,3}$', body: 'aaa', want: true },
    { name: 'slash needs no escape', trigger: '^/a/b$', body: '/a/b', want: true },
  ];
  for (const c of cases) {
    it(`${c.name}: ${JSON.stringify(c.trigger)}`, () => assert.equal(goTriggerToRegExp(c.trigger).test(c.body), c.want));
  }

  it('turns leading flags into JS flags', () => {
    const re = goTriggerToRegExp('(?mi)^/test foo$');
    assert.equal(re.flags, 'im');
    assert.equal(re.global, false);
  });

  it('(?U) swaps greediness', () => {
    assert.equal(goTriggerToRegExp('(?U)a+').exec('aaa')?.[0], 'a');
    assert.equal(goTriggerToRegExp('(?U)a+?').exec('aaa')?.[0], 'aaa');
    assert.equal(goTriggerToRegExp('a+').exec('aaa')?.[0], 'aaa');
  });

  const invalid = ['(?=x)', '(?!x)', '(?<=x)', '(?<!x)', 'a\\1', '\\pL', '\\p{Greek}', '(a', 'a)', '*a', 'a**', '(?x)a', '[a', 'a\\', '\\q', 'a{1001}', '[[:nope:]]'];
  for (const t of invalid) {
    it(`rejects ${JSON.stringify(t)}`, () => assert.throws(() => goTriggerToRegExp(t), GoRegExpError));
  }
});

describe('registry with custom triggers', () => {
  it('a job trigger matches command text, not code', () => {
    const trigger = goTriggerToRegExp('(?m)^/test (?:.*? )?jib(?: .*?)?$');
    assert.equal(trigger.test(commandText('```\n/test jib\n```')), false);
    assert.equal(trigger.test(commandText('> /test jib')), false);
    assert.equal(trigger.test(commandText('/test jib')), true);
    assert.deepEqual(parseCommands('/test jib'), [{ name: 'test', targets: ['jib'] }]);
  });
});
