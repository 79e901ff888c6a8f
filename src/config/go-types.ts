// The Go types Prow decodes its YAML into, as data: Kubernetes types from @kubernetes/client-node's own type maps
// (kube-types.ts, generated), Prow's job and config types hand-listed from kubernetes-sigs/prow at a6194089
// (pkg/config/jobs.go, pkg/config/config.go, pkg/apis/prowjobs/v1/types.go). go-yaml.ts decodes against them.
import { KUBE_TYPES } from './kube-types.ts';

/**
 * A Go type, as far as decoding YAML into it matters:
 * - `string`, `bool`, `int`, `float`: Go's kinds;
 * - `quantity`: resource.Quantity; `intOrString`: intstr.IntOrString;
 * - `duration`: Prow's prowapi.Duration (a duration string or integer nanoseconds); `metaDuration`: metav1.Duration;
 * - `any`: interface{} or a field katabot keeps without knowing its type;
 * - lists, string-keyed maps and named structs.
 */
export type GoType =
  | 'string' | 'bool' | 'int' | 'float' | 'quantity' | 'intOrString' | 'duration' | 'metaDuration' | 'any'
  | { list: GoType } | { map: GoType } | { struct: string };

export interface StructType {
  fields: Readonly<Record<string, GoType>>;
  /** Keys the type does not list are kept (as `any`) instead of dropped as Go's decoder drops them. */
  open?: boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// Kubernetes types: client-node's type strings translated. client-node types resource.Quantity as a plain string,
// so those fields are listed here (test/unit/config/go-types.test.ts checks the list against the OpenAPI spec).

const QUANTITY_FIELDS: ReadonlyArray<readonly [string, string]> = [
  ['V1ResourceRequirements', 'limits'],
  ['V1ResourceRequirements', 'requests'],
  ['V1VolumeResourceRequirements', 'limits'],
  ['V1VolumeResourceRequirements', 'requests'],
  ['V1PodSpec', 'overhead'],
  ['V1EmptyDirVolumeSource', 'sizeLimit'],
  ['V1ResourceFieldSelector', 'divisor'],
];

/** Translates a client-node type string (`Array<V1EnvVar>`, `{ [key: string]: string; }`, `number|int32`…). */
function fromClientType(type: string): GoType {
  const [t, format = ''] = type.split('|') as [string, string?];
  const list = /^Array<(.+)>$/.exec(t);
  if (list) return { list: fromClientType(format ? `${list[1]}|${format}` : (list[1] as string)) };
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(t);
  if (map) return { map: fromClientType(map[1] as string) };
  switch (t) {
    case 'string':
    case 'Date':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'number':
      return format === 'double' || format === 'float' ? 'float' : 'int';
    case 'IntOrString':
      return 'intOrString';
    case 'any':
      return 'any';
    default:
      if (!KUBE_TYPES[t]) throw new Error(`unknown client-node type ${JSON.stringify(type)}`);
      return { struct: t };
  }
}

function kubeStructs(): Record<string, StructType> {
  const out: Record<string, StructType> = {};
  for (const [name, fields] of Object.entries(KUBE_TYPES)) {
    const translated: Record<string, GoType> = {};
    for (const [field, type] of Object.entries(fields)) translated[field] = fromClientType(type);
    out[name] = { fields: translated };
  }
  for (const [type, field] of QUANTITY_FIELDS) {
    const s = out[type];
    const current = s?.fields[field];
    if (!s || current === undefined) throw new Error(`kube-types.ts has no ${type}.${field}`);
    (s.fields as Record<string, GoType>)[field] = typeof current === 'object' && 'map' in current ? { map: 'quantity' } : 'quantity';
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Prow's types (field names as their json tags; embedded structs flattened as Go's encoder promotes them).

const S = 'string' as const;
const B = 'bool' as const;
const I = 'int' as const;
const list = (t: GoType): GoType => ({ list: t });
const map = (t: GoType): GoType => ({ map: t });
const struct = (name: string): GoType => ({ struct: name });

/** config.JobBase + UtilityConfig */
const JOB_BASE: Record<string, GoType> = {
  name: S,
  labels: map(S),
  max_concurrency: I,
  agent: S,
  cluster: S,
  namespace: S,
  error_on_eviction: B,
  spec: struct('V1PodSpec'),
  pipeline_run_spec: 'any',
  tekton_pipeline_run_spec: 'any',
  annotations: map(S),
  reporter_config: struct('ReporterConfig'),
  rerun_auth_config: struct('RerunAuthConfig'),
  hidden: B,
  prowjob_defaults: struct('ProwJobDefault'),
  job_queue_name: S,
  decorate: B,
  path_alias: S,
  clone_uri: S,
  skip_submodules: B,
  clone_depth: I,
  skip_fetch_head: B,
  extra_refs: list(struct('Refs')),
  decoration_config: struct('DecorationConfig'),
};
const BRANCHER = { skip_branches: list(S), branches: list(S) };
const CHANGE_MATCHER = { run_if_changed: S, skip_if_only_changed: S };
const REPORTER = { context: S, skip_report: B };

const RESOURCE_REQUIREMENTS = struct('V1ResourceRequirements');

/** config.JobConfig's fields, inlined in config.yaml's Config as well. */
const JOB_CONFIG: Record<string, GoType> = {
  presets: list(struct('Preset')),
  presubmits: map(list(struct('Presubmit'))),
  postsubmits: map(list(struct('Postsubmit'))),
  periodics: list(struct('Periodic')),
  decorate_all_jobs: B,
};

const PROW_TYPES: Readonly<Record<string, StructType>> = {
  Presubmit: {
    fields: {
      ...JOB_BASE, ...BRANCHER, ...CHANGE_MATCHER, ...REPORTER,
      always_run: B, optional: B, trigger: S, rerun_command: S, run_before_merge: B, jenkins_spec: struct('JenkinsSpec'),
    },
  },
  Postsubmit: { fields: { ...JOB_BASE, ...BRANCHER, ...CHANGE_MATCHER, ...REPORTER, always_run: B, jenkins_spec: struct('JenkinsSpec') } },
  Periodic: { fields: { ...JOB_BASE, interval: S, minimum_interval: S, cron: S, tags: list(S), retry: struct('Retry') } },
  Retry: { fields: { run_all: B, attempts: I, interval: S } },
  JenkinsSpec: { fields: { github_branch_source_job: B } },
  Preset: {
    fields: {
      labels: map(S),
      env: list(struct('V1EnvVar')),
      volumes: list(struct('V1Volume')),
      volumeMounts: list(struct('V1VolumeMount')),
      tolerations: list(struct('V1Toleration')),
    },
  },
  /** config.JobConfig: a job config file, and the job part of config.yaml. */
  JobConfig: { fields: { ...JOB_CONFIG, prow_ignored: 'any' } },
  /** ProwYAML: `.prow.yaml` and the files of `.prow/`. */
  ProwYAML: {
    fields: { presets: list(struct('Preset')), presubmits: list(struct('Presubmit')), postsubmits: list(struct('Postsubmit')), prow_ignored: 'any' },
  },
  /** config.yaml: the settings katabot reads are typed, the rest is kept as written. */
  ProwConfig: {
    open: true,
    fields: {
      ...JOB_CONFIG,
      prowjob_namespace: S,
      pod_namespace: S,
      plank: struct('Plank'),
      prowjob_default_entries: list(struct('ProwJobDefaultEntry')),
      in_repo_config: struct('InRepoConfig'),
      scheduler: struct('Scheduler'),
      deck: 'any',
    },
  },
  Plank: {
    open: true,
    fields: {
      job_url_template: S,
      pod_pending_timeout: 'metaDuration',
      pod_running_timeout: 'metaDuration',
      pod_unscheduled_timeout: 'metaDuration',
      max_revivals: I,
      default_decoration_configs: map(struct('DecorationConfig')),
      default_decoration_config_entries: list(struct('DefaultDecorationConfigEntry')),
      job_url_prefix_config: map(S),
      jobURLPrefixDisableAppendStorageProvider: B,
      job_queue_capacities: map(I),
    },
  },
  DefaultDecorationConfigEntry: { fields: { repo: S, cluster: S, config: struct('DecorationConfig') } },
  ProwJobDefaultEntry: { fields: { repo: S, cluster: S, config: struct('ProwJobDefault') } },
  InRepoConfig: { fields: { enabled: map(B), allowed_clusters: map(list(S)) } },
  Scheduler: { open: true, fields: { enabled: B } },
  // plugins.yaml (pkg/plugins/config.go): only the sections katabot reads; the others are dropped.
  PluginsConfiguration: {
    fields: { triggers: list(struct('Trigger')), external_plugins: map(list(struct('ExternalPlugin'))), plugins: 'any' },
  },
  Trigger: {
    fields: {
      repos: list(S), trusted_apps: list(S), trusted_org: S, join_org_url: S, only_org_members: B, ignore_ok_to_test: B,
      trigger_github_workflows: B, org_invite: 'any',
    },
  },
  ExternalPlugin: { fields: { name: S, endpoint: S, events: list(S) } },
  // prowapi types (pkg/apis/prowjobs/v1/types.go): what a ProwJob carries, checked against the CRD in tests.
  DecorationConfig: {
    fields: {
      timeout: 'duration',
      grace_period: 'duration',
      utility_images: struct('UtilityImages'),
      resources: struct('Resources'),
      gcs_configuration: struct('GCSConfiguration'),
      gcs_credentials_secret: S,
      s3_credentials_secret: S,
      default_service_account_name: S,
      ssh_key_secrets: list(S),
      ssh_host_fingerprints: list(S),
      blobless_fetch: B,
      sparse_checkout_files: list(S),
      skip_cloning: B,
      cookiefile_secret: S,
      oauth_token_secret: struct('OauthTokenSecret'),
      github_api_endpoints: list(S),
      github_app_id: S,
      github_app_private_key_secret: struct('GitHubAppPrivateKeySecret'),
      censor_secrets: B,
      censoring_options: struct('CensoringOptions'),
      upload_ignores_interrupts: B,
      set_limit_equals_memory_request: B,
      default_memory_request: 'quantity',
      scheduling_options: struct('SchedulingOptions'),
      pod_pending_timeout: 'metaDuration',
      pod_running_timeout: 'metaDuration',
      pod_unscheduled_timeout: 'metaDuration',
      run_as_user: I,
      run_as_group: I,
      fs_group: I,
    },
  },
  UtilityImages: { fields: { clonerefs: S, initupload: S, entrypoint: S, sidecar: S } },
  Resources: { fields: { clonerefs: RESOURCE_REQUIREMENTS, initupload: RESOURCE_REQUIREMENTS, place_entrypoint: RESOURCE_REQUIREMENTS, sidecar: RESOURCE_REQUIREMENTS } },
  GCSConfiguration: {
    fields: {
      bucket: S, path_prefix: S, path_strategy: S, default_org: S, default_repo: S, mediaTypes: map(S), job_url_prefix: S,
      local_output_dir: S, compress_file_types: list(S),
    },
  },
  OauthTokenSecret: { fields: { name: S, key: S } },
  GitHubAppPrivateKeySecret: { fields: { name: S, key: S } },
  CensoringOptions: { fields: { censoring_concurrency: I, censoring_buffer_size: I, include_directories: list(S), exclude_directories: list(S), minimum_secret_length: I } },
  SchedulingOptions: { fields: { affinity: struct('V1Affinity'), tolerations: list(struct('V1Toleration')) } },
  Refs: {
    fields: {
      org: S, repo: S, repo_link: S, base_ref: S, base_sha: S, base_link: S, pulls: list(struct('Pull')), path_alias: S, workdir: B,
      auxiliary: B, clone_uri: S, skip_submodules: B, clone_depth: I, skip_fetch_head: B, blobless_fetch: B, sparse_checkout_files: list(S),
    },
  },
  Pull: { fields: { number: I, author: S, sha: S, title: S, ref: S, head_ref: S, link: S, commit_link: S, author_link: S } },
  ReporterConfig: { fields: { slack: struct('SlackReporterConfig') } },
  SlackReporterConfig: { fields: { host: S, channel: S, job_states_to_report: list(S), report_template: S, report: B } },
  RerunAuthConfig: { fields: { allow_anyone: B, github_team_ids: list(I), github_team_slugs: list(struct('GitHubTeamSlug')), github_users: list(S), github_orgs: list(S) } },
  GitHubTeamSlug: { fields: { slug: S, org: S } },
  ProwJobDefault: { fields: { resultstore_config: struct('ResultStoreConfig'), tenant_id: S } },
  ResultStoreConfig: { fields: { project_id: S } },
};

/** Every struct type the decoder knows: Kubernetes' (generated) and Prow's. */
export const GO_STRUCTS: Readonly<Record<string, StructType>> = { ...kubeStructs(), ...PROW_TYPES };
