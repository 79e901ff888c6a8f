// ProwJob objects shaped as Prow's trigger creates them (pkg/pjutil/pjutil.go NewPresubmit/PresubmitSpec,
// pkg/pod-utils/decorate/podspec.go LabelsAndAnnotationsForSpec, pkg/config defaulting). Pure.
import type { ProwJob, ProwJobSpec, ProwJobType } from './types.ts';
import type { DecorationConfig, JobBase, Periodic, Postsubmit, Presubmit, ProwConfig, ProwJobDefault, Refs } from '../config/prow-types.ts';
import { DEFAULT_CLUSTER, DEFAULT_NAMESPACE, DEFAULT_TENANT_ID } from '../config/prow-types.ts';
import { ANNOTATIONS, LABELS } from './types.ts';
import { contextOf, rerunCommandOf } from './select.ts';
import { sanitizeLabels, truncateLabelValue } from '../config/k8s-labels.ts';


export interface PresubmitJobInput {
  presubmit: Presubmit;
  prow: ProwConfig;
  /** metadata.name: a UUID from names.ts prowJobName. */
  name: string;
  /** metadata.namespace: the ProwJob namespace (PROWJOB_NAMESPACE / prow.prowjob_namespace). */
  namespace: string;
  org: string;
  repo: string;
  baseRef: string;
  baseSha: string;
  /** html_url of the base repository, e.g. https://github.com/kata-containers/kata-containers */
  repoLink: string;
  pull: { number: number; author: string; sha: string; title: string; headRef: string; link: string; authorLink: string };
  /** X-GitHub-Delivery of the triggering event (label event-GUID). */
  eventGuid: string;
  now: Date;
  /** /retest or /retest-required: adds prow.k8s.io/retest: "true". */
  retest?: boolean;
  /** More labels (e.g. katabot.dev/trace); they override the job's own labels, as Prow's additionalLabels do. */
  extraLabels?: Record<string, string>;
}

export interface PostsubmitJobInput {
  postsubmit: Postsubmit;
  prow: ProwConfig;
  name: string;
  namespace: string;
  org: string;
  repo: string;
  baseRef: string;
  baseSha: string;
  repoLink: string;
  /**
   * refs.base_link. Prow's push handler uses the push event's `compare` URL; without it, the commit link
   * (`<repoLink>/commit/<baseSha>`).
   */
  baseLink?: string;
  eventGuid?: string;
  now: Date;
  extraLabels?: Record<string, string>;
}

export interface PeriodicJobInput {
  periodic: Periodic;
  prow: ProwConfig;
  name: string;
  namespace: string;
  now: Date;
  extraLabels?: Record<string, string>;
}

// ---------------------------------------------------------------------------------------------------------------
// Generic helpers

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A JSON deep copy (job configs come from YAML: plain data only). */
function deepCopy<T>(v: T): T {
  return v === undefined ? v : (structuredClone(v) as T);
}

/**
 * Go's `ApplyDefault` for decoration configs, generalised: fields set on `over` win; nested objects merge field by
 * field; lists and scalars are replaced as a whole.
 */
export function deepMerge<T extends Record<string, unknown>>(base: T | undefined, over: T | undefined): T | undefined {
  if (base === undefined) return deepCopy(over);
  if (over === undefined) return deepCopy(base);
  const out: Record<string, unknown> = deepCopy(base);
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined || v === null) continue;
    const cur = out[k];
    out[k] = isRecord(cur) && isRecord(v) ? deepMerge(cur, v) : deepCopy(v);
  }
  return out as T;
}

/** Prow's entry filter: repo '' / '*' / org / org/repo, cluster '' / '*' / exact. */
export function entryMatches(entry: { repo?: string; cluster?: string }, orgRepo: string, cluster: string): boolean {
  const r = entry.repo ?? '';
  const c = entry.cluster ?? '';
  const org = orgRepo.split('/')[0];
  return (r === '' || r === '*' || r === org || r === orgRepo) && (c === '' || c === '*' || c === cluster);
}

type Obj = Record<string, unknown>;

/** Go zero-or-nil tests, as the ApplyDefault methods use them. */
const unset = (v: unknown): boolean => v === undefined || v === null;
const unsetOrEmpty = (v: unknown): boolean => unset(v) || v === '' || (Array.isArray(v) && v.length === 0);

/** Copies each field of `def` into `merged` where `isUnset(merged[field])`. */
function fillFrom(merged: Obj, def: Obj, fields: readonly string[], isUnset: (v: unknown) => boolean): void {
  for (const f of fields) if (isUnset(merged[f]) && !unset(def[f])) merged[f] = deepCopy(def[f]);
}

