// Single PR: every job on one commit of a PR, each attempt with its result, Deck link and behavior diff.
import { useState } from 'preact/hooks';
import { pageRows, pageUrl, type DashboardQuery } from '../../../src/dashboard/query.ts';
import type { PullJob, PullSummary, PullView } from '../../../src/dashboard/types.ts';
import type { ApiState } from '../api.ts';
import { Attempt, FilterBar, Loading, Notice, Owners, RequiredBadge, SourceBadge, Stat, Typeable } from '../components.tsx';
import { ago, duration, plural, shortSha, when } from '../format.ts';
import { ExternalIcon, OUTCOME_LABELS, OutcomeIcon } from '../icons.tsx';
import { navigate } from '../router.ts';

function PrPicker({ q }: { q: DashboardQuery }) {
  const [text, setText] = useState(q.pr !== undefined ? `${q.repo ? `${q.repo}#` : ''}${q.pr}` : '');
  const [bad, setBad] = useState(false);
  return (
    <form
      class="pr-picker"
      onSubmit={(e) => {
        e.preventDefault();
        const m = /^\s*(?:https?:\/\/[^/]+\/)?(?:([\w.-]+\/[\w.-]+)(?:#|\/pull\/))?#?(\d+)\s*$/.exec(text);
        if (!m) {
          setBad(true);
          return;
        }
        setBad(false);
        navigate(pageUrl({ display: 'prsingle', pr: Number(m[2]), ...(m[1] ? { repo: m[1] } : {}), job: q.job, requiredOnly: q.requiredOnly }));
      }}
    >
      <label>
        <span class="visually-hidden">Pull request</span>
        <input
          name="pr"
          type="text"
          inputMode="text"
          placeholder="PR number, org/repo#123 or its URL"
          value={text}
          aria-invalid={bad ? 'true' : undefined}
          onInput={(e) => setText((e.currentTarget as HTMLInputElement).value)}
        />
      </label>
      <button type="submit" class="button">
        Show PR
      </button>
    </form>
  );
}

function PullList({ pulls }: { pulls: PullSummary[] }) {
  if (pulls.length === 0) return <Notice title="No PRs yet">katabot lists PRs once it has recorded a presubmit run.</Notice>;
  return (
    <ul class="pull-cards">
      {pulls.map((p) => (
        <li>
          <a class="pull-card" href={pageUrl({ display: 'prsingle', pr: p.pull, repo: p.repo })}>
            <span class="pull-title">
              <span class="pull-num">#{p.pull}</span>
              {p.author && <span class="pull-author">{p.author}</span>}
            </span>
            <span class="pull-repo">{p.repo}</span>
            <span class="pull-meta">
              <span class="mono">{shortSha(p.sha)}</span>
              <span title={when(p.updated)}>{ago(p.updated)}</span>
            </span>
            <span class="pull-counts">
              {p.failing > 0 && <span class="count fail-text">{p.failing} failing</span>}
              {p.running > 0 && <span class="count run-text">{p.running} running</span>}
              <span class="count pass-text">{p.passing} passing</span>
            </span>
          </a>
        </li>
      ))}
    </ul>
  );
}

function JobRow({ j, groups }: { j: PullJob; groups: PullView['groups'] }) {
  const newest = j.attempts[j.attempts.length - 1];
  return (
    <tr class={`row outcome-row-${j.outcome}`} data-job={j.job}>
      <td class="c-result" data-label="Result">
        <span class={`result result-${j.outcome}`}>
          <OutcomeIcon outcome={j.outcome} />
          <span>{OUTCOME_LABELS[j.outcome]}</span>
        </span>
      </td>
      <td class="c-job">
        <span class="job-name">{j.job}</span>
        <span class="tags">
          <SourceBadge source={j.source} />
          <RequiredBadge requirement={j.requirement} />
          {j.flaky && <span class="badge flaky">flaky</span>}
        </span>
        <Typeable name={j.typeable} />
        {newest?.description && <span class="muted small desc">{newest.description}</span>}
      </td>
      <td class="c-attempts attempts" data-label="Attempts">
        {j.attempts.map((a) => (
          <Attempt a={a} />
        ))}
      </td>
      <td class="num c-count" data-label="Reruns">{j.reruns}</td>
      <td class="num c-dur" data-label="Duration">{duration(newest?.durationSec)}</td>
      <td class="c-owners" data-label="Maintainers">
        <Owners names={j.maintainers} groups={groups} />
      </td>
    </tr>
  );
}

export function SinglePr({ q, api }: { q: DashboardQuery; api: ApiState<PullView | { pulls: PullSummary[] }> }) {
  const data = api.data;
  if (q.pr === undefined) {
    const pulls = data && 'pulls' in data ? data.pulls : undefined;
    return (
      <>
        <div class="view-head">
          <h1>Single PR</h1>
          <p class="lede">Every job of one PR, with each attempt, its Deck page and its behavior diff when traced.</p>
        </div>
        <PrPicker q={q} />
        <h2 class="section-title">Recent PRs</h2>
        {api.error && !pulls && <Notice kind="error" title="Cannot load the PRs">{api.error}</Notice>}
        {!pulls && !api.error && <Loading rows={4} />}
        {pulls && <PullList pulls={pulls} />}
      </>
    );
  }
  const v = data && 'jobs' in data && data.pull === q.pr ? data : undefined;
  const { rows: jobs, error } = pageRows(v?.jobs ?? [], q);
  return (
    <>
      <div class="view-head">
        <h1>
          {v ? (
            <>
              <a href={v.links.pull} target="_blank" rel="noopener noreferrer" class="pr-title">
                {v.repo} <span class="mono">#{v.pull}</span>
                <ExternalIcon />
              </a>
            </>
          ) : (
            <>PR #{q.pr}</>
          )}
        </h1>
        {v && (
          <p class="lede">
            {v.author && <>by <strong>{v.author}</strong> · </>}
            {v.baseRef && <>into <span class="mono">{v.baseRef}</span> · </>}
            commit{' '}
            <a href={v.links.commit} target="_blank" rel="noopener noreferrer" class="mono">
              {shortSha(v.sha)}
            </a>
          </p>
        )}
        {v?.labels && v.labels.length > 0 && (
          <p class="pr-labels" aria-label="CI labels">
            {v.labels.map((l) => {
              const tdx = /tdx/i.test(l);
              const current = v.tdxApprovedSha === v.sha;
              const title = tdx && v.tdxApprovedSha ? (current ? 'Approved for this commit' : `Approved for ${shortSha(v.tdxApprovedSha)}, not for this commit`) : undefined;
              return (
                <span class={`label-chip${tdx && v.tdxApprovedSha && !current ? ' stale' : ''}`} title={title}>
                  {l}
                  {tdx && v.tdxApprovedSha && <span class="mono"> @{shortSha(v.tdxApprovedSha)}</span>}
                </span>
              );
            })}
          </p>
        )}
      </div>
      <PrPicker q={q} />
      {v && v.commits.length > 1 && (
        <nav class="commits" aria-label="Commits of this PR">
          <span class="muted">Commits:</span>
          {v.commits.map((c) => (
            <a
              class={`commit-chip${c.sha === v.sha ? ' current' : ''}`}
              aria-current={c.sha === v.sha ? 'true' : undefined}
              href={pageUrl({ ...q, display: 'prsingle', sha: c.sha })}
              title={`${plural(c.jobs, 'job')}, ${c.failing} failing · ${when(c.updated)}`}
            >
              <span class="mono">{shortSha(c.sha)}</span>
              {c.failing > 0 ? <span class="fail-text"> {c.failing}✕</span> : <span class="pass-text"> ✓</span>}
            </a>
          ))}
        </nav>
      )}
      <FilterBar
        q={q}
        regexError={error}
        summary={
          v && (
            <>
              <Stat value={v.totals.failing} label="failing" tone="fail" />
              <Stat value={v.totals.running} label="running" tone="running" />
              <Stat value={v.totals.passing} label="passing" tone="pass" />
              <Stat value={v.totals.flaky} label="flaky" tone="flaky" />
              <Stat value={v.totals.reruns} label="reruns" />
            </>
          )
        }
      />
      {api.error && !v && <Notice kind="error" title={api.status === 404 ? 'No results for this PR' : 'Cannot load the PR'}>{api.error}</Notice>}
      {!v && !api.error && <Loading />}
      {v && jobs.length === 0 && <Notice title="No job matches the filters" />}
      {v && jobs.length > 0 && (
        <table class="grid single">
          <thead>
            <tr>
              <th scope="col">Result</th>
              <th scope="col">Job</th>
              <th scope="col">Attempts</th>
              <th scope="col" class="num">Reruns</th>
              <th scope="col" class="num">Duration</th>
              <th scope="col">Maintainers</th>
            </tr>
          </thead>
          <tbody>
            {jobs.map((j) => (
              <JobRow j={j} groups={v.groups} />
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
