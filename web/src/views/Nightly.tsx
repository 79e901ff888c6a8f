// Nightly: periodic jobs with their last runs and Kata's weather, worst first; owners per job.
import { useMemo } from 'preact/hooks';
import { pageRows, type DashboardQuery } from '../../../src/dashboard/query.ts';
import { describeRequirement } from '../../../src/dashboard/required-text.ts';
import type { NightlyRow, NightlyView } from '../../../src/dashboard/types.ts';
import { weatherRank, WEATHER_LABELS, WEATHERS } from '../../../src/dashboard/weather.ts';
import type { ApiState } from '../api.ts';
import { FilterBar, JobTable, Loading, Notice, OwnersPanel, RequiredBadge, RunSquares, SortHeader, Stat, WindowSelect } from '../components.tsx';
import { ago, duration, percent, plural, when } from '../format.ts';
import { ExternalIcon, OUTCOME_LABELS, OutcomeIcon, WeatherIcon } from '../icons.tsx';

const WINDOWS = [5, 10, 20, 30, 50];

const SORTS: Record<string, (a: NightlyRow, b: NightlyRow) => number> = {
  job: (a, b) => a.job.localeCompare(b.job),
  runs: (a, b) => a.runs - b.runs,
  passes: (a, b) => a.passes - b.passes,
  fails: (a, b) => a.fails - b.fails,
  skips: (a, b) => a.skips - b.skips,
  rate: (a, b) => (a.failRate ?? 2) - (b.failRate ?? 2),
  weather: (a, b) => weatherRank(a.weather) - weatherRank(b.weather),
};

function weatherTitle(r: NightlyRow): string {
  if (r.runs === 0) return `${WEATHER_LABELS[r.weather]}: no finished runs yet`;
  return `${WEATHER_LABELS[r.weather]}: ${r.fails} of ${r.runs} runs failed (${percent(r.failRate)})`;
}

