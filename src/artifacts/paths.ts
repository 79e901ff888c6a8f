// Where Prow's decoration uploads a job's files (pkg/pod-utils/gcs/target.go PathForSpec, path strategies in
// ../shared/notes/prow-semantics.md §5.2), and where katabot's trace sits among them.

export type PathStrategy = 'explicit' | 'legacy' | 'single';

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
export const TRACE_IN_ARTIFACTS = 'artifacts/katabot/trace.jsonl';

export function traceArtifactPath(ref: JobRef, o: PathOptions = {}): string {
  return `${jobBuildPath(ref, o)}/${TRACE_IN_ARTIFACTS}`;
}
