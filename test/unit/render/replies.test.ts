import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { COMMANDS, commandText, parseCommands } from '../../../src/commands/registry.ts';
import {
  ABOUT_THIS_BOT,
  cancelUntrustedReply,
  code,
  commandsHelp,
  draftNotice,
  formatResponse,
  HELP_NOTES,
  jobListHelp,
  MAX_QUOTE_CHARS,
  okToTestIgnoredReply,
  tdxBlockedReply,
  tdxNotApproverReply,
  tdxUntrustedPrReply,
  traceUntrustedReply,
  unknownTargetsReply,
  untrustedReply,
  welcomeMessage,
} from '../../../src/render/replies.ts';
import { MARKERS, withMarker } from '../../../src/render/markers.ts';

describe('formatResponse (Prow FormatResponseRaw)', () => {
  it('has Prow shape', () => {
    const got = formatResponse('alice', 'Done.', 'https://github.com/o/r/pull/1#issuecomment-2', '/test all\nthanks');
    assert.equal(
      got,
      '@alice: Done.\n\n<details>\n\nIn response to [this](https://github.com/o/r/pull/1#issuecomment-2):\n\n>/test all\n>thanks\n\n\n' +
        ABOUT_THIS_BOT +
        '\n</details>',
    );
  });

  it('quotes CRLF bodies line by line', () => {
    assert.match(formatResponse('a', 'r', 'u', 'x\r\ny'), /\n>x\n>y\n/);
  });

  it('defuses mentions in the quote', () => {
    const got = formatResponse('alice', 'r', 'u', 'cc @bob @org/team email@example.com');
    assert.ok(!/(^|\s)@bob/.test(got.split('<details>')[1] ?? ''));
    assert.ok(got.includes('@\u200bbob'));
    assert.ok(got.includes('@\u200borg/team'));
    assert.ok(got.includes('email@example.com'));
    assert.ok(got.startsWith('@alice: '));
  });

  it('cuts a huge quote', () => {
    const got = formatResponse('a', 'r', 'u', 'x'.repeat(200_000));
    assert.ok(got.length < MAX_QUOTE_CHARS + 1000);
    assert.ok(got.includes('…'));
  });

  it('the reply and quote never parse as commands', () => {
    const body = formatResponse('alice', untrustedReply({ ignoreOkToTest: false }), 'u', '/test all\n/ok-to-test');
    assert.deepEqual(parseCommands(body), []);
  });
});

describe('jobListHelp (Prow HelpMessage)', () => {
  const helpComment = 'The following commands are available to trigger required jobs:\n```\n/test jib\n```\n```\n/test job\n```\n\n';
  const cases: Array<{ name: string; input: Parameters<typeof jobListHelp>[0]; contains: string }> = [
    {
      name: 'all jobs are automatic',
      input: { org: 'o', repo: 'r', branch: 'main', required: ['/test job', '/test jib'], optional: [], automatic: ['job', 'jib'] },
      contains: helpComment + 'Use `/test all` to run all jobs.',
    },
    {
      name: 'some jobs are automatic',
      input: { org: 'o', repo: 'r', branch: 'main', required: ['/test job', '/test jib'], optional: [], automatic: ['job'] },
      contains: helpComment + 'Use `/test all` to run the following jobs that were automatically triggered:\n```\njob\n```',
    },
    {
      name: 'no automatic jobs, with a note',
      input: { org: 'o', repo: 'r', branch: 'main', required: ['/test job', '/test jib'], optional: [], automatic: [], reason: HELP_NOTES.noTestAllJobs },
      contains: 'No jobs can be run with `/test all`.\n' + helpComment.trimEnd(),
    },
    {
      name: 'optional and required jobs',
      input: { org: 'o', repo: 'r', branch: 'main', required: ['/test job', '/test jib'], optional: ['/test jub'], automatic: ['job', 'jib', 'jub'] },
      contains: helpComment + 'The following commands are available to trigger optional jobs:\n```\n/test jub\n```\n\nUse `/test all` to run all jobs.',
    },
    {
      name: 'custom rerun commands, deduplicated and sorted',
      input: { org: 'o', repo: 'r', branch: 'main', required: ['/rerun_command', '/command_foo', '/rerun_command'], optional: [], automatic: ['jub', 'jib'] },
      contains: 'The following commands are available to trigger required jobs:\n```\n/command_foo\n```\n```\n/rerun_command\n```\n\nUse `/test all` to run all jobs.',
    },
    {
      name: 'bare job names become /test commands',
      input: { org: 'o', repo: 'r', branch: 'main', required: ['job', 'jib'], optional: [], automatic: ['job', 'jib'] },
      contains: helpComment,
    },
    {
      name: 'target-not-found note',
      input: { org: 'o', repo: 'r', branch: 'main', required: ['/test job', '/test jib'], optional: [], automatic: ['job'], reason: HELP_NOTES.targetNotFound },
      contains: 'The specified target(s) for `/test` were not found.\n' + helpComment,
    },
    {
      name: 'a note without a newline gets one',
      input: { org: 'o', repo: 'r', branch: 'main', required: ['/test job'], optional: [], automatic: [], reason: 'Note.' },
      contains: 'Note.\nThe following commands',
    },
    {
      name: 'no jobs at all',
      input: { org: 'kata-containers', repo: 'kata-containers', branch: 'main', required: [], optional: [], automatic: [], reason: HELP_NOTES.testWithoutTarget },
      contains: 'No presubmit jobs available for kata-containers/kata-containers@main',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = jobListHelp(c.input);
      assert.ok(got.includes(c.contains), got);
    });
  }

  it('its command lists are in code blocks, so the bot never triggers itself', () => {
    const got = jobListHelp({ org: 'o', repo: 'r', branch: 'main', required: ['/test job'], optional: ['/test jub'], automatic: ['job'] });
    assert.deepEqual(parseCommands(got), []);
  });
});

