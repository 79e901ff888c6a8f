// Pieces every view uses: the header with its tabs, the filter bar, the job table, owners, the required badge, run squares.
import { Fragment, type ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { pageUrl, type DashboardQuery, type Display } from '../../src/dashboard/query.ts';
import { describeRequirement } from '../../src/dashboard/required-text.ts';
import type { AttemptChip, MaintainerGroup, Outcome, Requirement, Source } from '../../src/dashboard/types.ts';
import { ago, when } from './format.ts';
import { Chevron, ExternalIcon, OUTCOME_LABELS, OutcomeIcon } from './icons.tsx';
import { currentQuery, navigate } from './router.ts';

const TABS: Array<[Display, string]> = [
  ['nightly', 'Nightly'],
  ['prchecks', 'PR checks'],
  ['prsingle', 'Single PR'],
];

export function Header({ q, at, loading, onRefresh }: { q: DashboardQuery; at?: number | undefined; loading: boolean; onRefresh?: () => void }) {
  const [, tick] = useState(0);
  useEffect(() => {
    const t = setInterval(() => tick((n) => n + 1), 15_000);
    return () => clearInterval(t);
  }, []);
  const active = q.display === 'behavior' ? 'prsingle' : q.display;
  return (
    <header class="topbar">
      <div class="page topbar-inner">
        <a class="brand" href="/dashboard" aria-label="katabot CI dashboard, home">
          <span class="brand-mark" aria-hidden="true" />
          <span class="brand-name">katabot</span>
          <span class="brand-sub">Kata Containers CI</span>
        </a>
        <nav class="tabs" aria-label="Views">
          {TABS.map(([d, label]) => (
            <a href={pageUrl({ display: d, job: q.job, requiredOnly: q.requiredOnly })} aria-current={active === d ? 'page' : undefined} class="tab">
              {label}
            </a>
          ))}
        </nav>
        <div class="freshness" aria-live="polite">
          {at !== undefined && <span title={new Date(at).toLocaleString()}>Updated {ago(new Date(at).toISOString())}</span>}
          {onRefresh && (
            <button type="button" class={`icon-button${loading ? ' spinning' : ''}`} onClick={onRefresh} aria-label="Refresh" title="Refresh">
              <svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true">
                <path d="M13.5 8a5.5 5.5 0 1 1-1.6-3.9M13.5 2.5v3.2h-3.2" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round" />
              </svg>
            </button>
          )}
        </div>
      </div>
    </header>
  );
}

/** The job regex and required-only filters (and a view's own controls), written to the URL as they change. */
export function FilterBar({ q, regexError, children, summary }: { q: DashboardQuery; regexError?: string | undefined; children?: ComponentChildren; summary?: ComponentChildren }) {
  const [text, setText] = useState(q.job);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => setText(q.job), [q.job]);
  useEffect(() => () => clearTimeout(timer.current), []);
  /** Writes filters into the URL as it is now (not as this render saw it), so quick changes do not undo each other. */
  const update = (patch: Partial<DashboardQuery>) => {
    clearTimeout(timer.current);
    navigate(pageUrl({ ...currentQuery(), ...patch }), { replace: true });
  };
  const setJob = (v: string) => {
    setText(v);
    clearTimeout(timer.current);
    timer.current = setTimeout(() => update({ job: v }), 120);
  };
  return (
    <section class="filters" aria-label="Filters">
      <label class={`search${regexError ? ' invalid' : ''}`}>
        <span class="visually-hidden">Job regex</span>
        <svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true">
          <circle cx="7" cy="7" r="4.6" fill="none" stroke="currentColor" stroke-width="1.6" />
          <path d="M10.5 10.5l3.5 3.5" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" />
        </svg>
        <input
          type="search"
          name="job"
          value={text}
          placeholder="Filter jobs by regex, e.g. tdx|snp"
          autocomplete="off"
          spellcheck={false}
          aria-invalid={regexError ? 'true' : undefined}
          aria-describedby={regexError ? 'regex-error' : undefined}
          onInput={(e) => setJob((e.currentTarget as HTMLInputElement).value)}
        />
      </label>
      <label class="switch">
        <input
          type="checkbox"
          name="required"
          checked={q.requiredOnly}
          onChange={(e) => update({ job: text, requiredOnly: (e.currentTarget as HTMLInputElement).checked })}
        />
        <span class="track" aria-hidden="true" />
        Required only
      </label>
      {children}
      {summary && <div class="summary">{summary}</div>}
      {regexError && (
        <p class="field-error" id="regex-error" role="alert">
          Not a valid regex: {regexError}
        </p>
      )}
    </section>
  );
}

/** How many runs or PRs a view covers: the usual choices and the one in the URL, written to the URL as it changes. */
export function WindowSelect({ q, param, label, choices }: { q: DashboardQuery; param: 'runs' | 'prs'; label: string; choices: number[] }) {
  return (
    <label class="select">
      <span>{label}</span>
      <select name={param} value={String(q[param])} onChange={(e) => navigate(pageUrl({ ...q, [param]: Number((e.currentTarget as HTMLSelectElement).value) }))}>
        {[...new Set([...choices, q[param]])].sort((a, b) => a - b).map((n) => (
          <option value={String(n)}>last {n}</option>
        ))}
      </select>
    </label>
  );
}

