// Whole real Prow configurations, when a checkout is at hand (never committed): every presubmit's and
// postsubmit's ProwJob validates against the ProwJob CRD. KATABOT_TEST_INFRA=<kubernetes/test-infra checkout>,
// KATABOT_CI_INFRA=<gardener/ci-infra checkout>; each needs config/prow/config.yaml and config/jobs.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfigSnapshot } from '../../src/config/load.ts';
import { buildPostsubmitProwJob, buildPresubmitProwJob } from '../../src/jobs/prowjob.ts';
import { crdSkipReason, loadProwJobValidator } from '../fixtures/jobs/crd-schema.ts';

const CHECKOUTS = [
  { env: 'KATABOT_TEST_INFRA', repo: 'kubernetes/test-infra' },
  { env: 'KATABOT_CI_INFRA', repo: 'gardener/ci-infra' },
] as const;

function skipReason(root: string | undefined, env: string): string | undefined {
  if (!root) return `${env} is unset (point it at a checkout to build every job of the real config)`;
  if (!existsSync(join(root, 'config', 'jobs')) || !existsSync(join(root, 'config', 'prow', 'config.yaml'))) return `${env}=${root} has no config/jobs and config/prow/config.yaml`;
  return crdSkipReason();
}

describe('whole real Prow configurations', () => {
  for (const { env, repo } of CHECKOUTS) {
    const root = process.env[env];
    const skip = skipReason(root, env);
    if (skip) console.log(`# skipping ${repo}: ${skip}`);
    it(`${repo}: every presubmit and postsubmit builds a ProwJob the CRD accepts`, { skip, timeout: 300_000 }, async (t) => {
      const dir = root as string;
      const started = performance.now();
      const s = await loadConfigSnapshot({ PROW_CONFIG: join(dir, 'config/prow/config.yaml'), JOB_CONFIG: join(dir, 'config/jobs') });
      const loadMs = performance.now() - started;
      const validate = loadProwJobValidator();
      const refused: string[] = [];
      let presubmits = 0;
      let postsubmits = 0;
      const common = { prow: s.prow, namespace: s.prow.prowjob_namespace ?? 'default', baseRef: 'main', baseSha: 'a'.repeat(40), eventGuid: 'guid', now: new Date(0) };
      for (const [orgRepo, jobs] of Object.entries(s.jobs.presubmits)) {
        const [org, repo] = orgRepo.split('/') as [string, string];
        for (const p of jobs) {
          presubmits++;
          const pj = buildPresubmitProwJob({
            ...common, presubmit: p, name: `p${presubmits}`, org, repo, repoLink: `https://github.com/${orgRepo}`,
            pull: { number: 1, author: 'a', sha: 'b'.repeat(40), title: 't', headRef: 'h', link: 'l', authorLink: 'al' },
          });
          const problems = validate(pj);
          if (problems.length > 0) refused.push(`${orgRepo} ${p.name}: ${problems.slice(0, 2).join('; ')}`);
        }
      }
      for (const [orgRepo, jobs] of Object.entries(s.jobs.postsubmits)) {
        const [org, repo] = orgRepo.split('/') as [string, string];
        for (const p of jobs) {
          postsubmits++;
          const problems = validate(buildPostsubmitProwJob({ ...common, postsubmit: p, name: `q${postsubmits}`, org, repo, repoLink: `https://github.com/${orgRepo}` }));
          if (problems.length > 0) refused.push(`${orgRepo} ${p.name} (postsubmit): ${problems.slice(0, 2).join('; ')}`);
        }
      }
      t.diagnostic(`${repo}: ${s.sources.length} files read in ${Math.round(loadMs)} ms; ${presubmits} presubmits, ${postsubmits} postsubmits, ${s.jobs.periodics.length} periodics; ${refused.length} ProwJobs the CRD refuses`);
      for (const r of refused.slice(0, 20)) t.diagnostic(r);
      assert.ok(presubmits > 0);
      assert.deepEqual(refused, []);
    });
  }
});
