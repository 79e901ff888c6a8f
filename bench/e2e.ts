// npm run bench:e2e — end to end, from a signed `/test all` comment to its ProwJobs created (in the
// Kubernetes API double, CRD-validated) and their check runs queued (on nock'd GitHub), through the real
// intake, Redis queue, handlers and adapters. Reports p50/p99 per comment, sequentially and under a burst.
// GitHub's 1 s write spacing is production behaviour and would only measure itself, so it is 0 here;
// the figure is katabot's own work plus the local doubles.
import { performance } from 'node:perf_hooks';
import { startRedis } from '../test/fixtures/redis.ts';
import { startHarness, waitFor } from '../test/integration/harness.ts';

const N = Number(process.env.BENCH_COMMENTS ?? 60);
const redis = await startRedis({ appendfsync: 'everysec' });
const h = await startHarness({ redis });

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

async function one(pr: number): Promise<number> {
  const p = h.gh.addPull({ number: pr, author: 'maintainer', files: ['src/runtime/virtcontainers/qemu.go'] });
  const t0 = performance.now();
  const res = await h.send('issue_comment', h.gh.commentEvent(pr, 'maintainer', '/test all'));
  if (res.status !== 200) throw new Error(`intake answered ${res.status}`);
  // /test all here selects 3 jobs (two with check runs; skip_report gets none).
  await waitFor(`PR ${pr} done`, () => h.gh.checkRuns.filter((r) => r.head_sha === p.headSha).length >= 2 && h.prowjobs().filter((j) => j.spec.refs?.pulls?.[0]?.number === pr).length >= 3, 30_000);
  return performance.now() - t0;
}

try {
  await one(1); // warm-up
  const sequential: number[] = [];
  for (let i = 0; i < N; i++) sequential.push(await one(1000 + i));
  const burstStart = performance.now();
  const burst = await Promise.all(Array.from({ length: N }, (_, i) => one(5000 + i)));
  const burstSeconds = (performance.now() - burstStart) / 1000;
  const jobs = N * 3;
  console.log(`\ne2e: /test all comment → 3 ProwJobs created + 2 check runs queued (${N} comments each)`);
  console.log(`sequential: p50 ${percentile(sequential, 50).toFixed(0)} ms, p99 ${percentile(sequential, 99).toFixed(0)} ms`);
  console.log(`burst of ${N}: p50 ${percentile(burst, 50).toFixed(0)} ms, p99 ${percentile(burst, 99).toFixed(0)} ms, ${(jobs / burstSeconds).toFixed(0)} ProwJobs/s`);
} finally {
  await h.close();
  await redis.close();
}