/**
 * A table of jobs, one row each, that opens into details. The view gives the header cells and, per row, the lead
 * cell, the tags after the job name, the cells between it and the maintainers, and the details. It stays mounted
 * while no row matches (and renders nothing), so rows a maintainer opened stay open across a filter that matched none.
 */
export function JobTable<R extends { job: string; maintainers: string[]; source?: Source; typeable?: string }>({
  class: tableClass,
  head,
  rows,
  columns,
  groups,
  lead,
  tags,
  cells,
  details,
  rowAttrs,
}: {
  class: string;
  head: ComponentChildren;
  rows: R[];
  /** Columns in all, for the details row to span. */
  columns: number;
  groups: Record<string, MaintainerGroup>;
  lead: (r: R) => ComponentChildren;
  tags: (r: R) => ComponentChildren;
  cells: (r: R) => ComponentChildren;
  details: (r: R) => ComponentChildren;
  rowAttrs?: (r: R) => Record<`data-${string}`, string>;
}) {
  const [open, setOpen] = useState<Set<string>>(new Set());
  if (rows.length === 0) return null;
  const toggle = (job: string) => {
    const next = new Set(open);
    if (next.has(job)) next.delete(job);
    else next.add(job);
    setOpen(next);
  };
  return (
    <table class={tableClass}>
      <thead>
        <tr>{head}</tr>
      </thead>
      <tbody>
        {rows.map((r) => {
          const isOpen = open.has(r.job);
          return (
            <Fragment key={r.job}>
              <tr class={`row${isOpen ? ' open' : ''}`} data-job={r.job} {...rowAttrs?.(r)}>
                {lead(r)}
                <td class="c-job">
                  <button type="button" class="expander" aria-expanded={isOpen} onClick={() => toggle(r.job)}>
                    <Chevron open={isOpen} />
                    <span class="job-name">{r.job}</span>
                  </button>
                  <span class="tags">
                    <SourceBadge source={r.source} />
                    {tags(r)}
                  </span>
                  <Typeable name={r.typeable} />
                </td>
                {cells(r)}
                <td class="c-owners" data-label="Maintainers">
                  <Owners names={r.maintainers} groups={groups} />
                </td>
              </tr>
              {isOpen && (
                <tr class="details">
                  <td colSpan={columns}>{details(r)}</td>
                </tr>
              )}
            </Fragment>
          );
        })}
      </tbody>
    </table>
  );
}

/** Which CI system runs a job: a small marker beside its name. */
export function SourceBadge({ source }: { source: Source | undefined }) {
  const s = source ?? 'prow';
  return (
    <span class={`badge source source-${s}`} title={s === 'actions' ? 'Runs on GitHub Actions' : 'Runs on Prow'}>
      {s === 'actions' ? 'Actions' : 'Prow'}
    </span>
  );
}

/** The name `/test` takes for a GitHub Actions job. */
export function Typeable({ name }: { name: string | undefined }) {
  if (!name) return null;
  return (
    <span class="typeable mono small muted" title="Its name for /test and in URLs">
      {name}
    </span>
  );
}

export function RequiredBadge({ requirement }: { requirement: Requirement }) {
  if (!requirement.required) return null;
  const why = requirement.by.map(describeRequirement).join('; ');
  return (
    <span class="badge required" title={why}>
      Required
    </span>
  );
}

function contactLinks(o: MaintainerGroup['owners'][number]) {
  return (
    <span class="contacts">
      {o.github && (
        <a href={`https://github.com/${o.github}`} target="_blank" rel="noopener noreferrer" title={`GitHub: ${o.github}`}>
          @{o.github}
        </a>
      )}
      {o.slackurl && (
        <a href={o.slackurl} target="_blank" rel="noopener noreferrer" title={`Slack: ${o.slack ?? o.fullname}`}>
          Slack
        </a>
      )}
      {o.email && <a href={`mailto:${o.email}`}>Email</a>}
      {o.homepage && (
        <a href={o.homepage} target="_blank" rel="noopener noreferrer">
          Web
        </a>
      )}
    </span>
  );
}

/** Maintainer groups as chips; each opens its owners and how to reach them. */
export function Owners({ names, groups }: { names: string[]; groups: Record<string, MaintainerGroup> }) {
  if (names.length === 0) return <span class="muted no-owner">No maintainer</span>;
  return (
    <span class="owners">
      {names.map((n) => {
        const g = groups[n];
        return (
          <details class="owner-group">
            <summary title={g ? g.owners.map((o) => o.fullname).join(', ') : n}>
              {n}
              {g && g.owners[0]?.github && <span class="owner-lead"> · @{g.owners[0].github}{g.owners.length > 1 ? ` +${g.owners.length - 1}` : ''}</span>}
            </summary>
            {g && (
              <div class="popover" role="group" aria-label={`${n} maintainers`}>
                <ul>
                  {g.owners.map((o) => (
                    <li>
                      <strong>{o.fullname}</strong>
                      {contactLinks(o)}
                    </li>
                  ))}
                </ul>
              </div>
            )}
          </details>
        );
      })}
    </span>
  );
}

