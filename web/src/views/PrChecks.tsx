// PR checks: presubmits over recent PRs, by job: runs, failures, reruns, and flakiness (failed, then passed on the
// same commit). Flakiest first.
import { useMemo } from 'preact/hooks';
import { pageRows, pageUrl, type DashboardQuery } from '../../../src/dashboard/query.ts';
import type { PrChecksView, PresubmitRow } from '../../../src/dashboard/types.ts';
import type { ApiState } from '../api.ts';
import { Attempt, FilterBar, JobTable, Loading, Notice, OwnersPanel, RequiredBadge, SortHeader, Stat, WindowSelect } from '../components.tsx';
import { percent, plural, shortSha } from '../format.ts';

const WINDOWS = [10, 20, 50, 100];

const SORTS: Record<string, (a: PresubmitRow, b: PresubmitRow) => number> = {
  job: (a, b) => a.job.localeCompare(b.job),
  flaky: (a, b) => a.flakiness - b.flakiness || a.flakyCommits - b.flakyCommits,
  prs: (a, b) => a.prs - b.prs,
  runs: (a, b) => a.runs - b.runs,
  failures: (a, b) => a.failures - b.failures,
  reruns: (a, b) => a.reruns - b.reruns,
};

function FlakeBar({ row }: { row: PresubmitRow }) {
  const pct = Math.round(row.flakiness * 100);
  const title = row.flakyCommits
    ? `${row.flakyCommits} of ${row.commits} commits failed and then passed on a rerun`
    : `No commit failed and then passed (${plural(row.commits, 'commit')})`;
  return (
    <span class={`flake${pct === 0 ? ' zero' : ''}`} title={title}>
      <span class="flake-bar" aria-hidden="true">
        <span class="flake-fill" style={{ width: `${Math.max(pct, pct > 0 ? 4 : 0)}%` }} />
      </span>
      <span class="flake-pct">{pct}%</span>
    </span>
  );
}

/** Per commit, its attempts as squares: a gap between commits, newest first. */
function HistoryStrip({ row }: { row: PresubmitRow }) {
  const shown = row.history.slice(0, 24);
  return (
    <span class="strip" role="group" aria-label={`Attempts of ${row.job} per commit, newest first`}>
      {shown.map((c) => (
        <a
          class={`cluster${c.flaky ? ' flaky' : ''}`}
          href={pageUrl({ display: 'prsingle', pr: c.pull, repo: c.repo, sha: c.sha })}
          title={`PR #${c.pull} @ ${shortSha(c.sha)}: ${c.attempts.map((a) => `#${a.attempt} ${a.outcome}`).join(', ')}${c.flaky ? ' (flaky)' : ''}`}
        >
          {c.attempts.map((a) => (
            <span class={`sq sq-${a.outcome}`} />
          ))}
        </a>
      ))}
      {row.history.length > shown.length && <span class="muted small">+{row.history.length - shown.length}</span>}
    </span>
  );
}

function Details({ row, groups }: { row: PresubmitRow; groups: PrChecksView['groups'] }) {
  return (
    <div class="details-grid">
      <div class="panel wide">
        <h4>Attempts per commit</h4>
        <table class="mini">
          <thead>
            <tr>
              <th scope="col">PR</th>
              <th scope="col">Commit</th>
              <th scope="col">Attempts</th>
            </tr>
          </thead>
          <tbody>
            {row.history.map((c) => (
              <tr>
                <td>
                  <a href={pageUrl({ display: 'prsingle', pr: c.pull, repo: c.repo })} class="pr-link">
                    #{c.pull}
                  </a>
                  {c.author && <span class="muted"> · {c.author}</span>}
                </td>
                <td>
                  <a href={pageUrl({ display: 'prsingle', pr: c.pull, repo: c.repo, sha: c.sha })} class="mono">
                    {shortSha(c.sha)}
                  </a>
                  {c.flaky && <span class="badge flaky">flaky</span>}
                </td>
                <td class="attempts">
                  {c.attempts.map((a) => (
                    <Attempt a={a} />
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <OwnersPanel names={row.maintainers} groups={groups} />
    </div>
  );
}

export function PrChecks({ q, api }: { q: DashboardQuery; api: ApiState<PrChecksView> }) {
  const v = api.data;
  const { rows, error } = useMemo(() => pageRows(v?.jobs ?? [], q, SORTS), [v, q.job, q.requiredOnly, q.sort]);
  return (
    <>
      <div class="view-head">
        <h1>PR checks</h1>
        <p class="lede">
          Presubmits over the last {v ? plural(v.pulls.length, 'PR') : `${q.prs} PRs`}. A rerun is a further attempt on the same commit; a flaky commit
          failed and then passed.
        </p>
      </div>
      <FilterBar
        q={q}
        regexError={error}
        summary={
          v && (
            <>
              <Stat value={rows.length} label={rows.length === 1 ? 'job' : 'jobs'} />
              <Stat value={rows.filter((r) => r.flakyCommits > 0).length} label="flaky" tone="flaky" />
              <Stat value={rows.reduce((n, r) => n + r.reruns, 0)} label="reruns" tone="neutral" />
              <Stat value={rows.reduce((n, r) => n + r.failures, 0)} label="failures" tone="fail" />
            </>
          )
        }
      >
        <WindowSelect q={q} param="prs" label="PRs" choices={WINDOWS} />
      </FilterBar>
      {api.error && !v && <Notice kind="error" title="Cannot load the PR checks">{api.error}</Notice>}
      {!v && !api.error && <Loading />}
      {v && v.jobs.length === 0 && <Notice title="No PR jobs yet">katabot shows presubmits once the reporter has recorded a run.</Notice>}
      {v && v.jobs.length > 0 && rows.length === 0 && <Notice title="No job matches the filters" />}
      <JobTable
        class="grid prchecks"
        rows={rows}
        columns={8}
        groups={v?.groups ?? {}}
        head={
          <>
            <SortHeader q={q} col="flaky" label="Flakiness" numeric title="Commits that failed and then passed, of all commits" />
            <SortHeader q={q} col="job" label="Job" />
            <th scope="col">Attempts per commit</th>
            <SortHeader q={q} col="prs" label="PRs" numeric />
            <SortHeader q={q} col="runs" label="Runs" numeric />
            <SortHeader q={q} col="failures" label="Failures" numeric />
            <SortHeader q={q} col="reruns" label="Reruns" numeric />
            <th scope="col">Maintainers</th>
          </>
        }
        lead={(r) => (
          <td class="c-flake" data-label="Flakiness">
            <FlakeBar row={r} />
          </td>
        )}
        tags={(r) => (
          <>
            <RequiredBadge requirement={r.requirement} />
            {r.flakyCommits > 0 && <span class="badge flaky">flaky on {plural(r.flakyCommits, 'commit')}</span>}
          </>
        )}
        cells={(r) => (
          <>
            <td class="c-runs" data-label="Attempts">
              <HistoryStrip row={r} />
            </td>
            <td class="num c-count" data-label="PRs">{r.prs}</td>
            <td class="num c-count" data-label="Runs">{r.runs}</td>
            <td class="num c-count fail-text" data-label="Failures">{r.failures}</td>
            <td class="num c-count" data-label="Reruns">{r.reruns}</td>
          </>
        )}
        details={(r) => <Details row={r} groups={v!.groups} />}
      />
      {v && (
        <p class="foot-note">
          {v.totals.flaky} of {plural(v.totals.jobs, 'job')} ({percent(v.totals.jobs ? v.totals.flaky / v.totals.jobs : 0)}) failed and then passed on the same
          commit at least once in this window.
        </p>
      )}
    </>
  );
}
