// The delivery filter intake and the worker share, over GitHub's own example payloads (@octokit/webhooks-examples),
// one case per row: what needs work and what is acknowledged without being persisted.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { parseKatabotConfig } from '../../../src/config/katabot-config.ts';
import { parseJobConfig } from '../../../src/config/prow-config.ts';
import fc from 'fast-check';
import { commandlessComment, deliveryNeedsWork, deliveryRepo, type RepoContext } from '../../../src/plan/deliveries.ts';
import type { ConfigView } from '../../../src/plan/repo.ts';
import type { ProwConfig } from '../../../src/config/prow-types.ts';
import { JOBS_YAML, KATABOT_YAML } from '../../fixtures/config.ts';

const require = createRequire(import.meta.url);
const examples = require('@octokit/webhooks-examples/api.github.com/index.json') as Array<{ name: string; examples: Array<Record<string, any>> }>;
const example = (event: string, action: string): Record<string, any> => structuredClone(examples.find((e) => e.name === event)!.examples.find((p) => p.action === action)!);

const ctx = (over: Partial<RepoContext> = {}): RepoContext => ({
  botLogin: 'katabot[bot]',
  policy: parseKatabotConfig(KATABOT_YAML, 'katabot.yaml'),
  presubmits: parseJobConfig([{ path: 'jobs.yaml', text: JOBS_YAML }]).presubmits['kata-containers/kata-containers']!,
  inRepoConfig: false,
  ...over,
});

function comment(body: string, over: { user?: string; state?: string; action?: string; pr?: boolean } = {}): Record<string, any> {
  const p = example('issue_comment', 'created');
  p.action = over.action ?? 'created';
  p.comment.body = body;
  p.comment.user.login = over.user ?? 'maintainer';
  p.issue.state = over.state ?? 'open';
  p.issue.pull_request = over.pr === false ? undefined : { url: 'https://api.github.com/repos/o/r/pulls/1' };
  return p;
}

function labeled(label: string, sender = 'maintainer'): Record<string, any> {
  const p = example('pull_request', 'labeled');
  p.label = { ...p.label, name: label };
  p.sender.login = sender;
  return p;
}

function checkRun(action: string, over: { slug?: string; externalId?: string | null; identifier?: string } = {}): Record<string, any> {
  const p = example('check_run', action === 'requested_action' ? 'requested_action' : 'rerequested');
  p.check_run.external_id = over.externalId === undefined ? 'pj-1' : over.externalId;
  p.check_run.app = { ...p.check_run.app, slug: over.slug ?? 'katabot' };
  if (action === 'requested_action') p.requested_action = { identifier: over.identifier ?? 'katabot-rerun' };
  return p;
}

describe('deliveryNeedsWork', () => {
  const cases: Array<{ name: string; event: string; payload: () => unknown; ctx?: Partial<RepoContext>; want: boolean }> = [
    { name: 'a comment with a command', event: 'issue_comment', payload: () => comment('/test e2e-kata-qemu'), want: true },
    { name: 'an ordinary comment', event: 'issue_comment', payload: () => comment('LGTM, thanks!'), want: false },
    { name: 'a command in a code block', event: 'issue_comment', payload: () => comment('```\n/test all\n```'), want: false },
    { name: 'an edited comment', event: 'issue_comment', payload: () => comment('/test all', { action: 'edited' }), want: false },
    { name: "the bot's own comment", event: 'issue_comment', payload: () => comment('/retest', { user: 'katabot[bot]' }), want: false },
    { name: 'a comment on an issue, not a PR', event: 'issue_comment', payload: () => comment('/retest', { pr: false }), want: false },
    { name: 'a comment on a closed PR', event: 'issue_comment', payload: () => comment('/retest', { state: 'closed' }), want: false },
    { name: 'text matching a custom trigger', event: 'issue_comment', payload: () => comment('run the gpu tests please'), ctx: { presubmits: [{ name: 'gpu', trigger: '(?m)^run the gpu tests', spec: { containers: [] } }] }, want: true },
    { name: 'any comment where in-repo config may add triggers', event: 'issue_comment', payload: () => comment('run the gpu tests please'), ctx: { inRepoConfig: true }, want: true },
    { name: 'a PR opened on a repository with jobs', event: 'pull_request', payload: () => example('pull_request', 'opened'), want: true },
    { name: 'a PR opened on a repository without jobs', event: 'pull_request', payload: () => example('pull_request', 'opened'), ctx: { presubmits: [] }, want: false },
    { name: 'a PR whose title was edited', event: 'pull_request', payload: () => ({ ...example('pull_request', 'opened'), action: 'edited', changes: { title: { from: 'Old' } } }), want: false },
    { name: 'a PR whose base branch was changed', event: 'pull_request', payload: () => ({ ...example('pull_request', 'opened'), action: 'edited', changes: { base: { ref: { from: 'main' } } } }), want: true },
    { name: 'the ok-to-test label', event: 'pull_request', payload: () => labeled('ok-to-test'), want: true },
    { name: 'the TDX label, any case', event: 'pull_request', payload: () => labeled('OK-to-test-TDX'), want: true },
    { name: 'a label katabot does not gate on', event: 'pull_request', payload: () => labeled('kind/bug'), want: false },
    { name: "the bot's own label", event: 'pull_request', payload: () => labeled('ok-to-test', 'katabot[bot]'), want: false },
    { name: "Re-run on one of katabot's check runs", event: 'check_run', payload: () => checkRun('rerequested'), want: true },
    { name: "Re-run on another App's check run", event: 'check_run', payload: () => checkRun('rerequested', { slug: 'github-actions' }), want: false },
    { name: 'a check run without a ProwJob behind it', event: 'check_run', payload: () => checkRun('rerequested', { externalId: null }), want: false },
    { name: "katabot's Trace button", event: 'check_run', payload: () => checkRun('requested_action', { identifier: 'katabot-trace' }), want: true },
    { name: "another App's requested action", event: 'check_run', payload: () => checkRun('requested_action', { identifier: 'fix-lint' }), want: false },
    { name: 'an event the filter does not know', event: 'workflow_job', payload: () => ({ action: 'completed' }), want: true },
  ];
  for (const c of cases) it(c.name, () => assert.equal(deliveryNeedsWork(c.event, c.payload(), ctx(c.ctx)), c.want));

  it('names the repository of a payload', () => {
    assert.deepEqual(deliveryRepo(example('issue_comment', 'created')), { owner: 'Codertocat', repo: 'Hello-World' });
    assert.equal(deliveryRepo({ zen: 'ping' }), undefined);
  });
});