/** The maintainers panel of an expanded row: every owner with every contact. */
export function OwnersPanel({ names, groups }: { names: string[]; groups: Record<string, MaintainerGroup> }) {
  return (
    <div class="panel owners-panel">
      <h4>Maintainers</h4>
      {names.length === 0 && <p class="muted">No group in maintainers.yml names this job.</p>}
      {names.map((n) => (
        <div class="owner-block">
          <div class="group-name">{n}</div>
          <ul>
            {(groups[n]?.owners ?? []).map((o) => (
              <li>
                <span class="owner-name">{o.fullname}</span>
                {contactLinks(o)}
              </li>
            ))}
          </ul>
        </div>
      ))}
    </div>
  );
}

function outcomeTitle(a: Pick<AttemptChip, 'outcome' | 'attempt' | 'start'>, extra = ''): string {
  return `Attempt ${a.attempt}: ${OUTCOME_LABELS[a.outcome]}${a.start ? ` · ${when(a.start)}` : ''}${extra}`;
}

/** Runs as small coloured squares, newest first; each opens its Deck page. */
export function RunSquares({ runs, label }: { runs: Array<Pick<AttemptChip, 'outcome' | 'url' | 'start' | 'prowjob' | 'attempt'> & { buildId?: string }>; label: string }) {
  return (
    <span class="squares" role="group" aria-label={label}>
      {runs.map((r) => {
        const title = `${OUTCOME_LABELS[r.outcome]}${r.start ? ` · ${when(r.start)}` : ''}${r.buildId ? ` · build ${r.buildId}` : ''}`;
        return r.url ? (
          <a class={`sq sq-${r.outcome}`} href={r.url} target="_blank" rel="noopener noreferrer" title={title} aria-label={title} />
        ) : (
          <span class={`sq sq-${r.outcome}`} title={title} role="img" aria-label={title} />
        );
      })}
    </span>
  );
}

/** One attempt: result, Deck link, behavior diff link when traced. */
export function Attempt({ a, showBehavior = true }: { a: AttemptChip; showBehavior?: boolean }) {
  const text = `#${a.attempt} ${OUTCOME_LABELS[a.outcome]}`;
  return (
    <span class={`attempt attempt-${a.outcome}`}>
      {a.url ? (
        <a class="attempt-main" href={a.url} target="_blank" rel="noopener noreferrer" title={outcomeTitle(a, a.source === 'actions' ? ' · open in GitHub Actions' : ' · open in Deck')}>
          <OutcomeIcon outcome={a.outcome} size={14} />
          {text}
          <ExternalIcon />
        </a>
      ) : (
        <span class="attempt-main" title={outcomeTitle(a)}>
          <OutcomeIcon outcome={a.outcome} size={14} />
          {text}
        </span>
      )}
      {showBehavior && a.behavior && (
        <a class="attempt-behavior" href={a.behavior} title="What this traced run did differently from the base branch">
          Behavior
        </a>
      )}
    </span>
  );
}

export function Loading({ rows = 6 }: { rows?: number }) {
  return (
    <div class="skeleton" aria-busy="true" aria-label="Loading">
      {Array.from({ length: rows }, (_, i) => (
        <div class="skeleton-row" style={{ opacity: String(1 - i * 0.12) }} />
      ))}
    </div>
  );
}

export function Notice({ kind = 'info', title, children }: { kind?: 'info' | 'error'; title: string; children?: ComponentChildren }) {
  return (
    <div class={`notice notice-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      <strong>{title}</strong>
      {children && <div>{children}</div>}
    </div>
  );
}

export function Stat({ value, label, tone }: { value: ComponentChildren; label: string; tone?: Outcome | 'flaky' | 'neutral' }) {
  return (
    <span class={`stat stat-${tone ?? 'neutral'}`}>
      <span class="stat-value">{value}</span>
      <span class="stat-label">{label}</span>
    </span>
  );
}

/** A column header that sorts the table; the sort is kept in the URL. */
export function SortHeader({ q, col, label, title, numeric }: { q: DashboardQuery; col: string; label: string; title?: string; numeric?: boolean }) {
  const activeAsc = q.sort === col;
  const activeDesc = q.sort === `-${col}`;
  const next = activeDesc ? col : `-${col}`;
  return (
    <th scope="col" class={numeric ? 'num' : undefined} aria-sort={activeAsc ? 'ascending' : activeDesc ? 'descending' : undefined}>
      <a class="sort" href={pageUrl({ ...q, sort: numeric && !activeAsc && !activeDesc ? `-${col}` : next })} title={title ?? `Sort by ${label.toLowerCase()}`}>
        {label}
        <span class="sort-mark" aria-hidden="true">{activeAsc ? '▲' : activeDesc ? '▼' : ''}</span>
      </a>
    </th>
  );
}
