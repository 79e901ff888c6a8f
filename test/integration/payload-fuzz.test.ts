// Webhook payloads with missing or odd fields, through the whole bot: signed deliveries built from GitHub's real
// example payloads (@octokit/webhooks-examples, via the FakeGitHub builders), mutated by fast-check (fields deleted,
// set to null, to the wrong type, to huge or control-character strings), sent to the intake and handled by the
// real handlers on real Redis, the Kubernetes API double and nock'd GitHub. Each delivery must end handled, or
// dropped with one clean line (a payload field, or GitHub's/Kubernetes' final answer): never a retried crash
// inside a handler, never an unhandled rejection, and the bot keeps working afterwards.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { pino } from 'pino';
import { LABELS } from '../../src/jobs/types.ts';
import { startHarness, waitFor, type Harness } from './harness.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 20261121);
const DELIVERIES = Number(process.env.FUZZ_PAYLOADS ?? 400);

interface LogLine {
  level: number;
  msg: string;
  delivery?: string;
  problem?: string;
  errors?: string[];
}

const lines: LogLine[] = [];
const log = pino(
  { level: 'warn' },
  new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as LogLine);
      done();
    },
  }),
);
const rejections: unknown[] = [];
const onRejection = (reason: unknown) => rejections.push(reason);

let h: Harness;
before(async () => {
  process.on('unhandledRejection', onRejection);
  h = await startHarness({ overrides: { log } });
});
after(async () => {
  process.off('unhandledRejection', onRejection);
  await h?.close();
});

/** The fields handlers read, so half of the mutations land where they matter. */
const READ = /^(action|installation|sender|repository\.(name|owner)|issue\.(number|state|pull_request)|comment\.(body|user|html_url)|review\.|pull_request\.(number|state|draft|merged|mergeable|title|html_url|body|user|head|base|labels)|label\.|check_run\.(id|name|head_sha|external_id|app|pull_requests)|check_suite\.(id|head_sha|app|pull_requests)|requested_action)/;

type Path = Array<string | number>;

function paths(value: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  if (prefix.length) out.push(prefix);
  if (prefix.length >= 6) return out;
  if (Array.isArray(value)) value.forEach((v, i) => paths(v, [...prefix, i], out));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) paths(v, [...prefix, k], out);
  return out;
}

const ODD: unknown[] = [
  null, '', 0, -1, 1.5, 2 ** 53, true, [], {}, [null], { login: 7 }, 'x'.repeat(70_000), '\u0000\u001b[31m\r\n', '\uFF0Ftest all',
  '/test all', '../../../etc/passwd', 'a'.repeat(40), 'g'.repeat(40), '\uD800', 'kata-containers', 'maintainer', '${{ secrets.X }}',
];

interface Mutation {
  pick: number;
  read: boolean;
  op: 'delete' | 'set';
  value: number;
}
const mutation = fc.record({
  pick: fc.nat(),
  read: fc.boolean(),
  op: fc.constantFrom<'delete' | 'set'>('delete', 'set'),
  value: fc.nat({ max: ODD.length - 1 }),
});

function mutate(payload: any, ms: Mutation[]): string[] {
  const done: string[] = [];
  for (const m of ms) {
    const all = paths(payload);
    const wanted = all.filter((p) => READ.test(p.join('.')));
    const pool = m.read && wanted.length ? wanted : all;
    if (pool.length === 0) break;
    const path = pool[m.pick % pool.length]!;
    let parent = payload;
    for (const seg of path.slice(0, -1)) parent = parent[seg];
    const last = path.at(-1)!;
    if (m.op === 'delete') {
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
    } else parent[last] = structuredClone(ODD[m.value]);
    done.push(`${m.op} ${path.join('.')}${m.op === 'set' ? ` = ${JSON.stringify(ODD[m.value])?.slice(0, 20)}` : ''}`);
  }
  return done;
}

/** How deliveries ended: in the worker (ok, invalid, dropped, no_work, error), or at intake (`intake_no_work`). */
async function handlingCounts(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const v of (await h.bot.metrics.handlingSeconds.get()).values) {
    if (!v.metricName?.endsWith('_count')) continue;
    const r = String(v.labels.result);
    out[r] = (out[r] ?? 0) + v.value;
  }
  for (const v of (await h.bot.metrics.webhooks.get()).values) if (v.labels.result === 'no_work') out.intake_no_work = (out.intake_no_work ?? 0) + v.value;
  return out;
}

/** Every way a delivery ends without a retry. */
const ENDED = ['ok', 'invalid', 'dropped', 'no_work', 'intake_no_work'];

