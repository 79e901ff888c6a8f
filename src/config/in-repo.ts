// Prow's in-repo config (`.prow.yaml` or the `.prow/` directory), the pure parts (kubernetes-sigs/prow a6194089
// pkg/config/inrepoconfig.go and config.go): where it is enabled, which files are read, how they are decoded,
// defaulted and validated against the central config, and which clusters their jobs may use. Pure.
import { minimatch } from 'minimatch';
import type { JobConfig, Postsubmit, Presubmit, ProwConfig } from './prow-types.ts';
import { ConfigError } from './errors.ts';
import { applyPresets, checkDuplicates, parseProwYamlFile, type JobOrigin, type Preset } from './prow-config.ts';

const IN_REPO_CONFIG_FILE = '.prow.yaml';
export const IN_REPO_CONFIG_DIR = '.prow';
export const PROW_IGNORE_FILE = '.prowignore';
/** kube.DefaultClusterAlias: the cluster in-repo jobs may use when allowed_clusters does not say. */
const DEFAULT_CLUSTER = 'default';

/** keysForIdentifier for a GitHub repository: `org/repo`, `org`, `*`. */
const keysFor = (org: string, repo: string): string[] => [`${org}/${repo}`, org, '*'];

/** Config.InRepoConfigEnabled: the most specific of `in_repo_config.enabled` `org/repo`, `org`, `*` decides; off by default. */
export function inRepoConfigEnabled(prow: ProwConfig, org: string, repo: string): boolean {
  const enabled = prow.in_repo_config?.enabled ?? {};
  for (const key of keysFor(org, repo)) {
    const v = enabled[key];
    if (typeof v === 'boolean') return v;
  }
  return false;
}

/** Config.InRepoConfigAllowsCluster: listed for `org/repo`, `org` or `*`; `*` defaults to the default cluster. */
export function inRepoConfigAllowsCluster(prow: ProwConfig, cluster: string, org: string, repo: string): boolean {
  const allowed: Record<string, string[]> = { '*': [DEFAULT_CLUSTER], ...(prow.in_repo_config?.allowed_clusters ?? {}) };
  return keysFor(org, repo).some((k) => (allowed[k] ?? []).includes(cluster));
}

/** ContainsInRepoConfigPath: does a change touch the in-repo config (so a cached one is stale)? */
export function touchesInRepoConfig(changedFiles: readonly string[]): boolean {
  return changedFiles.some((f) => f === IN_REPO_CONFIG_FILE || f.startsWith(`${IN_REPO_CONFIG_DIR}/`));
}

/**
 * `.prowignore` as gitignore reads it, for the paths of `.prow/`: blank lines and `#` comments skipped, `!` negates,
 * a pattern with a slash (other than a trailing one) is anchored at the repository root, one without matches at
 * any depth, a trailing slash matches directories (and so everything below them); the last matching line wins.
 */
