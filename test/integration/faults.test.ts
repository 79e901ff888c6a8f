// Faults survived. Each test asserts nothing lost and nothing doubled: every accepted `/test` delivery yields
// exactly one ProwJob (labelled with its delivery id) and exactly one check run for it. Each is bounded in time.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChildProcess } from 'node:child_process';
import { LABELS } from '../../src/jobs/types.ts';
import { deliver } from '../fixtures/github.ts';
import { SECRET, startHarness, waitFor, type Harness } from './harness.ts';

let h: Harness;
let next = 7000;

before(async () => {
  h = await startHarness();
});
after(async () => h?.close());

function newPr(): number {
  return h.gh.addPull({ number: next++, author: 'maintainer' }).number;
}

function testComment(pr: number): unknown {
  return h.gh.commentEvent(pr, 'maintainer', '/test e2e-kata-qemu');
}

/** Exactly one ProwJob and one check run per accepted delivery; none for the others. */
async function assertExactlyOnce(accepted: Iterable<string>, refused: Iterable<string> = [], timeoutMs = 30_000, settle = true): Promise<void> {
  const want = new Set(accepted);
  const byDelivery = () => {
    const m = new Map<string, string[]>();
    for (const pj of h.prowjobs()) {
      const d = pj.metadata.labels?.[LABELS.eventGuid];
      if (d) m.set(d, [...(m.get(d) ?? []), pj.metadata.name]);
    }
    return m;
  };
  await waitFor(`${want.size} deliveries handled`, () => {
    const got = byDelivery();
    const missing = [...want].filter((d) => !got.has(d)).length;
    return missing === 0;
  }, timeoutMs).catch((err: Error) => {
    const got = byDelivery();
    throw new Error(`${err.message}: ${[...want].filter((d) => !got.has(d)).length} missing`);
  });
  if (settle) await h.settle();
  else await sleep(1000);
  const got = byDelivery();
  for (const d of want) {
    const names = got.get(d) ?? [];
    assert.equal(names.length, 1, `delivery ${d}: ${names.length} ProwJobs`);
    assert.equal(h.gh.checkRuns.filter((r) => r.external_id === names[0]).length, 1, `delivery ${d}: one check run`);
  }
  // A 503 means "not known to be persisted": the enqueue may have reached Redis just before the connection
  // died. Such a delivery may run (GitHub's redelivery of it is then deduplicated), but never twice.
  for (const d of refused) {
    const names = got.get(d) ?? [];
    assert.ok(names.length <= 1, `refused delivery ${d}: ${names.length} ProwJobs`);
    if (names.length === 1) assert.equal(h.gh.checkRuns.filter((r) => r.external_id === names[0]).length, 1, `refused delivery ${d}: one check run`);
  }
}

