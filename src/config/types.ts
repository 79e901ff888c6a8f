// katabot's own policy (KATABOT_CONFIG), after defaults are applied.
export interface TdxPolicy {
  /** Label that approves TDX jobs for the current head commit. */
  label: string;
  /** Logins allowed to say /ok-to-test-tdx. */
  approvers: string[];
  /** Regex (source) selecting jobs that need the label to run. */
  jobs: string;
  /** false: the label is removed on every new push (approval is per commit). */
  sticky: boolean;
}

export interface TracePolicy {
  /** Tracer sidecar image. */
  image: string;
  /** Runtime classes whose pods are VMs (Kata): the tracer runs inside the guest, not on the host. */
  kata_runtime_classes: string[];
  /** GitHub Actions workflows that run the katabot action (docs/github-action.md): what `/trace` may start there,
   * and where their baselines come from. */
  actions?: ActionsTraceWorkflow[];
}

/** A workflow that runs the katabot action. */
export interface ActionsTraceWorkflow {
  /** Its file under .github/workflows, e.g. `ci-on-push.yaml`. */
  workflow: string;
  /** Names of its traced jobs (the action's `name`) that `/trace <name>` starts; globs (`run-k8s-tests*`). */
  jobs: string[];
  /** true: it has the katabot-trace / katabot-pr / katabot-sha workflow_dispatch inputs, and `/trace` dispatches
   * it on the base branch for the PR; false: it always traces, and `/trace` re-runs the job on the PR head. */
  dispatch: boolean;
  /** Workflows whose successful push and scheduled runs on the base branch are the baseline (default: this one). */
  baselines?: string[];
}

export interface KatabotConfig {
  orgs: string[];
  only_org_members: boolean;
  /** App logins without the [bot] suffix. */
  trusted_apps: string[];
  /** true: /ok-to-test is ignored, as Prow's ignore_ok_to_test. */
  ignore_ok_to_test: boolean;
  tdx: TdxPolicy;
  trace: TracePolicy;
  deck_url?: string;
  report: { statuses: boolean };
  /** `/retest` also re-runs the failed jobs of the PR head's failed GitHub Actions workflow runs. */
  retest: { github_actions: boolean };
}

export const DEFAULT_KATABOT_CONFIG: KatabotConfig = {
  orgs: [],
  only_org_members: false,
  trusted_apps: [],
  ignore_ok_to_test: false,
  tdx: { label: 'ok-to-test-tdx', approvers: [], jobs: '.*-tdx.*', sticky: false },
  trace: { image: 'ghcr.io/kata-containers/katabot-tracer:latest', kata_runtime_classes: ['kata', 'kata-qemu', 'kata-clh', 'kata-qemu-tdx', 'kata-qemu-snp', 'kata-fc', 'kata-dragonball'] },
  report: { statuses: false },
  retest: { github_actions: true },
};
