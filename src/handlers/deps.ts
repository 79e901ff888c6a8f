// What handlers need from the outside world. Built once by the server, passed to every handler.
import type { Logger } from 'pino';
import type { ProwJobClient } from '../adapters/kube.ts';
import type { ReportState } from '../adapters/report-state.ts';
import type { ResultsStore } from '../adapters/results-store.ts';
import type { Store } from '../adapters/store.ts';
import type { ConfigSnapshot } from '../config/load.ts';
import type { Metrics } from '../adapters/metrics.ts';
import type { RequiredTests } from '../dashboard/required.ts';

export interface HandlerDeps {
  config: () => ConfigSnapshot;
  prowjobs: ProwJobClient;
  store: Store;
  /** Job results and attempts (rerun counts, flakiness, the dashboard). */
  results: ResultsStore;
  /** What has been reported to GitHub per ProwJob (check-run ids, reported states). */
  reports: ReportState;
  metrics: Metrics;
  log: Logger;
  /** Kata's required-tests.yaml (KATABOT_REQUIRED_TESTS), for `/retest-required` of GitHub Actions jobs. */
  requiredTests?: () => Promise<RequiredTests>;
  /** The App's own login, e.g. `katabot[bot]`, from GET /app. */
  botLogin: () => Promise<string>;
  now: () => Date;
  /** URL of a stored behavior report (KATABOT_PUBLIC_URL's dashboard): behavior check runs link it. */
  reportUrl?: (htmlId: string) => string;
}

/** How long idempotency records live: longer than GitHub's 3-day redelivery window. */
export const RECORD_TTL_SECONDS = 8 * 24 * 3600;