describe('faults', () => {
  it('the same delivery ×100, concurrently and interleaved with others', { timeout: 40_000 }, async () => {
    const dups = Array.from({ length: 5 }, () => ({ id: randomUUID(), payload: testComment(newPr()) }));
    const others = Array.from({ length: 25 }, () => ({ id: randomUUID(), payload: testComment(newPr()) }));
    const sends: Array<Promise<Response>> = [];
    for (let i = 0; i < 100; i++) {
      for (const d of dups) sends.push(h.send('issue_comment', d.payload, d.id));
      if (i % 4 === 0) {
        const o = others[i / 4]!;
        sends.push(h.send('issue_comment', o.payload, o.id));
      }
    }
    const statuses = (await Promise.all(sends)).map((r) => r.status);
    assert.deepEqual([...new Set(statuses)], [200]);
    await assertExactlyOnce([...dups, ...others].map((d) => d.id));
  });

  it('Redis restarted mid-stream: 503 while it cannot persist, recovers by itself, nothing acknowledged lost', { timeout: 60_000 }, async () => {
    const accepted: string[] = [];
    const refused: string[] = [];
    const unexpected: number[] = [];
    let done = false;
    // Steps wait for what the deliveries saw, not for fixed times: on a loaded machine a delivery can take longer
    // than Redis stays down.
    const stream = (async () => {
      while (!done) {
        const id = randomUUID();
        const res = await h.send('issue_comment', testComment(newPr()), id).catch(() => undefined);
        if (res?.status === 200) accepted.push(id);
        else {
          if (res && res.status !== 503) unexpected.push(res.status);
          refused.push(id);
        }
        await sleep(10);
      }
    })();
    await waitFor('deliveries accepted before the crash', () => accepted.length >= 10, 15_000);
    await h.redis.stop(true); // kill -9: only what was fsynced to the AOF survives
    await waitFor('deliveries refused while Redis is down', () => refused.length >= 3, 15_000);
    const before = accepted.length;
    await h.redis.start();
    await waitFor('deliveries accepted after the restart', () => accepted.length >= before + 10, 20_000);
    done = true;
    await stream;
    assert.deepEqual(unexpected, [], 'a delivery that cannot be persisted is answered 503');
    assert.ok(refused.length > 0, 'some deliveries were refused while Redis was down');
    assert.ok(accepted.length > 20, `accepted ${accepted.length}`);
    // Recovered by itself: the latest deliveries were accepted again.
    const late = randomUUID();
    await waitFor('intake accepts again', async () => (await h.send('issue_comment', testComment(newPr()), late)).status === 200, 15_000);
    accepted.push(late);
    await assertExactlyOnce(accepted, refused, 40_000);
  });

  it('Kubernetes API bursts of 409, 429 and 500, and a watch that closes every second', { timeout: 60_000 }, async () => {
    const stopClosing = h.kube.faults.closeWatchesEvery(1000);
    try {
      h.kube.faults.failNext({ verb: 'create', resource: 'prowjobs', status: 429, retryAfterSeconds: 1, count: 3 });
      h.kube.faults.failNext({ verb: 'create', resource: 'prowjobs', status: 500, count: 4 });
      h.kube.faults.failNext({ verb: 'create', resource: 'prowjobs', status: 500, after: true, count: 2 }); // written, answer lost
      h.kube.faults.failNext({ verb: 'create', resource: 'prowjobs', status: 409, reason: 'Conflict', count: 2 });
      const ids = Array.from({ length: 12 }, () => randomUUID());
      await Promise.all(ids.map((id) => h.send('issue_comment', testComment(newPr()), id)));
      await assertExactlyOnce(ids, [], 45_000);
      assert.equal(h.kube.faults.pending(), 0, 'every injected fault fired');
      // The reporter keeps following the ProwJobs through the closing watches.
      const pj = h.prowjobs().find((p) => p.metadata.labels?.[LABELS.eventGuid] === ids[0])!;
      h.kube.faults.failNext({ verb: ['update', 'patch'], resource: 'prowjobs', status: 409, count: 1 });
      await h.bot.deps.prowjobs.updateStatus(pj.metadata.name, () => ({ state: 'success', completionTime: new Date().toISOString() }));
      await sleep(1200); // at least one watch close in between
      await waitFor('success reported', () => h.gh.checkRuns.find((r) => r.external_id === pj.metadata.name)?.conclusion === 'success', 20_000);
    } finally {
      stopClosing();
      h.kube.faults.reset();
    }
  });

  it('GitHub 502s, secondary rate-limit 403s with retry-after, and 404 on a deleted comment', { timeout: 60_000 }, async () => {
    const base = `/repos/${h.gh.owner}/${h.gh.repo}`;
    h.gh.faults.push(
      { method: 'GET', path: new RegExp(`^${base}/pulls/\\d+$`), status: 502, count: 2 },
      { method: 'POST', path: new RegExp(`^${base}/check-runs$`), status: 502, count: 2 },
      {
        method: 'POST',
        path: new RegExp(`^${base}/check-runs$`),
        status: 403,
        headers: { 'retry-after': '1' },
        body: { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.', documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits' },
        count: 1,
      },
    );
    const ids = Array.from({ length: 6 }, () => randomUUID());
    await Promise.all(ids.map((id) => h.send('issue_comment', testComment(newPr()), id)));
    await assertExactlyOnce(ids, [], 45_000);
    assert.ok(h.gh.faults.every((f) => f.count === 0), 'every injected GitHub fault fired');

    // The failure comment is edited in place; when someone deleted it, the edit's 404 starts a new one.
    const pr = newPr();
    const first = randomUUID();
    const second = randomUUID();
    await h.send('issue_comment', h.gh.commentEvent(pr, 'maintainer', '/test e2e-kata-qemu'), first);
    await assertExactlyOnce([first]);
    const byDelivery = (d: string) => h.prowjobs().find((p) => p.metadata.labels?.[LABELS.eventGuid] === d)!;
    const fail = (name: string) => h.bot.deps.prowjobs.updateStatus(name, () => ({ state: 'failure', completionTime: new Date().toISOString() }));
    const failureComments = () => h.gh.comments.filter((c) => c.issue === pr && /katabot:test-report/.test(c.body));
    await fail(byDelivery(first).metadata.name);
    await waitFor('failure comment', () => failureComments().length === 1, 20_000);
    h.gh.comments.splice(h.gh.comments.indexOf(failureComments()[0]!), 1); // deleted by a human
    await h.send('issue_comment', h.gh.commentEvent(pr, 'maintainer', '/test e2e-kata-clh'), second);
    await assertExactlyOnce([second]);
    await fail(byDelivery(second).metadata.name);
    await waitFor('a new failure comment after the 404', () => failureComments().length === 1, 20_000);
    assert.ok(h.gh.calls.some((c) => c.method === 'PATCH' && /issues\/comments/.test(c.path)), 'the edit was tried first');
  });

  it('two replicas: exactly one reporter, the webhook load shared', { timeout: 60_000 }, async () => {
    const second = await h.replica();
    try {
      await waitFor('one leader', () => [h.bot.reporter?.isLeader(), second.reporter?.isLeader()].filter(Boolean).length === 1, 20_000);
      const handledBy = new Map<string, string>();
      h.bot.github.probot.webhooks.onAny(({ id }) => void handledBy.set(id, 'first'));
      second.github.probot.webhooks.onAny(({ id }) => void handledBy.set(id, 'second'));
      const ids = Array.from({ length: 40 }, () => randomUUID());
      await Promise.all(ids.map((id, i) => deliver(i % 2 ? second.url : h.bot.url, SECRET, 'issue_comment', testComment(newPr()), id)));
      await assertExactlyOnce(ids);
      const counts = { first: 0, second: 0 };
      for (const id of ids) counts[handledBy.get(id) as 'first' | 'second']++;
      assert.ok(counts.first > 0 && counts.second > 0, `both workers handled deliveries: ${JSON.stringify(counts)}`);
      assert.equal([h.bot.reporter?.isLeader(), second.reporter?.isLeader()].filter(Boolean).length, 1, 'still exactly one reporter');
    } finally {
      await second.close();
    }
  });
});

