// Shapes of Prow's configuration: config.yaml and the job config, as Prow's Go types name them (the ProwJob resource
// is in src/jobs/types.ts). Field names follow Prow's JSON/YAML names exactly, so objects round-trip.
import type { V1PodSpec } from '@kubernetes/client-node';

export type PodSpec = V1PodSpec;

/** plank's decoration config; kept open because Prow adds fields over time. */
export interface DecorationConfig {
  timeout?: string;
  grace_period?: string;
  utility_images?: { clonerefs?: string; initupload?: string; entrypoint?: string; sidecar?: string };
  gcs_configuration?: {
    bucket?: string;
    path_prefix?: string;
    path_strategy?: 'legacy' | 'single' | 'explicit';
    default_org?: string;
    default_repo?: string;
    job_url_prefix?: string;
    [key: string]: unknown;
  };
  gcs_credentials_secret?: string;
  s3_credentials_secret?: string;
  [key: string]: unknown;
}

/** Fields every job kind shares (Prow's JobBase + UtilityConfig), as written in the job config. */
export interface JobBase {
  name: string;
  max_concurrency?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  decorate?: boolean;
  decoration_config?: DecorationConfig;
  spec?: PodSpec;
  cluster?: string;
  // Further JobBase / UtilityConfig fields Prow copies into the ProwJob (all optional).
  agent?: string;
  namespace?: string;
  extra_refs?: Refs[];
  path_alias?: string;
  clone_uri?: string;
  skip_submodules?: boolean;
  clone_depth?: number;
  skip_fetch_head?: boolean;
  error_on_eviction?: boolean;
  hidden?: boolean;
  job_queue_name?: string;
  reporter_config?: { [key: string]: unknown };
  rerun_auth_config?: { [key: string]: unknown };
  prowjob_defaults?: ProwJobDefault;
  [key: string]: unknown;
}

/** One presubmit as written in Prow's job config (`presubmits: {org/repo: [...]}`). */
export interface Presubmit extends JobBase {
  always_run?: boolean;
  run_if_changed?: string;
  skip_if_only_changed?: string;
  optional?: boolean;
  skip_report?: boolean;
  context?: string;
  trigger?: string;
  rerun_command?: string;
  branches?: string[];
  skip_branches?: string[];
}

/** Prow's `prowjob_defaults` (spec.prowjob_defaults); tenant_id defaults to "GlobalDefaultID". */
export interface ProwJobDefault {
  tenant_id?: string;
  resultstore_config?: { [key: string]: unknown };
  [key: string]: unknown;
}

/** One postsubmit (`postsubmits: {org/repo: [...]}`); with no change rule and no always_run it runs on every push. */
export interface Postsubmit extends JobBase {
  always_run?: boolean;
  run_if_changed?: string;
  skip_if_only_changed?: string;
  skip_report?: boolean;
  context?: string;
  branches?: string[];
  skip_branches?: string[];
}

export interface Periodic extends JobBase {
  interval?: string;
  minimum_interval?: string;
  cron?: string;
}

/** All jobs read from JOB_CONFIG, keyed by `org/repo` for presubmits and postsubmits. */
export interface JobConfig {
  presubmits: Record<string, Presubmit[]>;
  postsubmits: Record<string, Postsubmit[]>;
  periodics: Periodic[];
  /** `decorate_all_jobs` when a job config file sets it (Prow merges it with config.yaml's). */
  decorate_all_jobs?: boolean;
  /** Every preset, in Prow's order (already applied to the jobs above; in-repo config jobs get them too). */
  presets?: Array<Record<string, unknown>>;
}

/** The parts of Prow's config.yaml (PROW_CONFIG) that katabot reads. */
export interface ProwConfig {
  prowjob_namespace?: string;
  pod_namespace?: string;
  /** Decorate jobs that do not say `decorate:` themselves. */
  decorate_all_jobs?: boolean;
  /** Entries merged (in order, matching `repo` and `cluster`) into each job's spec.prowjob_defaults. */
  prowjob_default_entries?: Array<{ repo?: string; cluster?: string; config: ProwJobDefault }>;
  plank?: {
    job_url_prefix_config?: Record<string, string>;
    job_url_template?: string;
    /** After parsing, always the normalised list (the older map form is converted as Prow does). */
    default_decoration_config_entries?: Array<{ repo?: string; cluster?: string; config: DecorationConfig }>;
    /** Older map form keyed `'*'`, `org` or `org/repo`. */
    default_decoration_configs?: Record<string, DecorationConfig>;
    jobURLPrefixDisableAppendStorageProvider?: boolean;
    [key: string]: unknown;
  };
  deck?: { [key: string]: unknown };
  /** In-repo config (`.prow.yaml` / `.prow/`): enabled per `*`, org or org/repo; clusters its jobs may use. */
  in_repo_config?: { enabled?: Record<string, boolean>; allowed_clusters?: Record<string, string[]> };
  /** Prow's scheduler: when enabled, new ProwJobs start in state `scheduling`. */
  scheduler?: { enabled?: boolean; [key: string]: unknown };
  [key: string]: unknown;
}

interface Pull {
  number: number;
  author: string;
  sha: string;
  title?: string;
  ref?: string;
  head_ref?: string;
  link?: string;
  commit_link?: string;
  author_link?: string;
}

export interface Refs {
  org: string;
  repo: string;
  repo_link?: string;
  base_ref?: string;
  base_sha?: string;
  base_link?: string;
  pulls?: Pull[];
  path_alias?: string;
  workdir?: boolean;
  [key: string]: unknown;
}

/** kube.DefaultClusterAlias */
export const DEFAULT_CLUSTER = 'default';
/** Prow's default for pod_namespace and prowjob_namespace when config.yaml does not set them. */
export const DEFAULT_NAMESPACE = 'default';
/** config.DefaultTenantID */
export const DEFAULT_TENANT_ID = 'GlobalDefaultID';