/** A sub-struct's ApplyDefault: nil on either side takes the other; otherwise field by field. */
function applyNested(d: unknown, def: unknown, merge: (merged: Obj, def: Obj) => void): unknown {
  if (!isRecord(d)) return isRecord(def) ? deepCopy(def) : d;
  if (!isRecord(def)) return d;
  const merged = deepCopy(d);
  merge(merged, def);
  return merged;
}

const DECORATION_POINTER_FIELDS = [
  'timeout', 'grace_period', 'gcs_credentials_secret', 's3_credentials_secret', 'default_service_account_name', 'skip_cloning',
  'cookiefile_secret', 'oauth_token_secret', 'github_app_private_key_secret', 'censor_secrets', 'upload_ignores_interrupts',
  'set_limit_equals_memory_request', 'default_memory_request', 'pod_pending_timeout', 'pod_running_timeout', 'pod_unscheduled_timeout',
  'run_as_user', 'run_as_group', 'fs_group', 'blobless_fetch',
] as const;
const DECORATION_LIST_FIELDS = ['ssh_key_secrets', 'ssh_host_fingerprints', 'github_api_endpoints', 'sparse_checkout_files'] as const;

/**
 * prowapi DecorationConfig.ApplyDefault: fields `d` leaves unset (nil pointers, empty lists, an empty
 * github_app_id) take `def`'s; utility images and GCS settings merge field by field (an empty string is unset),
 * each utility container's resources are replaced as a whole, censoring and scheduling options merge per field.
 */
function applyDecorationDefault(d: DecorationConfig | undefined, def: DecorationConfig | undefined): DecorationConfig | undefined {
  if (!d) return deepCopy(def);
  if (!def) return deepCopy(d);
  const merged: Obj = deepCopy(d);
  merged['utility_images'] = applyNested(merged['utility_images'], def.utility_images, (m, x) => fillFrom(m, x, ['clonerefs', 'initupload', 'entrypoint', 'sidecar'], unsetOrEmpty));
  merged['resources'] = applyNested(merged['resources'], def['resources'], (m, x) => fillFrom(m, x, ['clonerefs', 'initupload', 'place_entrypoint', 'sidecar'], unset));
  merged['gcs_configuration'] = applyNested(merged['gcs_configuration'], def.gcs_configuration, (m, x) => {
    fillFrom(m, x, ['bucket', 'path_prefix', 'path_strategy', 'default_org', 'default_repo', 'job_url_prefix', 'local_output_dir'], unsetOrEmpty);
    fillFrom(m, x, ['compress_file_types'], unset);
    // Prow copies the default media types over the job's own (the default wins for a type both name).
    if (isRecord(x['mediaTypes']) && Object.keys(x['mediaTypes']).length > 0) m['mediaTypes'] = { ...(isRecord(m['mediaTypes']) ? m['mediaTypes'] : {}), ...x['mediaTypes'] };
  });
  merged['censoring_options'] = applyNested(merged['censoring_options'], def['censoring_options'], (m, x) => fillFrom(m, x, ['censoring_concurrency', 'censoring_buffer_size', 'include_directories', 'exclude_directories', 'minimum_secret_length'], unset));
  merged['scheduling_options'] = applyNested(merged['scheduling_options'], def['scheduling_options'], (m, x) => fillFrom(m, x, ['affinity', 'tolerations'], unset));
  fillFrom(merged, def, DECORATION_POINTER_FIELDS, unset);
  fillFrom(merged, def, DECORATION_LIST_FIELDS, unsetOrEmpty);
  fillFrom(merged, def, ['github_app_id'], unsetOrEmpty);
  for (const k of Object.keys(merged)) if (merged[k] === undefined) delete merged[k];
  return merged as DecorationConfig;
}

/**
 * Prow's Plank.mergeDefaultDecorationConfig: every matching `default_decoration_config_entries` entry in order
 * (later wins), then the job's own decoration_config on top (DecorationConfig.ApplyDefault). Always an object.
 */
export function mergedDecorationConfig(prow: ProwConfig, orgRepo: string, cluster: string, jobDC: DecorationConfig | undefined): DecorationConfig {
  let merged: DecorationConfig | undefined;
  for (const entry of prow.plank?.default_decoration_config_entries ?? []) {
    if (entryMatches(entry, orgRepo, cluster)) merged = applyDecorationDefault(entry.config, merged);
  }
  return applyDecorationDefault(jobDC, merged) ?? {};
}