describe('commandlessComment: chatter ruled out from the raw body', () => {
  const view = (prow: ProwConfig = {}, presubmits = ctx().presubmits): ConfigView => ({
    katabot: ctx().policy,
    prow,
    jobs: { presubmits: { 'Codertocat/Hello-World': presubmits }, postsubmits: {}, periodics: [] } as unknown as ConfigView['jobs'],
  });
  const raw = (body: string): string => JSON.stringify(comment(body));

  const cases: Array<{ name: string; body: string; config?: ConfigView; event?: string; want: boolean }> = [
    { name: 'an ordinary comment', body: 'Thanks, this looks good to me. Could you squash the commits?', want: true },
    { name: 'a comment with a link', body: 'See https://github.com/kata-containers/kata-containers/issues/1 for why', want: true },
    { name: 'a command', body: '/test all', want: false },
    { name: 'a command on a later line', body: 'Looks good.\n/retest', want: false },
    { name: 'a command after a CRLF', body: 'Looks good.\r\n/retest', want: false },
    { name: 'a command after an HTML comment', body: '<!-- note -->/retest', want: false },
    { name: 'a command in a code block (the full filter decides)', body: '```\n/test all\n```', want: false },
    { name: 'non-ASCII text', body: 'Merci, c\u2019est parfait', want: true },
    { name: 'a review with chatter', body: 'Nice work', event: 'pull_request_review', want: true },
    { name: 'another event', body: 'Nice work', event: 'pull_request', want: false },
    { name: 'a repository with a custom trigger', body: 'run the gpu tests please', config: view({}, [{ name: 'gpu', trigger: '(?m)^run the gpu tests', spec: { containers: [] } } as never]), want: false },
    { name: 'in-repo config enabled somewhere', body: 'Nice work', config: view({ in_repo_config: { enabled: { 'some-org': true } } }), want: false },
    { name: 'in-repo config disabled everywhere', body: 'Nice work', config: view({ in_repo_config: { enabled: { '*': false } } }), want: true },
  ];
  for (const c of cases) it(c.name, () => assert.equal(commandlessComment(c.event ?? 'issue_comment', raw(c.body), c.config ?? view()), c.want));

  it('escaped forms of a slash or line break are never ruled out', () => {
    const body = raw('x');
    for (const hidden of ['\\/retest', '\\u002fretest', 'x\\u000a/retest', '\\u003c!-- a --\\u003e/retest']) {
      assert.equal(commandlessComment('issue_comment', body.replace('"body":"x"', `"body":"${hidden}"`), view()), false, hidden);
    }
  });

  it('never rules out a delivery the full filter would act on (property)', () => {
    const pieces = ['/', '/test all', '/retest', '/ok-to-test', '\n', '\r', '\r\n', '\u2028', '<!--', '-->', '>', '```', '> ', ' ', 'test', 'é', '"', '\\', 'https://x/y', 'LGTM'];
    let ruledOut = 0;
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 12 }), fc.boolean(), (parts, escapeSlashes) => {
        const body = parts.join('');
        let text = raw(body);
        // Some encoders escape every slash; the raw form differs, the parsed payload does not.
        if (escapeSlashes) text = text.replaceAll('/', '\\/');
        if (!commandlessComment('issue_comment', text, view())) return;
        ruledOut += 1;
        assert.equal(deliveryNeedsWork('issue_comment', JSON.parse(text), ctx()), false, JSON.stringify(body));
      }),
      { numRuns: 3000 },
    );
    assert.ok(ruledOut > 100, `the property held vacuously: ${ruledOut} bodies ruled out`);
  });
});
