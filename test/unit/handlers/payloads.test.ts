// The payload check before dispatch: every real GitHub example of a handled event passes; a missing or odd field
// that a handler reads is named in one line; anything else (unknown fields, unhandled actions) passes through.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { REGISTRATIONS } from '../../../src/handlers/index.ts';
import { payloadProblem } from '../../../src/handlers/payloads.ts';
import { isPermanentFailure } from '../../../src/server/app.ts';

const require = createRequire(import.meta.url);
const examples = require('@octokit/webhooks-examples/api.github.com/index.json') as Array<{ name: string; examples: any[] }>;
const HANDLED = new Set<string>(Object.values(REGISTRATIONS).flat());

function example(event: string, action: string): any {
  return structuredClone(examples.find((e) => e.name === event)!.examples.find((p) => p.action === action));
}

describe('payloadProblem', () => {
  it('passes every example payload of every handled event and action', () => {
    let checked = 0;
    for (const e of examples) {
      for (const p of e.examples) {
        if (!HANDLED.has(`${e.name}.${p.action}`)) continue;
        checked++;
        assert.equal(payloadProblem(e.name, p, HANDLED), undefined, `${e.name}.${p.action}`);
      }
    }
    assert.ok(checked >= 15, `only ${checked} examples checked`);
  });

  const cases: Array<[string, string, string, (p: any) => void, string | undefined]> = [
    ['a deleted issue number', 'issue_comment', 'created', (p) => delete p.issue.number, 'issue_comment payload: issue.number is missing'],
    ['a string PR number', 'pull_request', 'opened', (p) => (p.pull_request.number = '7'), 'pull_request payload: pull_request.number must be integer'],
    ['a head SHA that is no object name', 'pull_request', 'synchronize', (p) => (p.pull_request.head.sha = 'HEAD'), 'pull_request payload: pull_request.head.sha must match pattern "^[0-9a-f]{40}([0-9a-f]{24})?$"'],
    ['a label without a name', 'pull_request', 'labeled', (p) => (p.label = {}), 'pull_request payload: label.name is missing'],
    ['a label name of the wrong type', 'pull_request', 'opened', (p) => (p.pull_request.labels = [{ name: 3 }]), 'pull_request payload: pull_request.labels[0].name must be string'],
    ['a comment author that is a number', 'issue_comment', 'created', (p) => (p.comment.user = 5), 'issue_comment payload: comment.user has the wrong shape'],
    ['a repository name with a path in it', 'issue_comment', 'created', (p) => (p.repository.name = '../../etc'), 'issue_comment payload: repository.name must match pattern "^[A-Za-z0-9._-]{1,100}$"'],
    ['a repository named ..', 'check_suite', 'rerequested', (p) => (p.repository.name = '..'), 'check_suite payload: repository.name must NOT be valid'],
    ['an owner login with a slash', 'check_run', 'rerequested', (p) => (p.repository.owner.login = 'a/b'), 'check_run payload: repository.owner.login must match pattern "^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$"'],
    ['a check run without pull_requests', 'check_run', 'requested_action', (p) => delete p.check_run.pull_requests, 'check_run payload: check_run.pull_requests is missing'],
    ['a review without its PR', 'pull_request_review', 'submitted', (p) => delete p.pull_request, 'pull_request_review payload: pull_request is missing'],
    ['no action at all', 'issue_comment', 'created', (p) => delete p.action, 'issue_comment payload: action is missing'],
    // Passes: GitHub may leave these out or null them, and the handlers cope.
    ['a null comment body', 'issue_comment', 'created', (p) => (p.comment.body = null), undefined],
    ['a deleted (ghost) PR author', 'pull_request', 'opened', (p) => (p.pull_request.user = null), undefined],
    ['no sender and no installation', 'check_suite', 'rerequested', (p) => (delete p.sender, delete p.installation), undefined],
    ['an Enterprise Managed User owner', 'issue_comment', 'created', (p) => (p.repository.owner.login = 'octo_acme'), undefined],
    ['unknown extra fields', 'pull_request', 'opened', (p) => (p.pull_request.some_future_field = { x: [1] }), undefined],
    ['an action katabot does not handle, however odd', 'pull_request', 'assigned', (p) => delete p.pull_request, undefined],
  ];
  for (const [name, event, action, change, want] of cases) {
    it(name, () => {
      const p = example(event, action);
      change(p);
      assert.equal(payloadProblem(event, p, HANDLED), want);
    });
  }

  it('refuses payloads that are no JSON object, and ignores events no handler reads', () => {
    for (const p of [null, 7, 'x', [1]]) assert.equal(payloadProblem('issue_comment', p, HANDLED), 'issue_comment payload is not a JSON object');
    assert.equal(payloadProblem('star', { nothing: true }, HANDLED), undefined);
  });

  it('checks a push, which has no action: a real one passes, one without its ref does not', () => {
    const push = structuredClone(examples.find((e) => e.name === 'push')!.examples[0]!);
    assert.equal(payloadProblem('push', push, HANDLED), undefined);
    delete push.ref;
    assert.equal(payloadProblem('push', push, HANDLED), 'push payload: ref is missing');
  });

  it('returns a string or undefined for any JSON value (fast-check)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(REGISTRATIONS)), fc.jsonValue(), fc.constantFrom(...HANDLED), (event, value, handled) => {
        const withAction = value && typeof value === 'object' && !Array.isArray(value) ? { ...value, action: handled.split('.')[1] } : value;
        const got = payloadProblem(event, withAction, HANDLED);
        assert.ok(got === undefined || (typeof got === 'string' && got.startsWith(`${event} payload`) && !got.includes('\n')));
      }),
      { numRuns: 5000, seed: 20261121 },
    );
  });
});

describe('isPermanentFailure', () => {
  const httpError = (status: number) => Object.assign(new Error(`status ${status}`), { name: 'HttpError', status });
  const table: Array<[string, unknown, boolean]> = [
    ['GitHub 404 (the PR or comment is gone)', httpError(404), true],
    ['GitHub 410', httpError(410), true],
    ['GitHub 422 (validation failed)', httpError(422), true],
    ['GitHub 403 (rate limited: retried)', httpError(403), false],
    ['GitHub 502', httpError(502), false],
    ['Kubernetes 422 (invalid object)', Object.assign(new Error('invalid'), { code: 422 }), true],
    ['Kubernetes 409 after retries', Object.assign(new Error('conflict'), { code: 409 }), false],
    ['a network error', Object.assign(new Error('reset'), { code: 'ECONNRESET' }), false],
    ['a TypeError', new TypeError('x is undefined'), false],
    ['not an error', undefined, false],
  ];
  for (const [name, err, want] of table) it(name, () => assert.equal(isPermanentFailure(err), want));
});
