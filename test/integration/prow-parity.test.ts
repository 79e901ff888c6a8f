// Replacing Prow's trigger (issue 13), end to end against real Redis, the Kubernetes API-server double (with the
// ProwJob CRD) and nock'd GitHub: every job of an event is created on its own and before any paced GitHub write;
// postsubmits on push; in-repo config for trusted PRs. Real configurations of large orgs: prow-real-prs.test.ts.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { prowJobName } from '../../src/jobs/names.ts';
import { LABELS, type ProwJob } from '../../src/jobs/types.ts';
import { PROW_YAML, startHarness, waitFor, type Harness } from './harness.ts';

const POSTSUBMITS = `
postsubmits:
  kata-containers/kata-containers:
  - name: post-kata-build
    branches: [main]
    decorate: true
    spec:
      containers:
      - image: quay.io/kata-containers/ci:latest
        command: [make]
  - name: post-kata-docs
    run_if_changed: '^docs/'
    spec:
      containers:
      - image: quay.io/kata-containers/lint:latest
`;

const IN_REPO = `${PROW_YAML}
in_repo_config:
  enabled:
    kata-containers/kata-containers: true
`;

const GOOD_PROW_YAML = `presubmits:
- name: in-repo-unit
  always_run: false
  decorate: true
  spec:
    containers:
    - image: golang:1.23
      command: [go, test, ./...]
`;

let h: Harness;
let next = 12_000;
const jobsOf = (pr: number): ProwJob[] => h.prowjobs().filter((pj) => pj.metadata.labels?.[LABELS.pull] === String(pr));

before(async () => {
  h = await startHarness({ extraJobsYaml: POSTSUBMITS, prowYaml: IN_REPO });
});
after(async () => h?.close());

describe('the jobs of one event', () => {
  it('a ProwJob the cluster refuses gets a failed check run saying why and one reply; the others still start', async () => {
    const pr = h.gh.addPull({ number: next++, author: 'maintainer' });
    const delivery = randomUUID();
    const refused = prowJobName([delivery, 'comment', 'e2e-kata-clh', pr.headSha, 'plain']);
    const why = `ProwJob.prow.k8s.io "${refused}" is invalid: spec.pod_spec.containers[0].resources.requests.cpu: Invalid value: "0.5x"`;
    h.kube.faults.failNext({ verb: 'create', resource: 'prowjobs', name: refused, status: 422, reason: 'Invalid', message: why });
    const res = await h.send('issue_comment', h.gh.commentEvent(pr.number, 'maintainer', '/test e2e-kata-qemu e2e-kata-clh docs-lint'), delivery);
    assert.equal(res.status, 200);
    await waitFor('the other jobs', () => jobsOf(pr.number).length === 2);
    const reply = await waitFor('the reply', () => h.gh.comments.find((c) => c.issue === pr.number && /katabot:reply \S+:refused -->/.test(c.body)));
    assert.match(reply.body, /`e2e-kata-clh`: .*resources\.requests\.cpu: Invalid value/);
    const run = h.gh.checkRuns.find((r) => r.external_id === refused)!;
    assert.equal(run.conclusion, 'failure');
    assert.match(run.output.summary, /Invalid value: "0\.5x"/);
    assert.deepEqual(jobsOf(pr.number).map((pj) => pj.spec.job).sort(), ['docs-lint', 'e2e-kata-qemu']);
    await h.settle();
    assert.equal(h.gh.checkRuns.filter((r) => r.head_sha === pr.headSha).length, 3, 'one check run per job asked for');
    assert.equal(h.gh.comments.filter((c) => c.issue === pr.number).length, 1, 'one reply');
  });

  it('every ProwJob is created before the first GitHub write of the event', async () => {
    const pr = h.gh.addPull({ number: next++, author: 'maintainer', files: ['src/runtime/main.go'] });
    const from = h.gh.calls.length;
    const kubeFrom = h.kube.requests({ verb: 'create', resource: 'prowjobs' }).length;
    await h.send('issue_comment', h.gh.commentEvent(pr.number, 'maintainer', '/test all'));
    // metrics-silent skips reporting: three jobs, two check runs.
    await waitFor('check runs', () => h.gh.checkRuns.filter((r) => r.head_sha === pr.headSha).length === 2);
    const creates = h.kube.requests({ verb: 'create', resource: 'prowjobs' }).slice(kubeFrom).filter((r) => r.status === 201);
    const writes = h.gh.calls.slice(from).filter((c) => c.method !== 'GET');
    assert.equal(creates.length, 3);
    assert.ok(Math.max(...creates.map((c) => c.at!)) <= Math.min(...writes.map((w) => w.at)), 'a GitHub write came before the last ProwJob');
  });
});

