// What katabot's config says about one repository: whether katabot serves it, the trust policy in effect there
// (KATABOT_CONFIG, Prow's plugins.yaml trigger entry, per-repo overrides), its central jobs, and whether its own
// `.prow.yaml` may add jobs. Pure; every handler and the delivery filter start from this.
import { inRepoConfigEnabled } from '../config/in-repo.ts';
import type { PluginsConfig } from '../config/plugins-config.ts';
import { repoPolicy, servesRepo } from '../config/repo-policy.ts';
import type { KatabotConfig } from '../config/types.ts';
import type { JobConfig, Postsubmit, Presubmit, ProwConfig } from '../config/prow-types.ts';

/** The parts of a config snapshot this reads. */
export interface ConfigView {
  katabot: KatabotConfig;
  prow: ProwConfig;
  jobs: JobConfig;
  plugins?: PluginsConfig | undefined;
}

export interface RepoConfig {
  owner: string;
  repo: string;
  /** katabot acts on this repository (plugins.yaml lists it under katabot's external plugin, or there is no list). */
  serves: boolean;
  policy: KatabotConfig;
  presubmits: readonly Presubmit[];
  postsubmits: readonly Postsubmit[];
  /** Prow's in_repo_config is on here: trusted PRs bring the jobs of their `.prow.yaml` / `.prow/`. */
  inRepoConfig: boolean;
}

export function repoConfig(config: ConfigView, owner: string, repo: string): RepoConfig {
  const key = `${owner}/${repo}`;
  const serves = servesRepo(config, owner, repo);
  return {
    owner,
    repo,
    serves,
    policy: repoPolicy(config, owner, repo),
    // A repository katabot does not serve has no jobs as far as katabot is concerned.
    presubmits: serves ? (config.jobs.presubmits[key] ?? []) : [],
    postsubmits: serves ? (config.jobs.postsubmits[key] ?? []) : [],
    inRepoConfig: serves && inRepoConfigEnabled(config.prow, owner, repo),
  };
}
