// KATABOT_CONFIG: katabot's own policy YAML, validated by a JSON schema (ajv), defaults applied. Pure.
import { Ajv, type ErrorObject } from 'ajv';
import { DEFAULT_KATABOT_CONFIG, type KatabotConfig } from './types.ts';
import { ConfigError, type KeyPath } from './errors.ts';
import { isPlainObject, parseYaml } from './yaml.ts';
import { goRegExpProblem } from './go-regexp.ts';

/**
 * `x-message` is katabot's annotation for error text: a string applies to any error at or below the node (the
 * deepest annotated node wins and the error is reported at its path); a map keyword → text applies only to errors
 * of that keyword on the node itself, reported at the node's own path.
 */
type SchemaNode = {
  type?: string;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: boolean | SchemaNode;
  items?: SchemaNode;
  pattern?: string;
  minLength?: number;
  'x-message'?: string | Record<string, string>;
  [key: string]: unknown;
};

const LOGIN = '^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$';

const logins = (what: string): SchemaNode => ({
  type: 'array',
  'x-message': 'must be an array of strings',
  items: { type: 'string', pattern: LOGIN, 'x-message': { pattern: `must be ${what}` } },
});
const bool: SchemaNode = { type: 'boolean', 'x-message': 'must be true or false' };
const nonEmpty: SchemaNode = { type: 'string', minLength: 1, 'x-message': 'must be a non-empty string' };
/** A workflow file under .github/workflows (a name, no directory). */
const WORKFLOW_FILE = '^[A-Za-z0-9._-]+\\.ya?ml$';

const section = (properties: Record<string, SchemaNode>): SchemaNode => ({ type: 'object', additionalProperties: false, 'x-message': 'must be a mapping', properties });
const url: SchemaNode = { type: 'string', pattern: '^https?://[^\\s/]+', 'x-message': 'must be an http(s) URL' };

/** Settings that may differ per org or repository: Prow's trigger settings, TDX, reporting, retest. */
const PER_REPO: Record<string, SchemaNode> = {
  orgs: logins('a GitHub organization login'),
  only_org_members: bool,
  trusted_apps: {
    type: 'array',
    'x-message': 'must be an array of strings',
    items: { type: 'string', pattern: LOGIN, 'x-message': { pattern: 'must be a GitHub App name without the [bot] suffix' } },
  },
  ignore_ok_to_test: bool,
  trusted_org: { type: 'string', pattern: LOGIN, 'x-message': 'must be a GitHub organization login' },
  join_org_url: url,
  tdx: section({
    label: nonEmpty,
    approvers: logins('a GitHub login (without @)'),
    jobs: nonEmpty,
    sticky: bool,
    status: bool,
    status_context: nonEmpty,
  }),
  report: section({ statuses: bool }),
  retest: section({ github_actions: bool }),
};

/** `org` or `org/repo` */
const REPO_KEY = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\/[A-Za-z0-9._-]+)?$/;

const KATABOT_CONFIG_SCHEMA: SchemaNode = {
  type: 'object',
  additionalProperties: false,
  'x-message': 'must be a mapping',
  properties: {
    ...PER_REPO,
    trace: {
      type: 'object',
      additionalProperties: false,
      'x-message': 'must be a mapping',
      properties: {
        image: nonEmpty,
        kata_runtime_classes: { type: 'array', 'x-message': 'must be an array of strings', items: { type: 'string', minLength: 1 } },
        actions: {
          type: 'array',
          'x-message': 'must be an array of mappings',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['workflow', 'jobs'],
            'x-message': 'must be a mapping with workflow and jobs',
            properties: {
              workflow: { type: 'string', pattern: WORKFLOW_FILE, 'x-message': 'must be a workflow file name such as ci.yaml' },
              jobs: { type: 'array', minItems: 1, 'x-message': 'must be a non-empty array of job names or globs', items: nonEmpty },
              dispatch: bool,
              baselines: { type: 'array', 'x-message': 'must be an array of workflow file names', items: { type: 'string', pattern: WORKFLOW_FILE, 'x-message': 'must be a workflow file name such as ci-nightly.yaml' } },
            },
          },
        },
      },
    },
    deck_url: url,
    external_plugin_name: nonEmpty,
    repos: {
      type: 'object',
      'x-message': 'must be a mapping of org or org/repo to settings',
      additionalProperties: section(PER_REPO),
    },
    actions: {
      type: 'object',
      additionalProperties: false,
      'x-message': 'must be a mapping',
      properties: {
        nightly_workflows: { type: 'array', 'x-message': 'must be an array of workflow file names', items: { type: 'string', minLength: 1, pattern: '^[^\\s]+$' } },
        dispatch: {
          type: 'object',
          'x-message': 'must be a mapping of /test name → {workflow, ref, inputs}',
          propertyNames: { pattern: '^[A-Za-z0-9_.-]+$' },
          additionalProperties: {
            type: 'object',
            additionalProperties: false,
            required: ['workflow'],
            'x-message': 'must be a mapping with workflow, and optionally ref and inputs',
            properties: {
              workflow: { type: 'string', minLength: 1, pattern: '^[^\\s]+$', 'x-message': 'must be a workflow file name or id' },
              ref: nonEmpty,
              inputs: { type: 'object', additionalProperties: { type: 'string' }, 'x-message': 'must be a mapping of input name → text' },
              tdx: bool,
            },
          },
        },
      },
    },
  },
};

const ajv = new Ajv({ allErrors: false, strict: true });
ajv.addVocabulary(['x-message']);
const validate = ajv.compile(KATABOT_CONFIG_SCHEMA);

