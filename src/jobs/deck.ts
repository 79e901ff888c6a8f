// Links to a ProwJob in Deck: Spyglass URLs computed as plank computes status.url (pkg/pjutil JobURL,
// pkg/gcsupload PathsForJob, pkg/pod-utils/gcs target.go), else Deck's /prowjob page. Pure.
import type { ProwJob } from './types.ts';
import type { DecorationConfig, ProwConfig } from '../config/prow-types.ts';

/** Prow's Plank.GetJobURLPrefix: gcs_configuration.job_url_prefix, else job_url_prefix_config by org/repo > org > '*'; a trailing `gcs/` is dropped. */
export function jobUrlPrefix(pj: ProwJob, prow: ProwConfig): string {
  let prefix = '';
  const fromJob = pj.spec.decoration_config?.gcs_configuration?.job_url_prefix;
  if (fromJob) prefix = fromJob;
  else {
    const cfg = prow.plank?.job_url_prefix_config ?? {};
    const legacy = typeof prow.plank?.['job_url_prefix'] === 'string' ? (prow.plank['job_url_prefix'] as string) : '';
    const refs = pj.spec.refs ?? pj.spec.extra_refs?.[0];
    const star = cfg['*'] || legacy;
    if (!refs?.org) prefix = star;
    else prefix = cfg[`${refs.org}/${refs.repo}`] || cfg[refs.org] || star;
  }
  if (prefix.endsWith('gcs/')) return prefix.slice(0, -'gcs/'.length);
  if (prefix.endsWith('gcs')) return prefix.slice(0, -'gcs'.length);
  return prefix;
}

/** Go's path.Join: joins non-empty elements with `/` and cleans the result. */
export function pathJoin(...parts: string[]): string {
  const joined = parts.filter((p) => p !== '').join('/');
  if (joined === '') return '';
  const rooted = joined.startsWith('/');
  const out: string[] = [];
  for (const seg of joined.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(seg);
  }
  const s = out.join('/');
  return rooted ? `/${s}` : s || '.';
}

/** The `<segment>` of a presubmit path for the gcs path_strategy (legacy / single / explicit). */
export function repoPathSegment(gcs: NonNullable<DecorationConfig['gcs_configuration']>, org: string, repo: string): string {
  const strategy = gcs.path_strategy ?? 'explicit';
  const explicit = `${org.replace(/^https?:\/\//, '')}_${repo.replace(/\//g, '_')}`;
  if (strategy === 'legacy') {
    if (org === gcs.default_org) return repo === gcs.default_repo ? '' : repo;
    return explicit;
  }
  if (strategy === 'single') return org === gcs.default_org && repo === gcs.default_repo ? '' : explicit;
  return explicit;
}

/** The blob path of one build (PathsForJob jobBasePath), or undefined when it cannot be computed. */
export function gcsPathForJob(pj: ProwJob): string | undefined {
  const gcs = pj.spec.decoration_config?.gcs_configuration;
  const buildId = pj.status?.build_id;
  if (!gcs || !buildId) return undefined;
  let p: string;
  switch (pj.spec.type) {
    case 'periodic':
    case 'postsubmit':
      p = pathJoin('logs', pj.spec.job, buildId);
      break;
    case 'presubmit': {
      const refs = pj.spec.refs;
      const pull = refs?.pulls?.[0];
      if (!refs || !pull) return undefined;
      p = pathJoin('pr-logs', 'pull', repoPathSegment(gcs, refs.org, refs.repo), String(pull.number), pj.spec.job, buildId);
      break;
    }
    case 'batch':
      p = pathJoin('pr-logs', 'pull', 'batch', pj.spec.job, buildId);
      break;
    default:
      return undefined;
  }
  return gcs.path_prefix ? pathJoin(gcs.path_prefix, p) : p;
}

/** Spyglass URL as plank sets status.url for decorated jobs, or undefined when prefix, bucket or build id are missing. */
function spyglassUrl(pj: ProwJob, prow: ProwConfig): string | undefined {
  const bucket = pj.spec.decoration_config?.gcs_configuration?.bucket;
  const prefix = jobUrlPrefix(pj, prow);
  const gcsPath = gcsPathForJob(pj);
  if (!pj.spec.decoration_config || !prefix || !bucket || gcsPath === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(prefix);
  } catch {
    return undefined;
  }
  // prowapi.ParsePath: no scheme means GCS.
  const withScheme = bucket.includes('://') ? bucket : `gs://${bucket}`;
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/(.*)$/.exec(withScheme);
  if (!m || !m[1] || m[2] === undefined) return undefined;
  const provider = m[1];
  const fullPath = m[2];
  const parts = prow.plank?.jobURLPrefixDisableAppendStorageProvider ? [url.pathname, fullPath, gcsPath] : [url.pathname, provider, fullPath, gcsPath];
  url.pathname = pathJoin(...parts);
  return url.toString();
}

/** The Deck base URL: katabot's `deck_url`, else the origin of the job URL prefix (Deck serves /view/ itself). */
export function deckBaseUrl(pj: ProwJob, prow: ProwConfig, deckUrl?: string): string | undefined {
  if (deckUrl) return deckUrl.replace(/\/+$/, '');
  const prefix = jobUrlPrefix(pj, prow);
  if (!prefix) return undefined;
  try {
    return new URL(prefix).origin;
  } catch {
    return undefined;
  }
}

/**
 * The best link for a ProwJob: `status.url` when plank set it; else the Spyglass URL when the job is decorated
 * with a bucket, a build id and a job URL prefix; else Deck's `/prowjob?prowjob=<name>` when a Deck URL is known;
 * else undefined.
 */
export function deckLinkForProwJob(pj: ProwJob, prow: ProwConfig, deckUrl?: string): string | undefined {
  if (pj.status?.url) return pj.status.url;
  const spyglass = spyglassUrl(pj, prow);
  if (spyglass) return spyglass;
  const base = deckBaseUrl(pj, prow, deckUrl);
  return base ? `${base}/prowjob?prowjob=${encodeURIComponent(pj.metadata.name)}` : undefined;
}
