// The katabot dashboard: a small Preact app over katabot's JSON API. The URL holds the view and its filters.
import { render } from 'preact';
import { useEffect } from 'preact/hooks';
import { apiUrlFor } from '../../src/dashboard/query.ts';
import type { ApiUsageView } from '../../src/dashboard/api-usage.ts';
import type { BehaviorInfo, NightlyView, PrChecksView, PullSummary, PullView } from '../../src/dashboard/types.ts';
import { useApi, type ApiState } from './api.ts';
import { Header } from './components.tsx';
import { interceptLinks, useQuery } from './router.ts';
import './styles.css';
import { ApiUsage } from './views/ApiUsage.tsx';
import { Behavior } from './views/Behavior.tsx';
import { Nightly } from './views/Nightly.tsx';
import { PrChecks } from './views/PrChecks.tsx';
import { SinglePr } from './views/SinglePr.tsx';

const TITLES = { nightly: 'Nightly', prchecks: 'PR checks', prsingle: 'Single PR', behavior: 'Behavior diff', apis: 'Kubernetes API usage' } as const;

function App() {
  const q = useQuery();
  const api = useApi<unknown>(apiUrlFor(q));
  useEffect(() => {
    const what = q.display === 'prsingle' && q.pr !== undefined ? `PR #${q.pr}` : TITLES[q.display];
    document.title = `${what} · katabot CI dashboard`;
  }, [q.display, q.pr]);
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <Header q={q} at={api.at} loading={api.loading} onRefresh={api.reload} />
      <main class={`page view-${q.display}`} id="main" aria-busy={api.loading ? 'true' : 'false'}>
        {q.display === 'nightly' && <Nightly q={q} api={api as ApiState<NightlyView>} />}
        {q.display === 'prchecks' && <PrChecks q={q} api={api as ApiState<PrChecksView>} />}
        {q.display === 'prsingle' && <SinglePr q={q} api={api as ApiState<PullView | { pulls: PullSummary[] }>} />}
        {q.display === 'behavior' && <Behavior q={q} api={api as ApiState<BehaviorInfo>} />}
        {q.display === 'apis' && <ApiUsage q={q} api={api as ApiState<ApiUsageView>} />}
      </main>
      <footer class="page site-foot">
        Fed live by katabot's ProwJob reporter and GitHub Actions webhooks · <a href="/api/jobs">JSON API</a> · weather as on Kata's dashboard: under 20 % failed runs is sunny,
        80 % or more stormy
      </footer>
    </>
  );
}

const root = document.getElementById('app')!;
interceptLinks(document.body);
render(<App />, root);