describe('postsubmits on push (Prow trigger push.go)', () => {
  const byDelivery = (delivery: string) => h.prowjobs().filter((pj) => pj.metadata.labels?.[LABELS.eventGuid] === delivery);

  const cases: Array<{ name: string; ref: string; files: string[]; deleted?: boolean; want: string[] }> = [
    { name: 'a push to main starts the branch job; docs untouched', ref: 'refs/heads/main', files: ['src/runtime/x.go'], want: ['post-kata-build'] },
    { name: 'a docs change starts the docs job too', ref: 'refs/heads/main', files: ['docs/README.md'], want: ['post-kata-build', 'post-kata-docs'] },
    { name: 'another branch: only what has no branch rule and matches', ref: 'refs/heads/stable-3.2', files: ['docs/a.md'], want: ['post-kata-docs'] },
    { name: 'a deleted branch starts nothing', ref: 'refs/heads/main', files: [], deleted: true, want: [] },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const delivery = randomUUID();
      const after = c.deleted ? '0'.repeat(40) : randomUUID().replace(/-/g, '').padEnd(40, '0').slice(0, 40);
      assert.equal((await h.send('push', h.gh.pushEvent(c.ref, after, c.files, c.deleted ? { deleted: true } : {}), delivery)).status, 200);
      if (c.want.length) await waitFor('postsubmits', () => byDelivery(delivery).length === c.want.length);
      await h.settle();
      const jobs = byDelivery(delivery);
      assert.deepEqual(jobs.map((pj) => pj.spec.job).sort(), c.want);
      for (const pj of jobs) {
        assert.equal(pj.spec.type, 'postsubmit');
        assert.equal(pj.spec.refs?.base_sha, after);
        assert.equal(pj.spec.refs?.base_ref, c.ref.replace('refs/heads/', ''));
        assert.match(pj.spec.refs?.base_link ?? '', /\/compare\//);
      }
    });
  }
});

describe('in-repo config (.prow.yaml), read at the PR merged onto its base, for trusted PRs only', () => {
  it("a trusted PR's own job runs by name", async () => {
    const pr = h.gh.addPull({ number: next++, author: 'maintainer', mergeSha: 'd'.repeat(40) });
    h.gh.contents.set(`.prow.yaml@${pr.mergeSha}`, GOOD_PROW_YAML);
    await h.send('issue_comment', h.gh.commentEvent(pr.number, 'maintainer', '/test in-repo-unit'));
    const [pj] = await waitFor('the in-repo job', () => (jobsOf(pr.number).length ? jobsOf(pr.number) : undefined));
    assert.equal(pj!.spec.job, 'in-repo-unit');
    assert.deepEqual(pj!.spec.pod_spec?.containers[0]?.command, ['go', 'test', './...']);
  });

  it('a broken .prow.yaml is answered naming the file and line; central jobs still run', async () => {
    const pr = h.gh.addPull({ number: next++, author: 'maintainer', mergeSha: 'e'.repeat(40) });
    h.gh.contents.set(`.prow.yaml@${pr.mergeSha}`, 'presubmits:\n- always_run: true\n  spec:\n    containers:\n    - image: x\n');
    await h.send('issue_comment', h.gh.commentEvent(pr.number, 'maintainer', '/test e2e-kata-qemu'));
    const reply = await waitFor('the reply', () => h.gh.comments.find((c) => c.issue === pr.number && /:in-repo-config -->/.test(c.body)));
    assert.match(reply.body, /`\.prow\.yaml:2`/);
    assert.match(reply.body, /name/);
    await waitFor('the central job', () => jobsOf(pr.number).some((pj) => pj.spec.job === 'e2e-kata-qemu'));
  });

  it("an untrusted PR's .prow.yaml is not read, so its jobs do not exist", async () => {
    const pr = h.gh.addPull({ number: next++, author: 'contributor-x', mergeSha: 'f'.repeat(40) });
    h.gh.contents.set(`.prow.yaml@${pr.mergeSha}`, GOOD_PROW_YAML);
    const from = h.gh.calls.length;
    await h.send('issue_comment', h.gh.commentEvent(pr.number, 'maintainer', '/test in-repo-unit'));
    const reply = await waitFor('the reply', () => h.gh.comments.find((c) => c.issue === pr.number));
    assert.match(reply.body, /were not found/);
    assert.ok(!h.gh.calls.slice(from).some((c) => c.path.includes('/contents/')), 'no in-repo config was read');
    assert.deepEqual(jobsOf(pr.number), []);
  });
});