/** Prow's ProwConfig.mergeProwJobDefault (ProwJobDefault.ApplyDefault), with tenant_id defaulting to GlobalDefaultID. */
function mergedProwJobDefault(prow: ProwConfig, orgRepo: string, cluster: string, jobDefault: ProwJobDefault | undefined): ProwJobDefault {
  const apply = (d: ProwJobDefault | undefined, def: ProwJobDefault | undefined): ProwJobDefault | undefined =>
    (applyNested(d, def, (m, x) => {
      fillFrom(m, x, ['resultstore_config'], unset);
      fillFrom(m, x, ['tenant_id'], unsetOrEmpty);
    }) as ProwJobDefault | undefined);
  let merged: ProwJobDefault | undefined;
  for (const entry of prow.prowjob_default_entries ?? []) {
    if (entryMatches(entry, orgRepo, cluster)) merged = apply(entry.config, merged);
  }
  const out = apply(jobDefault, merged) ?? {};
  if (!out.tenant_id) out.tenant_id = DEFAULT_TENANT_ID;
  return deepCopy(out);
}

/** Prow's ShouldDecorate: the job's own `decorate`, else `decorate_all_jobs`. */
export function shouldDecorate(job: { decorate?: boolean }, prow: ProwConfig): boolean {
  return job.decorate ?? prow.decorate_all_jobs ?? false;
}

/**
 * A deep copy of the pod spec with the fields the CRD requires but job configs may omit, filled as Go's JSON
 * encoding of the corev1 types writes them (non-omitempty zero values): container `name: ""`.
 */
export function completePodSpec(spec: Presubmit['spec']): Presubmit['spec'] {
  if (spec === undefined) return undefined;
  const out = deepCopy(spec) as unknown as Record<string, unknown>;
  if (!Array.isArray(out['containers'])) out['containers'] = [];
  for (const key of ['containers', 'initContainers', 'ephemeralContainers']) {
    const list = out[key];
    if (!Array.isArray(list)) continue;
    for (const c of list) {
      if (isRecord(c) && typeof c['name'] !== 'string') c['name'] = '';
    }
  }
  return out as unknown as Presubmit['spec'];
}

function goTime(d: Date): string {
  // metav1.Time marshals as RFC 3339 with second precision.
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}


/** specFromJobBase plus Prow's config defaulting (agent, cluster, namespace, decoration, prowjob_defaults). */
function specFromJobBase(job: JobBase, prow: ProwConfig, orgRepo: string): ProwJobSpec {
  const cluster = job.cluster ? job.cluster : DEFAULT_CLUSTER;
  const spec: ProwJobSpec = {
    type: 'presubmit',
    agent: (job.agent ? job.agent : 'kubernetes') as ProwJobSpec['agent'],
    cluster,
    namespace: job.namespace ? job.namespace : (prow.pod_namespace || DEFAULT_NAMESPACE),
    job: job.name,
  };
  if (typeof job.max_concurrency === 'number' && job.max_concurrency > 0) spec.max_concurrency = job.max_concurrency;
  if (job.error_on_eviction === true) spec.error_on_eviction = true;
  if (job.job_queue_name) spec.job_queue_name = job.job_queue_name;
  if (job.hidden === true) spec.hidden = true;
  if (isRecord(job.reporter_config)) spec.reporter_config = withSlackReportDefault(deepCopy(job.reporter_config));
  if (isRecord(job.rerun_auth_config)) spec.rerun_auth_config = deepCopy(job.rerun_auth_config);
  if (isRecord(job['pipeline_run_spec'])) spec.pipeline_run_spec = deepCopy(job['pipeline_run_spec']);
  if (isRecord(job['tekton_pipeline_run_spec'])) spec.tekton_pipeline_run_spec = deepCopy(job['tekton_pipeline_run_spec']);
  if (job.spec !== undefined && job.spec !== null) spec.pod_spec = completePodSpec(job.spec);
  // Decorated jobs carry plank's defaults merged in; an undecorated job's own decoration_config passes as written.
  if (shouldDecorate(job, prow)) spec.decoration_config = mergedDecorationConfig(prow, orgRepo, cluster, job.decoration_config);
  else if (isRecord(job.decoration_config)) spec.decoration_config = deepCopy(job.decoration_config);
  if (Array.isArray(job.extra_refs) && job.extra_refs.length > 0) spec.extra_refs = job.extra_refs.map((r) => decorateRefs(deepCopy(r), spec.decoration_config));
  spec.prowjob_defaults = mergedProwJobDefault(prow, orgRepo, cluster, isRecord(job.prowjob_defaults) ? job.prowjob_defaults : undefined);
  return spec;
}