describe('crash', () => {
  it('kill -9 of the bot process during a stream of 500 webhooks, then a restart: every 2xx handled exactly once', { timeout: 150_000 }, async () => {
    const { spawn } = await import('node:child_process');
    const { createServer } = await import('node:http');
    const { freePort } = await import('../fixtures/redis.ts');
    // The child cannot see this process's nock, so it talks to GitHub (GHE-style) through a proxy that replays
    // its requests here, where the FakeGitHub intercepts them.
    const proxy = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !['host', 'connection', 'content-length'].includes(k))) as Record<string, string>;
      try {
        const r = await fetch(`https://api.github.com${req.url!.replace(/^\/api\/v3/, '')}`, { method: req.method, headers, ...(chunks.length ? { body: Buffer.concat(chunks) } : {}) });
        res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' });
        res.end(Buffer.from(await r.arrayBuffer()));
      } catch {
        res.writeHead(502).end();
      }
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const port = await freePort();
    const env = {
      ...process.env,
      ...h.env,
      PORT: String(port),
      GHE_HOST: `127.0.0.1:${(proxy.address() as { port: number }).port}`,
      GHE_PROTOCOL: 'http',
      KATABOT_REPORTER: 'false',
      KATABOT_DASHBOARD: 'false',
      // The killed replica's in-flight jobs are retried once their lock lapses: 5 s here, 30 s by default.
      KATABOT_JOB_LOCK_MS: '5000',
      LOG_LEVEL: process.env.KATABOT_CHILD_LOG ?? 'silent',
    };
    const bin = new URL('../../bin/katabot.js', import.meta.url).pathname;
    const url = `http://127.0.0.1:${port}`;
    const spawnBot = async () => {
      const child: ChildProcess = spawn(process.execPath, [bin, 'serve'], { env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'ignore', process.env.KATABOT_CHILD_LOG ? 'inherit' : 'ignore'] });
      await waitFor('child listening', async () => (await fetch(`${url}/healthz`).catch(() => undefined))?.ok, 20_000);
      return child;
    };
    // The child is the only katabot on this cluster and GitHub: the harness's own (another Redis prefix,
    // so another deployment) would report the child's ProwJobs too.
    await h.stop();
    let child = await spawnBot();
    const accepted: string[] = [];
    const refused: string[] = [];
    try {
      const prs = Array.from({ length: 25 }, () => newPr());
      let sent = 0;
      const sendOne = async () => {
        const i = sent++;
        const id = randomUUID();
        const res = await deliver(url, SECRET, 'issue_comment', testComment(prs[i % prs.length]!), id).catch(() => undefined);
        (res?.status === 200 ? accepted : refused).push(id);
      };
      // 500 webhooks, 8 in flight; kill -9 after 200, restart, carry on.
      const pump = async (until: number) => {
        await Promise.all(Array.from({ length: 8 }, async () => {
          while (sent < until) await sendOne();
        }));
      };
      const killer = (async () => {
        await waitFor('200 sent', () => sent >= 200, 60_000);
        child.kill('SIGKILL');
      })();
      await pump(260);
      await killer;
      child = await spawnBot();
      await pump(500);
      assert.ok(accepted.length >= 400, `accepted ${accepted.length} of 500`);
      // Jobs the killed process held are taken over once their BullMQ lock (KATABOT_JOB_LOCK_MS) lapses.
      // A delivery the process persisted but died before answering may run (or not): GitHub redelivers it, and
      // dedupe makes the redelivery the same job. Only what got a 2xx must run, exactly once.
      await assertExactlyOnce(accepted, [], 90_000, false);
    } finally {
      child.kill('SIGKILL');
      proxy.close();
      await h.start();
    }
  });
});