function Details({ row, groups }: { row: NightlyRow; groups: NightlyView['groups'] }) {
  return (
    <div class="details-grid">
      <div class="panel">
        <h4>Last runs</h4>
        <ol class="run-list">
          {row.last.map((r) => (
            <li>
              <OutcomeIcon outcome={r.outcome} size={16} />
              <span class="run-what">
                {OUTCOME_LABELS[r.outcome]}
                {r.description && <span class="muted"> · {r.description}</span>}
              </span>
              <span class="run-when" title={when(r.start)}>
                {ago(r.start)}
              </span>
              <span class="run-dur">{duration(r.durationSec)}</span>
              {r.url ? (
                <a href={r.url} target="_blank" rel="noopener noreferrer" class="deck-link">
                  {r.actions ? `Run ${r.actions.runId}${r.actions.runAttempt > 1 ? ` #${r.actions.runAttempt}` : ''}` : r.buildId ? `Build ${r.buildId.slice(-6)}` : 'Deck'}
                  <ExternalIcon />
                </a>
              ) : (
                <span />
              )}
            </li>
          ))}
        </ol>
      </div>
      <OwnersPanel names={row.maintainers} groups={groups} />
      <div class="panel">
        <h4>Required</h4>
        <p>{row.requirement.required ? row.requirement.by.map(describeRequirement).join('; ') : 'Not required.'}</p>
        {row.lastPass && <p class="muted">Last pass {ago(row.lastPass)}</p>}
        {row.lastFail && <p class="muted">Last failure {ago(row.lastFail)}</p>}
        <p>
          <a href={`/api/jobs/${encodeURIComponent(row.job)}/runs`} class="muted small">
            Run history (JSON)
          </a>
        </p>
      </div>
    </div>
  );
}

export function Nightly({ q, api }: { q: DashboardQuery; api: ApiState<NightlyView> }) {
  const v = api.data;
  const { rows, error } = useMemo(() => pageRows(v?.jobs ?? [], q, SORTS), [v, q.job, q.requiredOnly, q.sort]);
  const weatherCounts = WEATHERS.map((w) => [w, rows.filter((r) => r.weather === w).length] as const).filter(([, n]) => n > 0);
  return (
    <>
      <div class="view-head">
        <h1>Nightly jobs</h1>
        <p class="lede">Prow periodics and scheduled GitHub Actions jobs over their last {v?.window ?? q.runs} finished runs. Weather from the failure ratio, worst first.</p>
      </div>
      <FilterBar
        q={q}
        regexError={error}
        summary={
          v && (
            <>
              <Stat value={rows.length} label={rows.length === 1 ? 'job' : 'jobs'} />
              <Stat value={rows.filter((r) => r.last.find((x) => x.outcome !== 'running')?.outcome === 'fail').length} label="failing now" tone="fail" />
              <span class="weather-counts" aria-label="Jobs by weather">
                {weatherCounts.map(([w, n]) => (
                  <span class="weather-count" title={`${n} ${WEATHER_LABELS[w].toLowerCase()}`}>
                    <WeatherIcon weather={w} size={20} />
                    {n}
                  </span>
                ))}
              </span>
            </>
          )
        }
      >
        <WindowSelect q={q} param="runs" label="Runs" choices={WINDOWS} />
      </FilterBar>
      {api.error && !v && <Notice kind="error" title="Cannot load the nightly jobs">{api.error}</Notice>}
      {!v && !api.error && <Loading />}
      {v && v.jobs.length === 0 && <Notice title="No periodic jobs yet">katabot shows periodic jobs once the reporter has recorded a run.</Notice>}
      {v && v.jobs.length > 0 && rows.length === 0 && <Notice title="No job matches the filters" />}
      <JobTable
        class="grid nightly"
        rows={rows}
        columns={9}
        groups={v?.groups ?? {}}
        head={
          <>
            <SortHeader q={q} col="weather" label="Weather" numeric />
            <SortHeader q={q} col="job" label="Job" />
            <th scope="col">Last runs</th>
            <SortHeader q={q} col="runs" label="Runs" numeric />
            <SortHeader q={q} col="passes" label="Pass" numeric />
            <SortHeader q={q} col="fails" label="Fail" numeric />
            <SortHeader q={q} col="skips" label="Skip" numeric title="Aborted runs (superseded or stopped)" />
            <SortHeader q={q} col="rate" label="Fail rate" numeric />
            <th scope="col">Maintainers</th>
          </>
        }
        rowAttrs={(r) => ({ 'data-weather': r.weather })}
        lead={(r) => (
          <td class="c-weather" data-label="Weather">
            <WeatherIcon weather={r.weather} title={weatherTitle(r)} />
          </td>
        )}
        tags={(r) => (
          <>
            <RequiredBadge requirement={r.requirement} />
            {r.failStreak >= 2 && <span class="badge streak">failed {r.failStreak}× in a row</span>}
            {r.last[0]?.outcome === 'running' && <span class="badge running">running</span>}
          </>
        )}
        cells={(r) => (
          <>
            <td class="c-runs" data-label="Last runs">
              <RunSquares runs={r.last} label={`Last runs of ${r.job}, newest first`} />
            </td>
            <td class="num c-count" data-label="Runs">{r.runs}</td>
            <td class="num c-count pass-text" data-label="Pass">{r.passes}</td>
            <td class="num c-count fail-text" data-label="Fail">{r.fails}</td>
            <td class="num c-count skip-text" data-label="Skip">{r.skips}</td>
            <td class="num c-rate" data-label="Fail rate">{percent(r.failRate)}</td>
          </>
        )}
        details={(r) => <Details row={r} groups={v!.groups} />}
      />
      {v && <p class="foot-note">{plural(v.totals.jobs, 'nightly job')} in katabot's store (Prow periodics and scheduled GitHub Actions jobs); each run links to its Deck or Actions page.</p>}
    </>
  );
}
