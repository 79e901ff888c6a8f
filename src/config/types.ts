// katabot's own policy (KATABOT_CONFIG), after defaults are applied.
interface TdxPolicy {
  /** Label that approves TDX jobs for the current head commit. */
  label: string;
  /** Logins allowed to say /ok-to-test-tdx. */
  approvers: string[];
  /** Regex (source) selecting jobs that need the label to run. */
  jobs: string;
  /** false: the label is removed on every new push (approval is per commit). */
  sticky: boolean;
  /**
   * Publish the decision as a commit status on every PR head (success for an approved head, pending naming the
   * approvers otherwise), so workflows can gate their TDX jobs on it. Only when approvers are configured. Off by
   * default: it adds a pending status to every PR until approved.
   */
  status: boolean;
  /** The status's context. */
  status_context: string;
}

/** A workflow `/test <name>` dispatches (workflow_dispatch) for the PR. */
export interface ActionsDispatch {
  /** The workflow file (`ci-tdx.yaml`) or its id. */
  workflow: string;
  /** Branch the workflow file is read from; default: the PR's base branch. */
  ref?: string;
  /** Inputs; `{sha}`, `{pr}`, `{base}`, `{head_ref}` and `{repo}` are replaced with the PR's. */
  inputs: Record<string, string>;
  /** The workflow runs TDX jobs: it needs the TDX approval for the head (default: when its name matches tdx.jobs). */
  tdx?: boolean;
}

/** GitHub Actions as a CI backend. */
interface ActionsPolicy {
  /** Workflow files (names or paths) whose every run is a nightly job, whatever triggered it (e.g. ci-nightly.yaml). */
  nightly_workflows: string[];
  /** `/test <name>` dispatches these workflows. */
  dispatch: Record<string, ActionsDispatch>;
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
  /** Prow's trusted_org: members of this org are trusted too, besides the repository's org (or `orgs`). */
  trusted_org?: string;
  /** Where the needs-ok-to-test message sends people to learn about joining the org (Prow's join_org_url). */
  join_org_url?: string;
  tdx: TdxPolicy;
  trace: TracePolicy;
  deck_url?: string;
  report: { statuses: boolean };
  /** `/retest` also re-runs the failed jobs of the PR head's failed GitHub Actions workflow runs. */
  retest: { github_actions: boolean };
  /** katabot's name under `external_plugins` in Prow's plugins.yaml (PLUGIN_CONFIG). */
  external_plugin_name: string;
  /** Per-org (`org`) and per-repository (`org/repo`) overrides; repoPolicy() applies them. */
  repos: Record<string, RepoOverride>;
  actions: ActionsPolicy;
}

/** What KATABOT_CONFIG's `repos:` may change for one org or repository. */
export interface RepoOverride {
  orgs?: string[];
  only_org_members?: boolean;
  trusted_apps?: string[];
  ignore_ok_to_test?: boolean;
  trusted_org?: string;
  join_org_url?: string;
  tdx?: Partial<TdxPolicy>;
  report?: Partial<KatabotConfig['report']>;
  retest?: Partial<KatabotConfig['retest']>;
}

export const DEFAULT_KATABOT_CONFIG: KatabotConfig = {
  orgs: [],
  only_org_members: false,
  trusted_apps: [],
  ignore_ok_to_test: false,
  tdx: { label: 'ok-to-test-tdx', approvers: [], jobs: '.*-tdx.*', sticky: false, status: false, status_context: 'katabot/tdx-approved' },
  trace: { image: 'ghcr.io/kata-containers/katabot-tracer:latest', kata_runtime_classes: ['kata', 'kata-qemu', 'kata-clh', 'kata-qemu-tdx', 'kata-qemu-snp', 'kata-fc', 'kata-dragonball'] },
  report: { statuses: false },
  retest: { github_actions: true },
  external_plugin_name: 'katabot',
  repos: {},
  actions: { nightly_workflows: [], dispatch: {} },
};
