// PRs opened on repositories of kubernetes/test-infra's real Prow configuration (issue 13): each starts exactly the
// jobs Prow's trigger would start, every ProwJob accepted by the API-server double's ProwJob CRD validation, with
// Prow's plugins.yaml deciding trust (kubernetes' orgs are members-only). One harness per repository, one at a time:
// each FakeGitHub serves one repository.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import { loadConfigSnapshot } from '../../src/config/load.ts';
import { selectForTestAll } from '../../src/jobs/select.ts';
import { HAVE_CRD, ROOT, startHarness, waitFor, type Harness } from './harness.ts';

// kubernetes/test-infra at 9cd5798c (test/fixtures/prow-real/README.md): the repositories whose ProwJobs Prow's
// decoding rules used to break. A PR on each must start exactly what Prow's trigger would, every one accepted by
// the ProwJob CRD.
const REAL = join(ROOT, 'test/fixtures/prow-real/kubernetes-test-infra/config');
for (const [owner, name] of [['kubernetes', 'cloud-provider-vsphere'], ['kubernetes', 'perf-tests'], ['kubernetes-sigs', 'promo-tools']] as const) {
  describe(`a PR opened on ${owner}/${name} with kubernetes' real config`, { skip: HAVE_CRD ? false : 'no ../shared/prow CRD to validate ProwJobs against' }, () => {
    let r: Harness;
    const env = { PROW_CONFIG: join(REAL, 'prow/config.yaml'), JOB_CONFIG: join(REAL, 'jobs'), PLUGIN_CONFIG: join(REAL, 'prow/plugins.yaml'), KATABOT_CONFIG: '' };
    before(async () => {
      r = await startHarness({ repo: { owner, name }, env });
    });
    after(async () => r?.close());

    it('starts every job Prow would start, each accepted by the API server', async () => {
      const files = ['Makefile', 'docs/README.md', 'pkg/x.go', 'clusterloader2/main.go', 'go.mod'];
      const pr = r.gh.addPull({ number: 7, author: 'maintainer', files });
      const snapshot = await loadConfigSnapshot({ PROW_CONFIG: env.PROW_CONFIG, JOB_CONFIG: env.JOB_CONFIG, PLUGIN_CONFIG: env.PLUGIN_CONFIG });
      const want = selectForTestAll(snapshot.jobs.presubmits[`${owner}/${name}`] ?? [], 'main', files).map((j) => j.presubmit.name).sort();
      assert.ok(want.length > 0, `Prow would start jobs on ${owner}/${name}`);
      await r.send('pull_request', r.gh.pullRequestEvent(pr.number, 'opened'));
      await waitFor('every job', () => r.prowjobs().length === want.length, 20_000);
      await r.settle();
      assert.deepEqual(r.prowjobs().map((pj) => pj.spec.job).sort(), want);
      const refused = r.kube.requests({ verb: 'create', resource: 'prowjobs' }).filter((q) => q.status >= 400);
      assert.deepEqual(refused, [], 'the API server refused a ProwJob');
    });

    it("trusts as plugins.yaml says: kubernetes' orgs are members-only, so a collaborator's PR waits for /ok-to-test", async () => {
      const pr = r.gh.addPull({ number: 8, author: 'collaborator', files: ['go.mod'] });
      const jobsBefore = r.prowjobs().length;
      await r.send('pull_request', r.gh.pullRequestEvent(pr.number, 'opened'));
      await waitFor('the welcome', () => r.gh.comments.find((c) => c.issue === pr.number && c.body.includes('katabot:welcome')));
      await r.settle();
      assert.equal(r.prowjobs().length, jobsBefore);
      assert.ok(r.gh.labels.get(pr.number)!.has('needs-ok-to-test'));
    });
  });
}