describe('fuzz: webhook payloads through the handlers', () => {
  it(`${DELIVERIES} mutated payloads each end handled or cleanly dropped`, { timeout: 180_000 }, async (t) => {
    // The state the payloads refer to: PRs by a maintainer and an outsider, and check runs to re-run.
    const trusted = h.gh.addPull({ number: 9101, author: 'maintainer' });
    const outsider = h.gh.addPull({ number: 9102, author: 'outsider' });
    assert.equal((await h.send('issue_comment', h.gh.commentEvent(trusted.number, 'maintainer', '/test all'))).status, 200);
    const run = await waitFor('a check run to re-run', () => h.gh.checkRuns.find((r) => r.head_sha === trusted.headSha));
    await h.settle();

    const bases: Array<[string, () => any]> = [
      ['issue_comment', () => h.gh.commentEvent(trusted.number, 'maintainer', '/test e2e-kata-qemu')],
      ['issue_comment', () => h.gh.commentEvent(outsider.number, 'maintainer', '/ok-to-test\n/retest')],
      ['issue_comment', () => h.gh.commentEvent(trusted.number, 'outsider', '/test all')],
      ['pull_request', () => h.gh.pullRequestEvent(trusted.number, 'synchronize')],
      ['pull_request', () => h.gh.pullRequestEvent(outsider.number, 'opened')],
      ['pull_request', () => h.gh.pullRequestEvent(trusted.number, 'labeled', { label: { name: 'ok-to-test-tdx' } }, 'tdx-approver')],
      ['pull_request_review', () => h.gh.reviewEvent(trusted.number, 'maintainer', '/retest')],
      ['check_run', () => h.gh.checkRunEvent(run.id, 'rerequested', 'maintainer')],
      ['check_run', () => h.gh.checkRunEvent(run.id, 'requested_action', 'maintainer', { identifier: 'katabot-rerun' })],
      ['check_suite', () => h.gh.checkSuiteEvent(trusted.headSha, 'maintainer')],
    ];
    const cases = fc.sample(fc.record({ base: fc.nat({ max: bases.length - 1 }), mutations: fc.array(mutation, { maxLength: 3 }) }), { numRuns: DELIVERIES, seed: SEED });

    const before = await handlingCounts();
    const sent: Array<{ delivery: string; event: string; mutations: string[] }> = [];
    // Batches of 20 in flight, as GitHub delivers concurrently.
    for (let i = 0; i < cases.length; i += 20) {
      await Promise.all(
        cases.slice(i, i + 20).map(async (c) => {
          const [event, build] = bases[c.base]!;
          const payload = build();
          const mutations = mutate(payload, c.mutations);
          const delivery = `fuzz-${SEED}-${sent.length}-${Math.random().toString(36).slice(2, 8)}`;
          sent.push({ delivery, event, mutations });
          const res = await h.send(event, payload, delivery);
          assert.equal(res.status, 200, `${event} ${mutations.join('; ')}: intake answered ${res.status}`);
        }),
      );
    }
    await waitFor(
      'every fuzzed delivery to end',
      async () => {
        const now = await handlingCounts();
        const ended = ENDED.reduce((n, r) => n + (now[r] ?? 0) - (before[r] ?? 0), 0);
        return ended >= sent.length || (now.error ?? 0) > (before.error ?? 0);
      },
      120_000,
    );
    await h.settle();

    const after = await handlingCounts();
    const delta = (r: string) => (after[r] ?? 0) - (before[r] ?? 0);
    const retried = lines.filter((l) => l.msg === 'handler failed; will retry');
    assert.deepEqual(
      retried.map((l) => `${sent.find((s) => s.delivery === l.delivery)?.mutations.join('; ')}: ${l.errors?.join(' | ')}`),
      [],
      'a handler failed on a payload the schema let through',
    );
    assert.equal(delta('error'), 0);
    assert.equal(ENDED.reduce((n, r) => n + delta(r), 0), sent.length, 'every delivery ended exactly once');
    assert.deepEqual(rejections, [], 'unhandled rejections');
    assert.deepEqual(lines.filter((l) => l.level >= 50).map((l) => l.msg), [], 'error-level log lines');

    // Each drop says why in one line: the payload field, or the final answer that made retrying pointless.
    const invalid = lines.filter((l) => l.msg === 'webhook payload cannot be handled; dropped');
    assert.equal(invalid.length, delta('invalid'));
    for (const l of invalid) assert.match(l.problem!, /^(issue_comment|pull_request|pull_request_review|check_run|check_suite) payload: \S+ (is missing|has the wrong shape|must .+)$/);
    const refused = lines.filter((l) => l.msg === 'handling refused for good; dropped');
    assert.equal(refused.length, delta('dropped'));

    // The mix is real: untouched or harmlessly mutated payloads started jobs, others were refused.
    const fuzzJobs = h.prowjobs().filter((pj) => sent.some((s) => s.delivery === pj.metadata.labels?.[LABELS.eventGuid]));
    t.diagnostic(`handled ${delta('ok')}, invalid ${delta('invalid')}, refused by GitHub/Kubernetes ${delta('dropped')}, needing no work ${delta('intake_no_work')} at intake and ${delta('no_work')} in the worker; ${fuzzJobs.length} ProwJobs from fuzzed deliveries`);
    assert.ok(delta('ok') > sent.length / 4, 'many deliveries were handled');
    assert.ok(delta('invalid') > sent.length / 10, 'many deliveries were refused for a missing or odd field');
    assert.ok(fuzzJobs.length > 0, 'fuzzed deliveries still started jobs');

    // Nothing is poisoned: a plain /test afterwards runs as usual.
    const fresh = h.gh.addPull({ number: 9103, author: 'maintainer' });
    assert.equal((await h.send('issue_comment', h.gh.commentEvent(fresh.number, 'maintainer', '/test e2e-kata-qemu'))).status, 200);
    await waitFor('the ProwJob of a plain /test after the fuzz', () => h.prowjobs().find((pj) => pj.spec.refs?.pulls?.[0]?.number === fresh.number));
    assert.equal((await fetch(`${h.bot.url}/healthz`)).status, 200);
  });
});