/**
 * pjutil's setReportDefault: a Slack reporter config without `report` gets `report: false` when it lists no job
 * states (`job_states_to_report: []`), else `report: true`; the empty list itself is dropped as Go's omitempty does.
 */
function withSlackReportDefault(rc: Record<string, unknown>): Record<string, unknown> {
  const slack = rc['slack'];
  if (!isRecord(slack) || typeof slack['report'] === 'boolean') return rc;
  const states = slack['job_states_to_report'];
  const none = Array.isArray(states) && states.length === 0;
  if (none) delete slack['job_states_to_report'];
  slack['report'] = !none;
  return rc;
}

/** Prow's DecorateRefs: blobless_fetch from the decoration config when the refs do not say. */
function decorateRefs(refs: Refs, dc: DecorationConfig | undefined): Refs {
  if (dc && refs['blobless_fetch'] === undefined && typeof dc['blobless_fetch'] === 'boolean') refs['blobless_fetch'] = dc['blobless_fetch'];
  return refs;
}

/** Prow's CompletePrimaryRefs: clone settings from the job. */
function completePrimaryRefs(refs: Refs, job: JobBase, dc: DecorationConfig | undefined): Refs {
  if (job.path_alias) refs.path_alias = job.path_alias;
  if (job.clone_uri) refs['clone_uri'] = job.clone_uri;
  if (job.skip_submodules === true) refs['skip_submodules'] = true;
  if (typeof job.clone_depth === 'number' && job.clone_depth > 0) refs['clone_depth'] = job.clone_depth;
  if (job.skip_fetch_head === true) refs['skip_fetch_head'] = true;
  const out = decorateRefs(refs, dc);
  const sparse = dc?.['sparse_checkout_files'];
  if (Array.isArray(sparse) && sparse.length > 0) out['sparse_checkout_files'] = deepCopy(sparse);
  return out;
}

/** PresubmitSpec / PostsubmitSpec: only the Jenkins branch-source flag is carried over. */
function jenkinsSpecOf(job: Presubmit | Postsubmit): { github_branch_source_job?: boolean } | undefined {
  const js = job['jenkins_spec'];
  if (!isRecord(js)) return undefined;
  return js['github_branch_source_job'] === true ? { github_branch_source_job: true } : {};
}

/**
 * LabelsAndAnnotationsForSpec: created-by-prow, type, job and context (truncated to 63), refs labels from refs or
 * extra_refs[0]; then `extra` overrides; then every value is made valid or dropped. Annotations: job and context
 * at full length, then the job's annotations.
 */
function labelsAndAnnotationsForSpec(spec: ProwJobSpec, extraLabels: Record<string, string>, extraAnnotations: Record<string, string>): { labels: Record<string, string>; annotations: Record<string, string> } {
  const labels: Record<string, string> = {
    [LABELS.createdByProw]: 'true',
    [LABELS.type]: spec.type,
  };
  const annotations: Record<string, string> = {};
  for (const [key, value] of [[ANNOTATIONS.job, spec.job], [ANNOTATIONS.context, spec.context ?? '']] as const) {
    labels[key] = truncateLabelValue(value);
    annotations[key] = value;
  }
  const refs = spec.refs ?? spec.extra_refs?.[0];
  if (refs) {
    labels[LABELS.org] = refs.org;
    labels[LABELS.repo] = refs.repo;
    labels[LABELS.baseRef] = refs.base_ref ?? '';
    const pull = refs.pulls?.[0];
    if (pull) labels[LABELS.pull] = String(pull.number);
  }
  Object.assign(labels, extraLabels);
  Object.assign(annotations, extraAnnotations);
  return { labels: sanitizeLabels(labels).labels, annotations };
}

/** pjutil.NewProwJob: labels and annotations, then state `triggered`, or `scheduling` when Prow's scheduler is on. */
function newProwJob(spec: ProwJobSpec, input: { name: string; namespace: string; now: Date; prow: ProwConfig }, extraLabels: Record<string, string>, extraAnnotations: Record<string, string>): ProwJob {
  const { labels, annotations } = labelsAndAnnotationsForSpec(spec, extraLabels, extraAnnotations);
  return {
    apiVersion: 'prow.k8s.io/v1',
    kind: 'ProwJob',
    metadata: { name: input.name, namespace: input.namespace, labels, annotations },
    spec,
    status: { startTime: goTime(input.now), state: input.prow.scheduler?.enabled === true ? 'scheduling' : 'triggered' },
  };
}

