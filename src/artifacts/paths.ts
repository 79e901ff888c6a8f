// Where Prow's decoration uploads a job's files (pkg/pod-utils/gcs/target.go PathForSpec, path strategies in
// ../shared/notes/prow-semantics.md §5.2), and where katabot's trace and the job's JUnit files sit among them.
import type { ProwJob } from '../jobs/types.ts';
import { storageUrlFromBucket } from './url.ts';

type PathStrategy = 'explicit' | 'legacy' | 'single';

export interface JobRef {
  type: 'presubmit' | 'postsubmit' | 'periodic' | 'batch';
  job: string;
  buildId: string;
  org?: string;
  repo?: string;
  /** PR number (presubmits). */
  pull?: number;
}

export interface PathOptions {
  pathStrategy?: PathStrategy;
  defaultOrg?: string;
  defaultRepo?: string;
  /** gcs_configuration.path_prefix */
  pathPrefix?: string;
}

/** The `<segment>` of pr-logs/pull/<segment>/...: depends on the path strategy. */
function repoSegment(org: string, repo: string, o: PathOptions): string {
  const full = `${org}_${repo.replaceAll('/', '_')}`;
  switch (o.pathStrategy ?? 'explicit') {
    case 'explicit':
      return full;
    case 'legacy':
      if (org === o.defaultOrg && repo === o.defaultRepo) return '';
      if (org === o.defaultOrg) return repo.replaceAll('/', '_');
      return full;
    case 'single':
      return org === o.defaultOrg && repo === o.defaultRepo ? '' : full;
  }
}

/** The job's build directory in the bucket, e.g. `pr-logs/pull/kata-containers_kata-containers/42/<job>/<build>`. */
export function jobBuildPath(ref: JobRef, o: PathOptions = {}): string {
  let path: string;
  if (ref.type === 'presubmit') {
    if (!ref.org || !ref.repo || ref.pull === undefined) throw new Error('a presubmit path needs org, repo and pull');
    const seg = repoSegment(ref.org, ref.repo, o);
    path = ['pr-logs', 'pull', ...(seg ? [seg] : []), String(ref.pull), ref.job, ref.buildId].join('/');
  } else if (ref.type === 'batch') {
    path = ['pr-logs', 'pull', 'batch', ref.job, ref.buildId].join('/');
  } else {
    path = ['logs', ref.job, ref.buildId].join('/');
  }
  const prefix = (o.pathPrefix ?? '').replace(/^\/+|\/+$/g, '');
  return prefix ? `${prefix}/${path}` : path;
}

/** `$ARTIFACTS/katabot/trace.jsonl` as uploaded: `<build>/artifacts/katabot/trace.jsonl`. */
const TRACE_IN_ARTIFACTS = 'artifacts/katabot/trace.jsonl';

export function traceArtifactPath(ref: JobRef, o: PathOptions = {}): string {
  return `${jobBuildPath(ref, o)}/${TRACE_IN_ARTIFACTS}`;
}

/** A job's uploads: its bucket (gs://, s3://, file://), and its build directory's parts. */
export interface JobArtifacts {
  storage: string;
  ref: JobRef;
  paths: PathOptions;
}

/** Where a ProwJob's artifacts are, from its decoration config; undefined without a bucket or a build id. */
export function jobArtifacts(pj: ProwJob): JobArtifacts | undefined {
  const gcs = pj.spec.decoration_config?.gcs_configuration;
  const buildId = pj.status?.build_id;
  if (!gcs?.bucket || !buildId) return undefined;
  const refs = pj.spec.refs ?? pj.spec.extra_refs?.[0];
  const ref: JobRef = { type: pj.spec.type, job: pj.spec.job, buildId };
  if (refs?.org) ref.org = refs.org;
  if (refs?.repo) ref.repo = refs.repo;
  const pull = pj.spec.refs?.pulls?.[0]?.number;
  if (pull !== undefined) ref.pull = pull;
  const paths: PathOptions = {};
  if (gcs.path_strategy) paths.pathStrategy = gcs.path_strategy;
  if (gcs.default_org) paths.defaultOrg = gcs.default_org;
  if (gcs.default_repo) paths.defaultRepo = gcs.default_repo;
  if (gcs.path_prefix) paths.pathPrefix = gcs.path_prefix;
  return { storage: storageUrlFromBucket(gcs.bucket), ref, paths };
}

/** Prow's JUnit files among a job's artifacts: `artifacts/junit*.xml`, in any subfolder (spyglass's junit lens). */
export const JUNIT_IN_ARTIFACTS = /^artifacts\/(?:.*\/)?junit[^/]*\.xml$/;
