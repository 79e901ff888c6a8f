// npm run bench:e2e — end to end, from a signed `/test all` comment to its ProwJobs created (in the
// Kubernetes API double, CRD-validated) and their check runs queued (on nock'd GitHub), through the real
// intake, Redis queue, handlers and adapters. Reports p50/p99 per comment, sequentially and under a burst.
// GitHub's 1 s write spacing is production behaviour and would only measure itself, so it is 0 there.
// A second part keeps GitHub's 1 s spacing and a kubernetes/kubernetes-sized `/test all` (15 always_run jobs):
// the last ProwJob must not wait for the paced check runs (issue 13: it used to take 16 s), so it reports when the
// last ProwJob was created against when the last check run was written, in the same run.
import { performance } from 'node:perf_hooks';
import { startRedis } from '../test/fixtures/redis.ts';
import { startHarness, waitFor } from '../test/integration/harness.ts';
import { percentile } from './stats.ts';

const N = Number(process.env.BENCH_COMMENTS ?? 60);
const redis = await startRedis({ appendfsync: 'everysec' });
const h = await startHarness({ redis });


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
}

/** 15 always_run presubmits shaped like kubernetes/kubernetes' (decorated, a pod spec with resources). */
const K8S_JOBS = `presubmits:
  kata-containers/kata-containers:
${Array.from({ length: 15 }, (_, i) => `  - name: pull-kubernetes-e2e-${i}
    always_run: true
    decorate: true
    labels: {preset-service-account: "true", preset-k8s-ssh: "true"}
    spec:
      containers:
      - image: gcr.io/k8s-staging-test-infra/kubekins-e2e:v20261201-master
        command: [runner.sh]
        args: [kubetest2, gce, --up, --down, --test=ginkgo, "--", "--focus-regex=Conformance"]
        env: [{name: GINKGO_PARALLEL, value: "y"}, {name: KUBE_TIMEOUT, value: "3600"}]
        resources: {requests: {cpu: 4, memory: 14Gi}, limits: {cpu: 4, memory: 14Gi}}`).join('\n')}
`;

const ROUNDS = Number(process.env.BENCH_PACED_ROUNDS ?? 3);
const paced = await startHarness({ redis, extraJobsYaml: K8S_JOBS, env: { KATABOT_GITHUB_WRITE_INTERVAL_MS: '1000' } });
try {
  const lastJob: number[] = [];
  const lastCheck: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const pr = 9000 + r;
    const p = paced.gh.addPull({ number: pr, author: 'maintainer', files: ['README.md'] });
    const jobs = () => paced.prowjobs().filter((j) => j.spec.refs?.pulls?.[0]?.number === pr);
    const t0 = performance.now();
    await paced.send('issue_comment', paced.gh.commentEvent(pr, 'maintainer', '/test all'));
    // The Kata jobs of the harness run too: e2e-kata-qemu and metrics-silent (always_run), so 17 in all.
    await waitFor('the last ProwJob', () => jobs().length >= 17, 60_000);
    lastJob.push(performance.now() - t0);
    await waitFor('the last check run', () => paced.gh.checkRuns.filter((c) => c.head_sha === p.headSha).length >= 16, 120_000);
    lastCheck.push(performance.now() - t0);
  }
  const med = (xs: number[]) => percentile(xs, 50);
  console.log(`
/test all of 17 jobs with GitHub's 1 s write spacing (${ROUNDS} rounds, medians)`);
  console.log(`last ProwJob created after ${med(lastJob).toFixed(0)} ms; last check run written after ${med(lastCheck).toFixed(0)} ms`);
  console.log(`ProwJobs / check runs = ${(med(lastJob) / med(lastCheck)).toFixed(3)}x  (goal: every ProwJob within 1 s, not paced)`);
} finally {
  await paced.close();
  await redis.close();
}