export function prowIgnored(path: string, prowignore: string | undefined): boolean {
  if (!prowignore) return false;
  let ignored = false;
  for (const raw of prowignore.split('\n')) {
    let line = raw.replace(/\r$/, '');
    if (/^\s*(#|$)/.test(line)) continue;
    line = line.replace(/(?<!\\)\s+$/, '');
    const negate = line.startsWith('!');
    if (negate) line = line.slice(1);
    const dirOnly = line.endsWith('/');
    if (dirOnly) line = line.slice(0, -1);
    const anchored = line.includes('/');
    const pattern = anchored ? line.replace(/^\//, '') : `**/${line}`;
    const options = { dot: true };
    const hit = minimatch(path, `${pattern}/**`, options) || (!dirOnly && minimatch(path, pattern, options));
    if (hit) ignored = !negate;
  }
  return ignored;
}

/**
 * The files ReadProwYAML reads, given the files under `.prow/` at the ref (repository-relative paths; undefined when
 * there is no `.prow` directory): with a `.prow/` directory, its `.yaml`/`.yml` files in path order minus what
 * `.prowignore` excludes, and never `.prow.yaml`; without one, `.prow.yaml`.
 */
export function inRepoConfigPaths(prowDirFiles: readonly string[] | undefined, prowignore?: string): string[] {
  if (prowDirFiles === undefined) return [IN_REPO_CONFIG_FILE];
  return prowDirFiles
    .filter((p) => /\.ya?ml$/.test(p) && !prowIgnored(p, prowignore))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Jobs a repository's in-repo config adds to the central ones, presets applied. */
export interface InRepoJobs {
  presubmits: Presubmit[];
  postsubmits: Postsubmit[];
}

export interface InRepoContext {
  prow: ProwConfig;
  /** The central job config (its `presets` apply to in-repo jobs too). */
  jobs: JobConfig;
  org: string;
  repo: string;
}

/**
 * ReadProwYAML + DefaultAndValidateProwYAML: decodes each file as Prow's ProwYAML (`presets`, `presubmits` and
 * `postsubmits` as lists; other keys dropped), checks each job as the central config's are checked, applies the
 * central presets and the files' own to the in-repo jobs, refuses a job whose name the central config (or another
 * in-repo file) already uses for an overlapping branch, and a cluster `in_repo_config.allowed_clusters` does not
 * allow. Errors are one-line ConfigErrors naming the repository file and line (`.prow/jobs.yaml: line 12, column 5:
 * presubmits[0].name: …`), fit for a reply on the PR.
 */
export function parseInRepoConfig(files: ReadonlyArray<{ path: string; text: string }>, ctx: InRepoContext): InRepoJobs {
  const parsed = files.map((f) => parseProwYamlFile(f.path, f.text));
  const presets: Preset[] = [...((ctx.jobs.presets ?? []) as Preset[]), ...parsed.flatMap((p) => p.presets)];
  const origins = new Map<object, JobOrigin>();
  const presubmits: Presubmit[] = [];
  const postsubmits: Postsubmit[] = [];
  for (const f of parsed) {
    for (const kind of ['presubmits', 'postsubmits'] as const) {
      f[kind].forEach((job, i) => {
        const origin: JobOrigin = f.lines[kind][i] ? { file: f.path, path: [kind, i], line: f.lines[kind][i] } : { file: f.path, path: [kind, i] };
        const applied = applyPresets(job, presets, (problem) => {
          throw new ConfigError(origin.file, origin.path, problem, origin.line ? { line: origin.line } : {});
        });
        origins.set(applied, origin);
        if (kind === 'presubmits') presubmits.push(applied as Presubmit);
        else postsubmits.push(applied as Postsubmit);
        const cluster = applied.cluster || DEFAULT_CLUSTER;
        if (!inRepoConfigAllowsCluster(ctx.prow, cluster, ctx.org, ctx.repo)) {
          throw new ConfigError(origin.file, [...origin.path, 'cluster'], `cluster ${JSON.stringify(cluster)} is not allowed for repository ${ctx.org}/${ctx.repo}`, origin.line ? { line: origin.line } : {});
        }
      });
    }
  }
  // validatePresubmits / validatePostsubmits over the central and in-repo jobs of the repository together.
  const orgRepo = `${ctx.org}/${ctx.repo}`;
  const central = { presubmits: ctx.jobs.presubmits[orgRepo] ?? [], postsubmits: ctx.jobs.postsubmits[orgRepo] ?? [] };
  central.presubmits.forEach((j, i) => origins.set(j, { file: 'the central job config', path: ['presubmits', orgRepo, i] }));
  central.postsubmits.forEach((j, i) => origins.set(j, { file: 'the central job config', path: ['postsubmits', orgRepo, i] }));
  checkDuplicates(
    { presubmits: { [orgRepo]: [...central.presubmits, ...presubmits] }, postsubmits: { [orgRepo]: [...central.postsubmits, ...postsubmits] }, periodics: [] },
    (job) => origins.get(job) ?? { file: '<in-repo config>', path: [] },
  );
  return { presubmits, postsubmits };
}

/** GetPresubmits / GetPostsubmits: the central jobs of the repository, then the in-repo ones. */
export function withInRepoJobs(jobs: JobConfig, org: string, repo: string, inRepo: InRepoJobs): { presubmits: Presubmit[]; postsubmits: Postsubmit[] } {
  const orgRepo = `${org}/${repo}`;
  return { presubmits: [...(jobs.presubmits[orgRepo] ?? []), ...inRepo.presubmits], postsubmits: [...(jobs.postsubmits[orgRepo] ?? []), ...inRepo.postsubmits] };
}