describe('replies', () => {
  const all: Array<{ name: string; text: string; contains: string }> = [
    { name: 'welcome', text: welcomeMessage({ author: 'newbie', org: 'kata-containers', ignoreOkToTest: false }), contains: "Hi @newbie. Thanks for your PR.\n\nI'm waiting for a [kata-containers](https://github.com/orgs/kata-containers/people) member to verify that this patch is reasonable to test. If it is, they should reply with `/ok-to-test` on its own line." },
    { name: 'welcome names the label', text: welcomeMessage({ author: 'newbie', org: 'kata-containers', ignoreOkToTest: false }), contains: 'the new status will be reflected by the `ok-to-test` label' },
    { name: 'welcome with a join URL and host', text: welcomeMessage({ author: 'n', org: 'o', ignoreOkToTest: false, host: 'ghe.example.org', joinOrgUrl: 'https://example.org/join' }), contains: '[o](https://ghe.example.org/orgs/o/people) member' },
    { name: 'welcome with ignore_ok_to_test', text: welcomeMessage({ author: 'newbie', org: 'o', ignoreOkToTest: true }), contains: 'PRs from untrusted users cannot be marked as trusted with `/ok-to-test` in this repo' },
    { name: 'untrusted', text: untrustedReply({ ignoreOkToTest: false }), contains: 'Cannot trigger testing until a trusted user reviews the PR and leaves an `/ok-to-test` message.' },
    { name: 'untrusted with org', text: untrustedReply({ ignoreOkToTest: false, org: 'kata-containers' }), contains: 'A member of `kata-containers` can do that.' },
    { name: 'untrusted with ignore_ok_to_test', text: untrustedReply({ ignoreOkToTest: true }), contains: 'Collaborators can still trigger tests on the PR using `/test`.' },
    { name: 'ok-to-test ignored', text: okToTestIgnoredReply(), contains: '`/ok-to-test` is disabled in this repo' },
    { name: 'cancel untrusted', text: cancelUntrustedReply(), contains: 'Only trusted users can revoke `/ok-to-test`.' },
    { name: 'tdx not approver', text: tdxNotApproverReply(['alice', 'bob']), contains: 'The TDX approvers are: `alice`, `bob`.' },
    { name: 'tdx not approver, none configured', text: tdxNotApproverReply([]), contains: 'No TDX approvers are configured' },
    { name: 'tdx untrusted PR', text: tdxUntrustedPrReply(), contains: 'TDX jobs only run on trusted PRs' },
    {
      name: 'tdx blocked, never approved',
      text: tdxBlockedReply(['e2e-tdx'], 'ok-to-test-tdx', { sha: 'abcdef0123456789', approvers: ['alice'], stale: false }),
      contains: 'were not started: `e2e-tdx`. They need a TDX approver\'s `/ok-to-test-tdx` (or the `ok-to-test-tdx` label) for this commit, `abcdef0`. The TDX approvers are: `alice`.',
    },
    {
      name: 'tdx blocked, approved for an earlier commit',
      text: tdxBlockedReply(['e2e-tdx'], 'ok-to-test-tdx', { sha: 'abcdef0123456789', approvers: [], stale: true }),
      contains: 'was given for an earlier commit, and approval is per commit: a TDX approver needs to say `/ok-to-test-tdx` again for `abcdef0`. No TDX approvers are configured',
    },
    { name: 'trace untrusted', text: traceUntrustedReply(), contains: '`/trace` runs a privileged tracer' },
    { name: 'draft', text: draftNotice(), contains: 'Skipping CI for Draft Pull Request.\nIf you want CI signal for your change, please convert it to an actual PR.\nYou can still manually trigger a test run with `/test all`' },
  ];
  for (const c of all) {
    it(c.name, () => {
      assert.ok(c.text.includes(c.contains), c.text);
      assert.doesNotMatch(c.text, /<!-- katabot:/, 'texts carry no marker: the comment gets exactly one when posted');
      assert.deepEqual(parseCommands(c.text), [], 'a bot reply must not parse as a command');
    });
  }

  it('tdx not approver does not @-mention the approvers', () => {
    assert.ok(!tdxNotApproverReply(['alice']).includes('@alice'));
  });

  it('markers are distinct hidden HTML comments', () => {
    const values = [MARKERS.reply('d1:comment:help'), MARKERS.reply('o/r#1:untrusted'), MARKERS.welcome(), MARKERS.draft('d1')];
    assert.equal(new Set(values).size, values.length);
    for (const m of values) {
      assert.match(m, /^<!-- katabot:[a-z-]+( [^ ]+)? -->$/);
      assert.equal(commandText(m), '');
    }
  });

  it('a posted reply carries exactly one marker, on its last line', () => {
    const posted = withMarker(formatResponse('alice', untrustedReply({ ignoreOkToTest: false }), 'u', '/test all'), MARKERS.reply('d1:comment:untrusted'));
    assert.equal(posted.match(/<!-- katabot:/g)?.length, 1);
    assert.ok(posted.endsWith('\n<!-- katabot:reply d1:comment:untrusted -->'));
    assert.deepEqual(parseCommands(posted), []);
  });
});

