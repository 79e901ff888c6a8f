// Behavior: the behavior diff's HTML report of a traced run (what the run did differently from its base branch),
// embedded in a sandboxed frame under the run's details.
import type { DashboardQuery } from '../../../src/dashboard/query.ts';
import { pageUrl } from '../../../src/dashboard/query.ts';
import type { BehaviorInfo } from '../../../src/dashboard/types.ts';
import type { ApiState } from '../api.ts';
import { Attempt, Loading, Notice } from '../components.tsx';
import { ago, shortSha, when } from '../format.ts';
import { ExternalIcon } from '../icons.tsx';
import { ServiceGraphPanel } from './ServiceGraph.tsx';

export function Behavior({ q, api }: { q: DashboardQuery; api: ApiState<BehaviorInfo> }) {
  const b = api.data;
  const run = b?.run;
  return (
    <div class="behavior-view">
      <div class="view-head">
        <nav class="crumbs" aria-label="Breadcrumb">
          {run?.pull !== undefined && run.repo ? (
            <a href={pageUrl({ display: 'prsingle', pr: run.pull, repo: run.repo, ...(run.sha ? { sha: run.sha } : {}) })}>
              ← {run.repo} #{run.pull}
            </a>
          ) : (
            <a href={pageUrl({ display: 'prsingle' })}>← Single PR</a>
          )}
        </nav>
        <h1>Behavior diff{run ? <>: <span class="job-name">{run.job}</span></> : null}</h1>
        {run && (
          <p class="lede behavior-meta">
            <Attempt a={run} showBehavior={false} />
            {run.sha && (
              <span>
                commit <span class="mono">{shortSha(run.sha)}</span>
              </span>
            )}
            {run.start && <span title={when(run.start)}>started {ago(run.start)}</span>}
            {b?.reportUrl && (
              <a href={b.reportUrl} target="_blank" rel="noopener noreferrer">
                Open the report on its own <ExternalIcon />
              </a>
            )}
            <a href={pageUrl({ display: 'apis', apiScope: 'run', key: run.prowjob })}>Kubernetes API usage</a>
          </p>
        )}
      </div>
      {api.error && !b && <Notice kind="error" title="Cannot load the behavior report">{api.error}</Notice>}
      {!b && !api.error && <Loading rows={3} />}
      {b && !b.available && <Notice title="No behavior report for this run">{b.reason}</Notice>}
      {b?.available && (q.key ?? b.id) && <ServiceGraphPanel id={(q.key ?? b.id)!} />}
      {b?.available && b.reportUrl && (
        <iframe
          class="report-frame"
          src={b.reportUrl}
          title={`Behavior diff of ${run?.job ?? q.key}`}
          sandbox="allow-scripts allow-popups allow-popups-to-escape-sandbox"
          referrerpolicy="same-origin"
        />
      )}
    </div>
  );
}
