// What the reporter calls when a traced ProwJob finishes (onTracedJobFinished):
//   - a successful traced run without a PR (postsubmit, periodic, or the base-SHA run /trace starts) becomes a
//     baseline of its branch, and PR jobs that were waiting for it get their report;
//   - a PR's traced job is diffed against the newest baselines of its base branch: the comment markdown, the
//     check run `katabot / behavior (<job>)` and the full HTML report come back for the reporter to post.
// Traces are fetched through the artifact storage adapter and read in chunks.
import { isFinalState } from '../jobs/state.ts';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import type { Store } from '../adapters/store.ts';
import {
  jobArtifacts, jobBuildPath, openArtifactStore, traceArtifactPath, ArtifactNotFoundError, type ArtifactStore,
} from '../artifacts/index.ts';
import { LABELS, type ProwJob } from '../jobs/types.ts';
import { behaviorCheckRun, behaviorCommentMarker, renderBehaviorComment, type BehaviorCheckRun, type BehaviorRenderContext } from '../render/behavior.ts';
import { renderBehaviorHtml } from '../render/behavior-html.ts';
import { diffProfiles, diffToJson, type DiffJson } from '../trace/diff.ts';
import { ApiUsageBuilder } from '../trace/api-usage.ts';
import { AuditDeduper, SkipCounter, type AuditEvent } from '../trace/audit-parse.ts';
import type { OpenApiIndex } from '../trace/openapi-index.ts';
import { ProfileBuilder, type ApiSpecSource, type BehaviorProfile } from '../trace/profile.ts';
import type { IgnoreRules } from '../trace/profile-rules.ts';
import {
  addPending, cachedProfile, findBaselines, recordBaseline, reportId, saveBehaviorHtml, takePending,
  type BaselineEntry, type PendingHead, type TracedRun,
} from './baseline.ts';
import { recordUsage } from './api-usage-store.ts';
import { OpenApiCache, specArtifact } from './openapi-load.ts';
import { BehaviorInputError, bufferChunks, readAuditInto, readTraceInto } from './read.ts';

export interface BehaviorDeps {
  store: Store;
  /** Opens a bucket (default: openArtifactStore with default credentials). */
  artifacts?: (storageUrl: string) => ArtifactStore;
  /**
   * The fallback OpenAPI index (KATABOT_OPENAPI), for runs that did not capture their cluster's /openapi/v2 beside
   * the audit log (optional).
   */
  openapi?: () => Promise<OpenApiIndex | undefined>;
  /** Where indexes of captured specs are kept (default: one process-wide cache). */
  openapiCache?: OpenApiCache;
  /** URL of a stored HTML report (served from readBehaviorHtml); the comment links it. */
  reportUrl?: (id: string) => string;
  ignore?: IgnoreRules;
  /** Base runs to diff against (several: items varying between them are flaky). Default 3. */
  maxBaselines?: number;
  /** Show discovery requests in comments. */
  showDiscovery?: boolean;
}

export interface BehaviorReport {
  org: string;
  repo: string;
  pull: number;
  job: string;
  /** The traced run the report is about, whatever CI ran it: a ProwJob's name, or a GitHub Actions run's key
   * (`actions-<run id>-<attempt>-<artifact>`). The check run's external_id derives from it. */
  run: string;
  /** The PR head commit the check run belongs to. */
  headSha: string;
  /** PR comment, one per PR and job: find the bot's comment containing `marker` and edit it, else create it. */
  comment: { marker: string; body: string };
  checkRun: BehaviorCheckRun & { head_sha: string };
  /** The full report, also stored under `htmlId` (readBehaviorHtml). */
  html: string;
  htmlId: string;
  diff: DiffJson;
  /** The base runs diffed against (their `run` ids, as above) and the commits they tested. */
  baselines: Array<{ run: string; sha: string }>;
}

export type BehaviorOutcome =
  | { kind: 'skipped'; reason: string }
  | { kind: 'baseline'; entry: BaselineEntry; reports: BehaviorReport[] }
  | { kind: 'no-baseline'; org: string; repo: string; job: string; baseRef: string; baseSha: string; pull: number }
  | { kind: 'report'; report: BehaviorReport };


