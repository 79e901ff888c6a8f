// What each handler reads from a webhook payload, as JSON schemas, checked once before dispatch. A signed payload
// can still be odd (a GitHub Enterprise version without a field, Prow's hook forwarding a partial repo webhook, a
// field that is null): such a payload can never be handled, so it is dropped with one line naming the field,
// instead of failing deep in a handler and being retried for minutes. Only fields katabot reads are described, and
// unknown fields are allowed, so GitHub adding fields never breaks intake.
import { Ajv, type ErrorObject } from 'ajv';

type Schema = Record<string, unknown>;

const str: Schema = { type: 'string' };
const nonEmpty: Schema = { type: 'string', minLength: 1 };
const count: Schema = { type: 'integer', minimum: 1 };
const id: Schema = { type: 'integer', minimum: 0 };
// SHA-1 today; SHA-256 object names are 64 hex digits.
const sha: Schema = { type: 'string', pattern: '^[0-9a-f]{40}([0-9a-f]{24})?$' };
const maybeBool: Schema = { type: ['boolean', 'null'] };
const login: Schema = { type: 'object', required: ['login'], properties: { login: nonEmpty } };
// GitHub's own rules (underscores for Enterprise Managed Users). Both go into API paths, Redis keys and
// ProwJob labels, so an impossible name is refused here rather than wherever it would break.
const owner: Schema = { type: 'object', required: ['login'], properties: { login: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$' } } };
const repoName: Schema = { type: 'string', pattern: '^[A-Za-z0-9._-]{1,100}$', not: { enum: ['.', '..'] } };
const user: Schema = { anyOf: [{ type: 'null' }, login] };
const optionalUser: Schema = { anyOf: [{ type: 'null' }, { type: 'object', properties: { login: nonEmpty } }] };
const app: Schema = { anyOf: [{ type: 'null' }, { type: 'object', properties: { slug: { type: ['string', 'null'] } } }] };
const pullNumbers: Schema = { type: 'array', items: { type: 'object', required: ['number'], properties: { number: count } } };

const repository: Schema = {
  type: 'object',
  required: ['name', 'owner'],
  properties: { name: repoName, owner },
};

const pullRequest: Schema = {
  type: 'object',
  required: ['number', 'state', 'title', 'html_url', 'user', 'head', 'base'],
  properties: {
    number: count,
    state: str,
    draft: maybeBool,
    merged: maybeBool,
    mergeable: maybeBool,
    title: str,
    html_url: str,
    body: { type: ['string', 'null'] },
    user: { anyOf: [{ type: 'null' }, { type: 'object', properties: { login: nonEmpty, html_url: str } }] },
    head: { type: 'object', required: ['sha', 'ref'], properties: { sha, ref: nonEmpty } },
    base: {
      type: 'object',
      required: ['sha', 'ref', 'repo'],
      properties: { sha, ref: nonEmpty, repo: { type: 'object', required: ['html_url'], properties: { html_url: str } } },
    },
    labels: { type: 'array', items: { anyOf: [str, { type: 'object', properties: { name: str } }] } },
  },
};

/** Properties every handled event carries, besides its own. */
function event(properties: Schema, required: string[]): Schema {
  return {
    type: 'object',
    required: ['action', 'repository', ...required],
    properties: {
      action: nonEmpty,
      repository,
      sender: optionalUser,
      installation: { type: 'object', properties: { id } },
      ...properties,
    },
  };
}

const PAYLOAD_SCHEMAS: Record<string, Schema> = {
  issue_comment: event(
    {
      issue: {
        type: 'object',
        required: ['number', 'state'],
        properties: { number: count, state: str, pull_request: { type: ['object', 'null'] } },
      },
      comment: {
        type: 'object',
        required: ['user', 'html_url'],
        properties: { body: { type: ['string', 'null'] }, user, html_url: str },
      },
    },
    ['issue', 'comment'],
  ),
  pull_request: event(
    {
      pull_request: pullRequest,
      label: { type: 'object', required: ['name'], properties: { name: str } },
      changes: { type: 'object' },
    },
    ['pull_request'],
  ),
  pull_request_review: event(
    {
      review: {
        type: 'object',
        required: ['user', 'html_url'],
        properties: { body: { type: ['string', 'null'] }, user, html_url: str },
      },
      pull_request: pullRequest,
    },
    ['review', 'pull_request'],
  ),
  check_run: event(
    {
      check_run: {
        type: 'object',
        required: ['id', 'name', 'head_sha', 'pull_requests'],
        properties: { id, name: nonEmpty, head_sha: sha, external_id: { type: ['string', 'null'] }, app, pull_requests: pullNumbers },
      },
      requested_action: { type: 'object', properties: { identifier: str } },
    },
    ['check_run'],
  ),
  check_suite: event(
    {
      check_suite: {
        type: 'object',
        required: ['id', 'head_sha', 'pull_requests'],
        properties: { id, head_sha: sha, app, pull_requests: pullNumbers },
      },
    },
    ['check_suite'],
  ),
  workflow_run: event(
    {
      workflow_run: {
        type: 'object',
        required: ['id', 'workflow_id', 'event', 'head_sha', 'created_at', 'html_url'],
        properties: {
          id,
          workflow_id: id,
          name: { type: ['string', 'null'] },
          path: { type: ['string', 'null'] },
          event: nonEmpty,
          status: { type: ['string', 'null'] },
          conclusion: { type: ['string', 'null'] },
          head_sha: sha,
          head_branch: { type: ['string', 'null'] },
          run_attempt: { type: ['integer', 'null'] },
          created_at: str,
          html_url: str,
          pull_requests: { anyOf: [{ type: 'null' }, pullNumbers] },
        },
      },
    },
    ['workflow_run'],
  ),
  workflow_job: event(
    {
      workflow_job: {
        type: 'object',
        required: ['id', 'run_id', 'name', 'head_sha', 'status'],
        properties: {
          id,
          run_id: id,
          run_attempt: { type: ['integer', 'null'] },
          name: nonEmpty,
          workflow_name: { type: ['string', 'null'] },
          head_sha: sha,
          status: nonEmpty,
          conclusion: { type: ['string', 'null'] },
          html_url: { type: ['string', 'null'] },
          labels: { type: ['array', 'null'], items: str },
        },
      },
    },
    ['workflow_job'],
  ),
  // A push has no action. The deleted ref's `after` is all zeros, which `sha` allows.
  push: {
    type: 'object',
    required: ['ref', 'after', 'repository'],
    properties: {
      ref: { type: 'string', pattern: '^refs/(heads|tags)/.+' },
      after: sha,
      deleted: maybeBool,
      compare: { type: ['string', 'null'] },
      commits: {
        type: ['array', 'null'],
        items: {
          type: 'object',
          properties: Object.fromEntries(['added', 'removed', 'modified'].map((k) => [k, { type: ['array', 'null'], items: str }])),
        },
      },
      repository: { ...repository, required: ['name', 'owner', 'html_url'], properties: { ...(repository['properties'] as Schema), html_url: str } },
      installation: { type: 'object', properties: { id } },
    },
  },
};

const ajv = new Ajv({ allErrors: false, strict: true });
const validators = new Map(Object.entries(PAYLOAD_SCHEMAS).map(([name, schema]) => [name, ajv.compile(schema)]));

/**
 * Why katabot cannot handle this payload of `event`, in one line naming the field, or undefined when it can (or
 * when no handler reads it: events and actions outside `handled` are left to probot, which ignores them).
 * `handled` holds `event.action` names.
 */
export function payloadProblem(event: string, payload: unknown, handled: ReadonlySet<string>): string | undefined {
  const validate = validators.get(event);
  if (!validate) return undefined;
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return `${event} payload is not a JSON object`;
  const action = (payload as { action?: unknown }).action;
  if (typeof action === 'string' && !handled.has(`${event}.${action}`)) return undefined;
  if (validate(payload)) return undefined;
  return describe(event, mostSpecific(validate.errors!));
}

/** The deepest error; where a field has several (the branches of an anyOf), the anyOf's own. */
function mostSpecific(errors: ErrorObject[]): ErrorObject {
  const depth = (e: ErrorObject) => e.instancePath.split('/').length;
  const deepest = Math.max(...errors.map(depth));
  const at = errors.filter((e) => depth(e) === deepest);
  return at.find((e) => e.keyword === 'anyOf') ?? at[0]!;
}

function describe(event: string, err: ErrorObject): string {
  const path = err.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (err.keyword === 'required') path.push((err.params as { missingProperty: string }).missingProperty);
  const field = path.length ? path.map((s) => (/^\d+$/.test(s) ? `[${s}]` : `.${s}`)).join('').replace(/^\./, '') : '(payload)';
  const why = err.keyword === 'required' ? 'is missing' : err.keyword === 'anyOf' ? 'has the wrong shape' : (err.message ?? 'is invalid');
  return `${event} payload: ${field} ${why}`;
}