describe('unknownTargetsReply', () => {
  it('names the closest jobs', () => {
    const got = unknownTargetsReply(['e2e-kata-qemo', 'zzz'], { 'e2e-kata-qemo': ['e2e-kata-qemu'], zzz: [] });
    assert.ok(got.includes('- `e2e-kata-qemo`: did you mean `e2e-kata-qemu`?'), got);
    assert.ok(got.includes('- `zzz`: no similar job'), got);
    assert.ok(got.includes('nothing was started'));
    assert.ok(got.includes('Use `/test ?`'), 'without the job lists, points to them');
  });

  it("lists the available required and optional jobs as Prow's reply does", () => {
    const got = unknownTargetsReply(['e2e-kata-qemo'], { 'e2e-kata-qemo': ['e2e-kata-qemu'] }, { org: 'o', repo: 'r', branch: 'main', required: ['e2e-kata-qemu'], optional: ['docs-lint'], automatic: ['e2e-kata-qemu'] });
    assert.ok(got.startsWith('The specified target(s) for `/test` were not found'), got);
    assert.ok(got.includes('did you mean `e2e-kata-qemu`?'));
    assert.ok(got.includes('The following commands are available to trigger required jobs:\n```\n/test e2e-kata-qemu\n```'), got);
    assert.ok(got.includes('The following commands are available to trigger optional jobs:\n```\n/test docs-lint\n```'), got);
    assert.deepEqual(parseCommands(got), [], 'the lists are in code blocks');
  });

  it('is safe with backticks, mentions and prototype keys', () => {
    const got = unknownTargetsReply(['a`b', '@team', '__proto__'], {});
    assert.ok(got.includes('``a`b``'), got);
    assert.ok(got.includes('`@team`'));
    assert.ok(got.includes('`__proto__`: no similar job'));
  });

  it('lists at most 20', () => {
    const unknown = Array.from({ length: 30 }, (_, i) => `job-${i}`);
    const got = unknownTargetsReply(unknown, {});
    assert.ok(got.includes('- and 10 more'));
    assert.ok(!got.includes('job-25'));
  });
});

describe('commandsHelp', () => {
  const got = commandsHelp(COMMANDS);

  it('is a table with every command', () => {
    assert.ok(got.includes('| Command | What it does | Who can use it | Examples |'));
    for (const c of COMMANDS) assert.ok(got.includes(code(c.usage).replaceAll('|', '\\|')), c.usage);
    assert.equal(got.split('\n').filter((l) => l.startsWith('| `')).length, COMMANDS.length);
  });

  it('states who can use the privileged commands', () => {
    assert.ok(got.includes('Only the configured TDX approvers'));
    assert.ok(got.includes('the tracer is privileged'));
  });

  it('escapes pipes in cells', () => {
    const table = commandsHelp([{ ...COMMANDS[0]!, usage: '/x a|b', description: 'p|q' }]);
    assert.ok(table.includes('`/x a\\|b`'));
    assert.ok(table.includes('p\\|q'));
  });

  it('carries no commands', () => {
    assert.deepEqual(parseCommands(got), []);
  });
});

describe('code', () => {
  const cases: Array<[string, string]> = [
    ['a', '`a`'],
    ['a`b', '``a`b``'],
    ['`a', '`` `a ``'],
    ['a\nb', '`a b`'],
  ];
  for (const [input, want] of cases) it(JSON.stringify(input), () => assert.equal(code(input), want));
});