function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isRecord(v)) for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
}

/** A presubmit ProwJob for one PR, as Prow's trigger builds it (pjutil.NewPresubmit). */
export function buildPresubmitProwJob(input: PresubmitJobInput): ProwJob {
  const p = input.presubmit;
  const orgRepo = `${input.org}/${input.repo}`;
  const base = specFromJobBase(p, input.prow, orgRepo);
  const { number, author, sha, title, headRef, link, authorLink } = input.pull;
  const refs: Refs = {
    org: input.org,
    repo: input.repo,
    repo_link: input.repoLink,
    base_ref: input.baseRef,
    base_sha: input.baseSha,
    base_link: `${input.repoLink}/commit/${input.baseSha}`,
    pulls: [{
      number,
      author,
      sha,
      title,
      head_ref: headRef,
      link,
      commit_link: `${input.repoLink}/pull/${number}/commits/${sha}`,
      author_link: authorLink,
    }],
  };
  const spec: ProwJobSpec = {
    type: 'presubmit',
    agent: base.agent,
    cluster: base.cluster,
    namespace: base.namespace,
    job: p.name,
    refs: completePrimaryRefs(refs, p, base.decoration_config),
    report: !p.skip_report,
    context: contextOf(p),
    rerun_command: rerunCommandOf(p),
  };
  const jenkins = jenkinsSpecOf(p);
  if (jenkins) spec.jenkins_spec = jenkins;
  copyRest(spec, base);
  const labels: Record<string, string> = { ...stringMap(p.labels), ...(input.extraLabels ?? {}) };
  if (input.retest) labels[LABELS.retest] = 'true';
  labels[LABELS.eventGuid] = input.eventGuid;
  labels[LABELS.isOptional] = String(Boolean(p.optional));
  return newProwJob(spec, input, labels, stringMap(p.annotations));
}

/** A postsubmit ProwJob for a push to baseRef (pjutil.PostsubmitSpec). */
export function buildPostsubmitProwJob(input: PostsubmitJobInput): ProwJob {
  const p = input.postsubmit;
  const orgRepo = `${input.org}/${input.repo}`;
  const base = specFromJobBase(p, input.prow, orgRepo);
  const refs: Refs = {
    org: input.org,
    repo: input.repo,
    repo_link: input.repoLink,
    base_ref: input.baseRef,
    base_sha: input.baseSha,
    base_link: input.baseLink ?? `${input.repoLink}/commit/${input.baseSha}`,
  };
  const spec: ProwJobSpec = {
    type: 'postsubmit',
    agent: base.agent,
    cluster: base.cluster,
    namespace: base.namespace,
    job: p.name,
    refs: completePrimaryRefs(refs, p, base.decoration_config),
    report: !p.skip_report,
    context: p.context || p.name,
  };
  const jenkins = jenkinsSpecOf(p);
  if (jenkins) spec.jenkins_spec = jenkins;
  copyRest(spec, base);
  const labels: Record<string, string> = { ...stringMap(p.labels), ...(input.extraLabels ?? {}) };
  if (input.eventGuid) labels[LABELS.eventGuid] = input.eventGuid;
  return newProwJob(spec, input, labels, stringMap(p.annotations));
}

/** A periodic ProwJob (pjutil.PeriodicSpec): no refs, report always true, no context. */
export function buildPeriodicProwJob(input: PeriodicJobInput): ProwJob {
  const p = input.periodic;
  const firstRef = Array.isArray(p.extra_refs) ? p.extra_refs[0] : undefined;
  const orgRepo = firstRef ? `${firstRef.org}/${firstRef.repo}` : '';
  const base = specFromJobBase(p, input.prow, orgRepo);
  const spec: ProwJobSpec = {
    type: 'periodic' satisfies ProwJobType,
    agent: base.agent,
    cluster: base.cluster,
    namespace: base.namespace,
    job: p.name,
    report: true,
  };
  copyRest(spec, base);
  return newProwJob(spec, input, { ...stringMap(p.labels), ...(input.extraLabels ?? {}) }, stringMap(p.annotations));
}

/** Copies the optional fields of `base` that `spec` does not have yet, keeping a stable key order. */
function copyRest(spec: ProwJobSpec, base: ProwJobSpec): void {
  for (const [k, v] of Object.entries(base)) {
    if (v !== undefined && !(k in spec)) spec[k] = v;
  }
}