/** Where a traced ProwJob's artifacts are (src/artifacts/paths.ts jobArtifacts); undefined when it has no bucket. */
function tracedRunOf(pj: ProwJob): TracedRun | undefined {
  const at = jobArtifacts(pj);
  return at ? { ...at, prowjob: pj.metadata.name } : undefined;
}

/** Chunks of an artifact: streamed from disk for file:// stores, else the downloaded buffer in slices. */
async function artifactChunks(store: ArtifactStore, key: string): Promise<AsyncIterable<Buffer>> {
  if (store.location.startsWith('file://')) {
    const path = join(store.location.slice('file://'.length), key);
    if (!(await store.exists(key))) throw new ArtifactNotFoundError(store.location, key);
    const s = createReadStream(path, { highWaterMark: 1 << 20 });
    return key.endsWith('.gz') ? s.pipe(createGunzip()) : s;
  }
  return bufferChunks(await store.read(key));
}

/** Apiserver audit logs among a job's artifacts (docs/audit-logs.md: `katabot/kube-apiserver-audit*.log[.gz]`). */
export const AUDIT_ARTIFACT = /(^|\/)[^/]*audit[^/]*\.(log|jsonl)(\.gz)?$/i;

/** A process-wide cache, so every run made against the same spec document shares one index. */
const SPEC_INDEXES = new OpenApiCache();

/**
 * The spec to read a run's audit logs with: the /openapi/v2 the job captured beside them (the truth for its CRDs
 * and version), else KATABOT_OPENAPI (deps.openapi). A captured spec that cannot be read falls back too.
 */
async function specForRun(store: ArtifactStore, prefix: string, keys: readonly string[], deps: Pick<BehaviorDeps, 'openapi' | 'openapiCache'>): Promise<{ index?: OpenApiIndex; source: ApiSpecSource }> {
  const key = specArtifact(keys.map((k) => k.slice(prefix.length)));
  if (key) {
    try {
      const index = (deps.openapiCache ?? SPEC_INDEXES).index(await store.read(prefix + key), key);
      return { index, source: { source: 'job', name: key, version: index.version } };
    } catch (err) {
      if (!(err instanceof BehaviorInputError) && !(err instanceof ArtifactNotFoundError)) throw err;
    }
  }
  const index = deps.openapi ? await deps.openapi() : undefined;
  return index ? { index, source: { source: 'config', name: 'KATABOT_OPENAPI', version: index.version } } : { source: { source: 'none', name: '', version: '' } };
}

/**
 * The profile of one traced run: its trace, plus any apiserver audit logs among its artifacts. With a spec, the
 * run's API usage is also recorded for the dashboard (when deps.store is given).
 */
async function profileOfRun(store: ArtifactStore, run: TracedRun, deps: Pick<BehaviorDeps, 'openapi' | 'openapiCache' | 'ignore'> & { store?: Store }): Promise<BehaviorProfile> {
  const builder = new ProfileBuilder(deps.ignore ? { ignore: deps.ignore } : {});
  const traceKey = traceArtifactPath(run.ref, run.paths);
  await readTraceInto(builder, await artifactChunks(store, traceKey), traceKey);
  const artifacts = `${jobBuildPath(run.ref, run.paths)}/artifacts/`;
  const keys = await store.list(artifacts);
  const audits = keys.filter((k) => AUDIT_ARTIFACT.test(k.slice(artifacts.length)));
  if (audits.length === 0) return builder.build();
  const spec = await specForRun(store, artifacts, keys, deps);
  const usage = spec.index ? new ApiUsageBuilder(spec.index) : undefined;
  const dedupe = new AuditDeduper();
  const skips = new SkipCounter();
  for (const key of audits) {
    await readAuditInto(builder, await artifactChunks(store, key), spec.index, key, { dedupe, skips, ...(usage ? { onEvent: (ev: AuditEvent) => usage.add(ev) } : {}) });
  }
  const profile = builder.build();
  profile.apiSpec = spec.source;
  if (usage && spec.index && deps.store) {
    usage.addSkips(skips.summary());
    await recordUsage(deps.store, {
      prowjob: run.prowjob, job: run.ref.job, type: run.ref.type, buildId: run.ref.buildId, recordedAt: new Date().toISOString(),
      ...(run.ref.org ? { org: run.ref.org } : {}), ...(run.ref.repo ? { repo: run.ref.repo } : {}), ...(run.ref.pull !== undefined ? { pull: run.ref.pull } : {}),
    }, usage.record(), spec.index.operations);
  }
  return profile;
}

