// API usage: what a traced run, or a job's last N traced runs, did with the Kubernetes API, as APISnoop shows it:
// the sunburst of every operation of the cluster's spec coloured by who hit it, coverage of conformance-eligible
// endpoints, the endpoints hit, audit events that were skipped, and APISnoop's CSV exports to download.
import type { ApiUsageView } from '../../../src/dashboard/api-usage.ts';
import { apiUrlFor, pageUrl, type DashboardQuery } from '../../../src/dashboard/query.ts';
import type { ApiState } from '../api.ts';
import { Loading, Notice, Stat, WindowSelect } from '../components.tsx';
import { ago, when } from '../format.ts';
import { Sunburst, SunburstLegend } from '../sunburst.tsx';
import '../apis.css';

const COVERAGE = ['conformance', 'tested', 'hit', 'untested'];

function runLabel(r: ApiUsageView['runs'][number]): string {
  return r.pull !== undefined ? `PR #${r.pull}` : r.type;
}

export function ApiUsage({ q, api }: { q: DashboardQuery; api: ApiState<ApiUsageView> }) {
  const v = api.data;
  const job = v?.job ?? (q.apiScope === 'job' ? q.key : undefined);
  const newest = v?.runs[0];
  const hitOps = v ? v.summary.reduce((a, s) => a + s.hit, 0) : 0;
  return (
    <div class="apis-view">
      <div class="view-head">
        <nav class="crumbs" aria-label="Breadcrumb">
          {q.apiScope === 'run' && q.key ? <a href={pageUrl({ display: 'behavior', key: q.key })}>← Behavior diff of this run</a> : <a href={pageUrl({ display: 'nightly' })}>← Nightly</a>}
        </nav>
        <h1>
          Kubernetes API usage{job ? <>: <span class="job-name">{job}</span></> : null}
        </h1>
        <p class="lede apis-scope">
          {q.apiScope === 'run' ? (
            <>
              <span>{newest ? `This run (${runLabel(newest)}, recorded ${ago(newest.recordedAt)})` : 'This run'}</span>
              {job && <a href={pageUrl({ display: 'apis', apiScope: 'job', key: job, runs: q.runs })}>Last runs of the job</a>}
            </>
          ) : (
            <>
              <span>{v ? `${v.runs.length} traced run${v.runs.length === 1 ? '' : 's'} of the job, merged` : 'The job\'s traced runs'}</span>
              <WindowSelect q={q} param="runs" label="Runs" choices={[1, 5, 10, 20]} />
              {newest && <a href={pageUrl({ display: 'apis', apiScope: 'run', key: newest.prowjob })}>Newest run only</a>}
            </>
          )}
        </p>
      </div>
      {api.error && !v && <Notice kind={api.status === 404 ? 'info' : 'error'} title="No Kubernetes API usage to show">{api.error}</Notice>}
      {!v && !api.error && <Loading rows={4} />}
      {v && (
        <>
          <div class="summary apis-summary">
            <Stat value={v.totals.requests} label="requests" />
            <Stat value={hitOps} label="operations hit" />
            <Stat value={`${v.coverage.percent}%`} label={`of ${v.coverage.eligible} conformance-eligible endpoints hit`} tone="pass" />
            <Stat value={`${v.coverage.conformancePercent}%`} label="hit by conformance tests" />
            <Stat value={v.skipped.total} label="malformed audit events skipped" tone={v.skipped.total > 0 ? 'fail' : 'neutral'} />
          </div>
          {v.skipped.total > 0 && (
            <details class="apis-skipped">
              <summary>Why {v.skipped.total} audit event{v.skipped.total === 1 ? ' was' : 's were'} skipped</summary>
              <ul>
                {v.skipped.reasons.map((r) => (
                  <li>
                    <strong>{r.reason}</strong>: {r.count} (first at {r.first.join(', ')}
                    {r.count > r.first.length ? ', …' : ''})
                  </li>
                ))}
              </ul>
            </details>
          )}
          <section class="panel apis-panel" aria-labelledby="apis-sunburst">
            <h2 id="apis-sunburst">Operations of the cluster's API</h2>
            <p class="muted">
              Every operation of the spec ({v.spec.title} {v.spec.version}), by level and category, as APISnoop draws it. Click an arc to zoom in, the
              centre to zoom out; or Tab into the chart: arrows move, Enter zooms in, Escape zooms out.
            </p>
            <SunburstLegend statuses={COVERAGE} />
            <Sunburst tree={v.sunburst} label={`Kubernetes API operations of ${v.job}, by level and category`} />
          </section>
          <section class="panel apis-panel" aria-labelledby="apis-levels">
            <h2 id="apis-levels">By level</h2>
            <table class="apis-table">
              <thead>
                <tr>
                  <th scope="col">Level</th>
                  <th scope="col" class="num">Endpoints</th>
                  <th scope="col" class="num">Hit</th>
                  <th scope="col" class="num">By e2e tests</th>
                  <th scope="col" class="num">By conformance tests</th>
                  <th scope="col" class="num">Hit %</th>
                </tr>
              </thead>
              <tbody>
                {v.summary.map((s) => (
                  <tr>
                    <td>{s.level}</td>
                    <td class="num">{s.endpoints}</td>
                    <td class="num">{s.hit}</td>
                    <td class="num">{s.tested}</td>
                    <td class="num">{s.conformanceTested}</td>
                    <td class="num">{s.percent}%</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
          <section class="panel apis-panel" aria-labelledby="apis-downloads">
            <h2 id="apis-downloads">Downloads</h2>
            <p class="muted">APISnoop's exports, with its columns; katabot fills the conformance columns from the e2e tests in the audit log's user agents.</p>
            <ul class="apis-downloads">
              {v.exports.map((e) => (
                <li>
                  <a href={e.url} download>
                    {e.name}.csv
                  </a>{' '}
                  <span class="muted">{e.columns.join(', ')}</span>
                </li>
              ))}
              <li>
                <a href={apiUrlFor(q)}>JSON</a> <span class="muted">this page's data</span>
              </li>
            </ul>
          </section>
          <section class="panel apis-panel" aria-labelledby="apis-endpoints">
            <h2 id="apis-endpoints">Endpoints hit</h2>
            <table class="apis-table apis-endpoints">
              <thead>
                <tr>
                  <th scope="col">Endpoint</th>
                  <th scope="col">Level</th>
                  <th scope="col" class="num">Hits</th>
                  <th scope="col">Hit by</th>
                  <th scope="col">Apps</th>
                </tr>
              </thead>
              <tbody>
                {v.endpoints.map((e) => (
                  <tr data-endpoint={e.endpoint}>
                    <td>
                      <code>{e.endpoint}</code>
                      <div class="muted mono apis-path">
                        {e.method.toUpperCase()} {e.path}
                      </div>
                    </td>
                    <td>{e.level}</td>
                    <td class="num">{e.hits}</td>
                    <td>
                      <span class={`apis-badge apis-${e.status}`}>{e.status === 'conformance' ? 'conformance test' : e.status === 'tested' ? 'e2e test' : 'other'}</span>
                      {!e.eligible && (
                        <span class="apis-badge apis-ineligible" title={e.ineligibleReason}>
                          not conformance-eligible
                        </span>
                      )}
                    </td>
                    <td class="muted">{e.apps.map((a) => `${a.name} ${a.hits}`).join(', ')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
          <p class="muted">
            Runs:{' '}
            {v.runs.map((r, i) => (
              <>
                {i > 0 && ', '}
                <a href={pageUrl({ display: 'apis', apiScope: 'run', key: r.prowjob })} title={when(r.recordedAt)}>
                  {runLabel(r)} {r.buildId}
                </a>
              </>
            ))}
          </p>
        </>
      )}
    </div>
  );
}