function decodePointer(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Turns ajv's first error into a ConfigError with katabot's wording. */
function schemaError(file: string, schema: SchemaNode, err: ErrorObject, data: unknown): ConfigError {
  const segments = decodePointer(err.instancePath);
  // Walk schema and data together, remembering the deepest node with a string message.
  const path: Array<string | number> = [];
  let node: SchemaNode | undefined = schema;
  let value: unknown = data;
  let best: { path: Array<string | number>; message: string } | undefined;
  const note = (n: SchemaNode | undefined): void => {
    if (n && typeof n['x-message'] === 'string') best = { path: [...path], message: n['x-message'] };
  };
  note(node);
  for (const seg of segments) {
    if (Array.isArray(value)) {
      path.push(Number(seg));
      node = node?.items;
      value = value[Number(seg)];
    } else {
      path.push(seg);
      const props: Record<string, SchemaNode> | undefined = node?.properties;
      node = props?.[seg] ?? (typeof node?.additionalProperties === 'object' ? node.additionalProperties : undefined);
      value = isPlainObject(value) ? value[seg] : undefined;
    }
    note(node);
  }
  if (err.keyword === 'additionalProperties') {
    const key = String((err.params as { additionalProperty?: string }).additionalProperty);
    const allowed = Object.keys(node?.properties ?? {});
    return new ConfigError(file, [...path, key], `unknown key (allowed: ${allowed.join(', ')})`);
  }
  const own = node?.['x-message'];
  if (own && typeof own === 'object' && own[err.keyword]) return new ConfigError(file, path, own[err.keyword] as string);
  if (best) return new ConfigError(file, best.path, best.message);
  return new ConfigError(file, path, err.message ?? `failed ${err.keyword}`);
}

/** YAML `key:` with no value means "not set": drop nulls inside mappings so defaults apply. */
function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (!isPlainObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== null && x !== undefined) out[k] = dropNulls(x);
  return out;
}

/** Validates an already-parsed KATABOT_CONFIG value and applies defaults. */
function katabotConfigFromValue(raw: unknown, file: string): KatabotConfig {
  const data = raw === null || raw === undefined ? {} : dropNulls(raw);
  if (!validate(data)) {
    const first = validate.errors?.[0];
    throw first ? schemaError(file, KATABOT_CONFIG_SCHEMA, first, data) : new ConfigError(file, '', 'invalid configuration');
  }
  const c = data as Partial<Omit<KatabotConfig, 'tdx' | 'trace' | 'report' | 'retest' | 'actions'>> & {
    actions?: { nightly_workflows?: string[]; dispatch?: Record<string, { workflow: string; ref?: string; inputs?: Record<string, string>; tdx?: boolean }> };
    tdx?: Partial<KatabotConfig['tdx']>;
    trace?: Partial<KatabotConfig['trace']>;
    report?: Partial<KatabotConfig['report']>;
    retest?: Partial<KatabotConfig['retest']>;
  };
  const d = structuredClone(DEFAULT_KATABOT_CONFIG);
  const out: KatabotConfig = {
    orgs: c.orgs ?? d.orgs,
    only_org_members: c.only_org_members ?? d.only_org_members,
    trusted_apps: c.trusted_apps ?? d.trusted_apps,
    ignore_ok_to_test: c.ignore_ok_to_test ?? d.ignore_ok_to_test,
    tdx: { ...d.tdx, ...c.tdx },
    trace: { ...d.trace, ...c.trace },
    report: { ...d.report, ...c.report },
    retest: { ...d.retest, ...c.retest },
    external_plugin_name: c.external_plugin_name ?? d.external_plugin_name,
    repos: c.repos ?? d.repos,
    actions: {
      nightly_workflows: c.actions?.nightly_workflows ?? d.actions.nightly_workflows,
      dispatch: Object.fromEntries(
        Object.entries(c.actions?.dispatch ?? {}).map(([name, x]) => [name, { workflow: x.workflow, ...(x.ref ? { ref: x.ref } : {}), inputs: x.inputs ?? {}, ...(x.tdx !== undefined ? { tdx: x.tdx } : {}) }]),
      ),
    },
  };
  if (c.trusted_org !== undefined) out.trusted_org = c.trusted_org;
  if (c.join_org_url !== undefined) out.join_org_url = c.join_org_url;
  for (const [key, o] of Object.entries(out.repos)) {
    if (!REPO_KEY.test(key)) throw new ConfigError(file, ['repos', key], 'keys must be an org or org/repo');
    if (o.tdx?.jobs !== undefined) checkTdxJobs(file, o.tdx.jobs, ['repos', key, 'tdx', 'jobs']);
  }
  const deckUrl = c.deck_url ?? d.deck_url;
  if (deckUrl !== undefined) {
    let ok = false;
    try {
      const u = new URL(deckUrl);
      ok = u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      ok = false;
    }
    if (!ok) throw new ConfigError(file, ['deck_url'], 'must be an http(s) URL');
    out.deck_url = deckUrl.replace(/\/+$/, '');
  }
  checkTdxJobs(file, out.tdx.jobs, ['tdx', 'jobs']);
  return out;
}

/** `tdx.jobs` is Go RE2, as Prow's job regexes. */
function checkTdxJobs(file: string, source: string, path: KeyPath): void {
  const problem = goRegExpProblem(source);
  if (problem !== undefined) throw new ConfigError(file, path, `must be a valid regular expression: ${problem}`);
}

/**
 * Parses KATABOT_CONFIG text. Unknown keys and wrong types are rejected; `tdx.jobs` must compile (Go RE2 syntax,
 * as Prow's job regexes); missing keys take DEFAULT_KATABOT_CONFIG's values. Throws a one-line ConfigError such as
 * `katabot.yaml: tdx.approvers: must be an array of strings`.
 */
export function parseKatabotConfig(text: string, file: string): KatabotConfig {
  return katabotConfigFromValue(parseYaml(text, file), file);
}