/** A base run's profile, computed once (and its API usage recorded then). */
function baseProfile(deps: BehaviorDeps, b: BaselineEntry): Promise<BehaviorProfile> {
  const open = deps.artifacts ?? ((url: string) => openArtifactStore(url));
  return cachedProfile(deps.store, b, () => profileOfRun(open(b.storage), b, deps));
}

/** What a report is about, whatever CI system ran the traced run. */
export interface ReportSubject {
  org: string;
  repo: string;
  pull: number;
  job: string;
  /** The traced run's id (BehaviorReport.run). */
  run: string;
  /** Part of the HTML report's id: the build id of a ProwJob, the run id and attempt of an Actions run. */
  build: string;
  headSha: string;
  baseRef: string;
  baseSha: string;
  /** GitHub Actions: the workflow, job and run attempt the report names. */
  actions?: BehaviorRenderContext['actions'];
}

/**
 * The report of one traced run, backend-neutral: the head profile diffed against the base profiles (several: items
 * varying between them are flaky), rendered as the PR comment, the check run and the stored HTML report.
 */
export async function renderTracedRunReport(
  deps: Pick<BehaviorDeps, 'store' | 'reportUrl' | 'ignore' | 'showDiscovery'>, subject: ReportSubject, headProfile: BehaviorProfile,
  bases: ReadonlyArray<{ run: string; sha: string; profile: BehaviorProfile }>, ignore = deps.ignore,
): Promise<BehaviorReport> {
  const d = diffProfiles(bases.map((b) => b.profile), headProfile, ignore ? { ignore } : {});
  const htmlId = reportId(subject.org, subject.repo, subject.pull, subject.job, subject.build);
  const ctx: BehaviorRenderContext = {
    job: subject.job, baseRef: subject.baseRef, baseSha: bases[0]?.sha ?? subject.baseSha, headSha: subject.headSha,
    ...(deps.reportUrl ? { reportUrl: deps.reportUrl(htmlId) } : {}),
    ...(deps.showDiscovery ? { showDiscovery: true } : {}),
    ...(subject.actions ? { actions: subject.actions } : {}),
  };
  const html = renderBehaviorHtml(d, { ...ctx, title: `${subject.org}/${subject.repo}#${subject.pull}` });
  await saveBehaviorHtml(deps.store, htmlId, html);
  const run = behaviorCheckRun(d, ctx);
  return {
    org: subject.org, repo: subject.repo, pull: subject.pull, job: subject.job, run: subject.run, headSha: subject.headSha,
    comment: { marker: behaviorCommentMarker(subject.job), body: renderBehaviorComment(d, ctx) },
    checkRun: { ...run, head_sha: subject.headSha },
    html,
    htmlId,
    diff: diffToJson(d),
    baselines: bases.map((b) => ({ run: b.run, sha: b.sha })),
  };
}

async function diffAndRender(deps: BehaviorDeps, head: PendingHead, baselines: BaselineEntry[]): Promise<BehaviorReport> {
  const open = deps.artifacts ?? ((url: string) => openArtifactStore(url));
  const headProfile = await profileOfRun(open(head.storage), head, deps);
  const bases: Array<{ run: string; sha: string; profile: BehaviorProfile }> = [];
  for (const b of baselines) {
    bases.push({ run: b.prowjob, sha: b.sha, profile: await baseProfile(deps, b) });
  }
  return renderTracedRunReport(deps, {
    org: head.org, repo: head.repo, pull: head.pull, job: head.ref.job, run: head.prowjob, build: head.ref.buildId,
    headSha: head.headSha, baseRef: head.baseRef, baseSha: head.baseSha,
  }, headProfile, bases);
}

/**
 * Call once when a ProwJob labelled katabot.dev/trace=true reaches a final state. Idempotent per ProwJob: calling
 * it again recomputes the same report (post it with the comment marker and the check-run name so it is edited, not
 * duplicated).
 */
export async function onTracedJobFinished(deps: BehaviorDeps, pj: ProwJob): Promise<BehaviorOutcome> {
  if (pj.metadata.labels?.[LABELS.trace] !== 'true') return { kind: 'skipped', reason: 'not a traced job' };
  const state = pj.status?.state;
  if (!isFinalState(state)) return { kind: 'skipped', reason: `not finished (${state ?? 'no state'})` };
  const run = tracedRunOf(pj);
  if (!run) return { kind: 'skipped', reason: 'no artifact bucket or build id' };
  const refs = pj.spec.refs ?? pj.spec.extra_refs?.[0];
  if (!refs?.org || !refs.repo || !refs.base_ref) return { kind: 'skipped', reason: 'no repository refs' };
  const repo = `${refs.org}/${refs.repo}`;
  const pull = pj.spec.refs?.pulls?.length === 1 ? pj.spec.refs.pulls[0] : undefined;

  if (!pull) {
    if (state !== 'success') return { kind: 'skipped', reason: `a ${state} run is no baseline` };
    if (!refs.base_sha) return { kind: 'skipped', reason: 'no base_sha' };
    const entry: BaselineEntry = { ...run, sha: refs.base_sha, finishedAt: pj.status?.completionTime ?? new Date().toISOString() };
    const open = deps.artifacts ?? ((url: string) => openArtifactStore(url));
    // only runs whose trace is really there become baselines
    if (!(await open(run.storage).exists(traceArtifactPath(run.ref, run.paths)))) return { kind: 'skipped', reason: 'the run uploaded no trace' };
    await recordBaseline(deps.store, repo, refs.base_ref, entry);
    // profiled now, so its API usage shows on the dashboard before any PR is diffed against it; a trace or log
    // that cannot be read is reported by the diff that needs it, as before
    await baseProfile(deps, entry).catch((err: unknown) => {
      if (!(err instanceof BehaviorInputError) && !(err instanceof ArtifactNotFoundError)) throw err;
    });
    const waiting = await takePending(deps.store, repo, run.ref.job, refs.base_sha);
    const reports: BehaviorReport[] = [];
    for (const head of waiting) {
      const baselines = await findBaselines(deps.store, repo, head.baseRef, head.ref.job, head.baseSha, deps.maxBaselines ?? 3);
      reports.push(await diffAndRender(deps, head, baselines));
    }
    return { kind: 'baseline', entry, reports };
  }

  const open = deps.artifacts ?? ((url: string) => openArtifactStore(url));
  if (!(await open(run.storage).exists(traceArtifactPath(run.ref, run.paths)))) return { kind: 'skipped', reason: 'the run uploaded no trace' };
  const head: PendingHead = {
    ...run, org: refs.org, repo: refs.repo, pull: pull.number, headSha: pull.sha, baseRef: refs.base_ref, baseSha: refs.base_sha ?? '',
  };
  const baselines = await findBaselines(deps.store, repo, refs.base_ref, run.ref.job, refs.base_sha, deps.maxBaselines ?? 3);
  if (baselines.length === 0) {
    if (refs.base_sha) await addPending(deps.store, head);
    return { kind: 'no-baseline', org: refs.org, repo: refs.repo, job: run.ref.job, baseRef: refs.base_ref, baseSha: refs.base_sha ?? '', pull: pull.number };
  }
  return { kind: 'report', report: await diffAndRender(deps, head, baselines) };
}
