// GitHub adapter: the facts katabot reads and the writes it makes, over probot's Octokit.
// Each method is one narrow call so handlers stay readable and API usage stays countable.
import type { ProbotOctokit } from 'probot';
import { Lru } from 'toad-cache';
import type { PullFacts } from '../plan/facts.ts';
import type { WorkflowJobObject } from '../jobs/actions.ts';
import type { CheckRunObject, StatusObject, WorkflowRunObject } from '../plan/head-results.ts';
import { checkRunResult } from '../plan/head-results.ts';
import type { CheckRunInput, CheckRunUpdate, StatusInput } from '../render/check-run.ts';
import { IN_REPO_CONFIG_DIR, inRepoConfigPaths, PROW_IGNORE_FILE } from '../config/in-repo.ts';


/**
 * Creating requests are not retried blindly by Octokit: a 5xx whose request did land would then create a
 * second check run or comment. Callers retry through exactlyOnce/ensureCheckRun, which look for the
 * earlier attempt's result before creating again.
 */
const NO_BLIND_RETRY = { retries: 0 } as const;

export type Octokit = InstanceType<typeof ProbotOctokit>;

export type { PullFacts } from '../plan/facts.ts';
export type { CheckRunInput, CheckRunUpdate, StatusInput } from '../render/check-run.ts';

/** Trust facts change rarely; caching them keeps a burst of comments from spending the rate limit. */
const TRUST_TTL_MS = 5 * 60 * 1000;
const memberCache = new Lru<boolean>(10_000, TRUST_TTL_MS);
const collaboratorCache = new Lru<boolean>(10_000, TRUST_TTL_MS);

export function clearGitHubCaches(): void {
  memberCache.clear();
  collaboratorCache.clear();
}

function status(err: unknown): number | undefined {
  return typeof err === 'object' && err !== null && 'status' in err ? Number((err as { status: unknown }).status) : undefined;
}

export class GitHub {
  readonly #octokit: Octokit;
  readonly owner: string;
  readonly repo: string;

  constructor(octokit: Octokit, owner: string, repo: string) {
    this.#octokit = octokit;
    this.owner = owner;
    this.repo = repo;
  }

  get fullName(): string {
    return `${this.owner}/${this.repo}`;
  }

  /** The Octokit behind this adapter, for the narrow adapters beside it (src/adapters/github-actions-trace.ts). */
  get octokit(): Octokit {
    return this.#octokit;
  }

  async pull(number: number): Promise<PullFacts> {
    const { data } = await this.#octokit.request('GET /repos/{owner}/{repo}/pulls/{pull_number}', {
      owner: this.owner,
      repo: this.repo,
      pull_number: number,
    });
    return pullFacts(data as unknown as PullPayload);
  }

  /** The current tip of the base branch, as Prow's trigger uses (not the payload's possibly stale base.sha). */
  async branchSha(branch: string): Promise<string> {
    const { data } = await this.#octokit.request('GET /repos/{owner}/{repo}/git/ref/{ref}', {
      owner: this.owner,
      repo: this.repo,
      ref: `heads/${branch}`,
    });
    return data.object.sha;
  }

  /**
   * The eBPF package directories under `dir` (`.katabot/probes`) at `ref`, each as its files (`package.yaml` and
   * `.bt` programs) by name, read through the contents API. The caller passes the base branch: the tracer sidecar
   * is privileged, so a PR's head never chooses what it runs. No such directory: no packages.
   */
  async probePackageFiles(dir: string, ref: string): Promise<Array<{ path: string; files: Record<string, string> }>> {
    const list = async (path: string): Promise<Array<{ type: string; name: string; path: string }> | undefined> => {
      try {
        const { data } = await this.#octokit.request('GET /repos/{owner}/{repo}/contents/{path}', { owner: this.owner, repo: this.repo, path, ref });
        return Array.isArray(data) ? data.map((e) => ({ type: e.type, name: e.name, path: e.path })) : undefined;
      } catch (err) {
        if (status(err) === 404) return undefined;
        throw err;
      }
    };
    const out: Array<{ path: string; files: Record<string, string> }> = [];
    const entries = (await list(dir)) ?? [];
    for (const d of entries.filter((e) => e.type === 'dir').sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const files: Record<string, string> = {};
      for (const f of (await list(d.path)) ?? []) {
        if (f.type !== 'file' || (f.name !== 'package.yaml' && !f.name.endsWith('.bt'))) continue;
        const { data } = await this.#octokit.request('GET /repos/{owner}/{repo}/contents/{path}', { owner: this.owner, repo: this.repo, path: f.path, ref });
        if (Array.isArray(data) || data.type !== 'file' || typeof data.content !== 'string') continue;
        files[f.name] = Buffer.from(data.content, (data.encoding ?? 'base64') as BufferEncoding).toString('utf8');
      }
      if (files['package.yaml'] !== undefined) out.push({ path: d.path, files });
    }
    return out;
  }

  /**
   * Prow's in-repo config at `ref` (for a PR: its head merged onto its base, e.g. the PR's merge commit), read
   * through the contents API: the `.yaml`/`.yml` files under `.prow/` (recursively, in path order, minus what
   * `.prowignore` excludes) when that directory exists, else `.prow.yaml`; none when neither exists.
   */
  async inRepoConfigFiles(ref: string): Promise<Array<{ path: string; text: string }>> {
    const get = async (path: string): Promise<unknown> => {
      try {
        return (await this.#octokit.request('GET /repos/{owner}/{repo}/contents/{path}', { owner: this.owner, repo: this.repo, path, ref })).data;
      } catch (err) {
        if (status(err) === 404) return undefined;
        throw err;
      }
    };
    const text = (data: unknown): string | undefined => {
      const f = data as { type?: string; content?: string; encoding?: string } | undefined;
      if (!f || Array.isArray(data) || f.type !== 'file' || typeof f.content !== 'string') return undefined;
      return Buffer.from(f.content, (f.encoding ?? 'base64') as BufferEncoding).toString('utf8');
    };
    const listDir = async (path: string): Promise<string[] | undefined> => {
      const data = await get(path);
      if (!Array.isArray(data)) return undefined;
      const out: string[] = [];
      for (const e of data as Array<{ type: string; path: string }>) {
        if (e.type === 'file') out.push(e.path);
        else if (e.type === 'dir') out.push(...((await listDir(e.path)) ?? []));
      }
      return out;
    };
    const dirFiles = await listDir(IN_REPO_CONFIG_DIR);
    const prowignore = dirFiles === undefined ? undefined : text(await get(PROW_IGNORE_FILE));
    const out: Array<{ path: string; text: string }> = [];
    for (const path of inRepoConfigPaths(dirFiles, prowignore)) {
      const t = text(await get(path));
      if (t !== undefined) out.push({ path, text: t });
    }
    return out;
  }

  async isOrgMember(org: string, user: string): Promise<boolean> {
    const key = `${org}\0${user.toLowerCase()}`;
    const cached = memberCache.get(key);
    if (cached !== undefined) return cached;
    let member = false;
    try {
      const res = await this.#octokit.request('GET /orgs/{org}/members/{username}', { org, username: user });
      member = (res.status as number) === 204;
    } catch (err) {
      // 404: not a member; 302: the app cannot see private membership, which means not provably a member.
      if (status(err) !== 404 && status(err) !== 302) throw err;
    }
    memberCache.set(key, member);
    return member;
  }

  async isCollaborator(user: string): Promise<boolean> {
    const key = `${this.fullName}\0${user.toLowerCase()}`;
    const cached = collaboratorCache.get(key);
    if (cached !== undefined) return cached;
    let collaborator = false;
    try {
      const res = await this.#octokit.request('GET /repos/{owner}/{repo}/collaborators/{username}', {
        owner: this.owner,
        repo: this.repo,
        username: user,
      });
      collaborator = (res.status as number) === 204;
    } catch (err) {
      if (status(err) !== 404) throw err;
    }
    collaboratorCache.set(key, collaborator);
    return collaborator;
  }

  /** Changed paths of a PR, all pages; renames contribute both names so run_if_changed sees either. */
  async changedFiles(number: number): Promise<string[]> {
    const files = await this.#octokit.paginate('GET /repos/{owner}/{repo}/pulls/{pull_number}/files', {
      owner: this.owner,
      repo: this.repo,
      pull_number: number,
      per_page: 100,
    });
    const out: string[] = [];
    for (const f of files) {
      out.push(f.filename);
      if (f.previous_filename) out.push(f.previous_filename);
    }
    return out;
  }

  /** The commit's statuses (newest first per context) and its latest check runs, for src/plan/head-results.ts. */
  async commitChecks(sha: string): Promise<{ statuses: StatusObject[]; checkRuns: CheckRunObject[] }> {
    const [statuses, checkRuns] = await Promise.all([
      this.#octokit.paginate('GET /repos/{owner}/{repo}/commits/{ref}/statuses', {
        owner: this.owner,
        repo: this.repo,
        ref: sha,
        per_page: 100,
      }),
      this.#octokit.paginate('GET /repos/{owner}/{repo}/commits/{ref}/check-runs', {
        owner: this.owner,
        repo: this.repo,
        ref: sha,
        per_page: 100,
        filter: 'latest',
      }),
    ]);
    return { statuses: statuses as StatusObject[], checkRuns: checkRuns as unknown as CheckRunObject[] };
  }

  async addLabels(number: number, labels: string[]): Promise<void> {
    if (labels.length === 0) return;
    await this.#octokit.request('POST /repos/{owner}/{repo}/issues/{issue_number}/labels', {
      owner: this.owner,
      repo: this.repo,
      issue_number: number,
      labels,
    });
  }

  async removeLabel(number: number, label: string): Promise<void> {
    try {
      await this.#octokit.request('DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}', {
        owner: this.owner,
        repo: this.repo,
        issue_number: number,
        name: label,
      });
    } catch (err) {
      if (status(err) !== 404) throw err; // already gone: the goal is reached
    }
  }

  async comment(number: number, body: string): Promise<{ id: number; url: string }> {
    const { data } = await this.#octokit.request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', {
      owner: this.owner,
      repo: this.repo,
      issue_number: number,
      body,
      request: NO_BLIND_RETRY,
    });
    return { id: Number(data.id), url: data.html_url };
  }

  /** Finds a comment of ours carrying `marker`, for recovery after a crash between posting and recording. */
  async findComment(number: number, marker: string, botLogin: string): Promise<{ id: number; url: string } | undefined> {
    const comments = await this.#octokit.paginate('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', {
      owner: this.owner,
      repo: this.repo,
      issue_number: number,
      per_page: 100,
    });
    const mine = comments.find((c) => c.body?.includes(marker) && sameBot(c.user?.login, botLogin));
    return mine ? { id: Number(mine.id), url: mine.html_url } : undefined;
  }

  async createCheckRun(input: CheckRunInput): Promise<number> {
    const { data } = await this.#octokit.request('POST /repos/{owner}/{repo}/check-runs', {
      owner: this.owner,
      repo: this.repo,
      ...input,
      request: NO_BLIND_RETRY,
    });
    return Number(data.id);
  }

  async updateCheckRun(id: number, update: Partial<CheckRunUpdate>): Promise<void> {
    await this.#octokit.request('PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}', {
      owner: this.owner,
      repo: this.repo,
      check_run_id: id,
      ...update,
    });
  }

  /** How many annotations a check run has (they only grow: each request that carries some appends them). */
  async checkRunAnnotationCount(id: number): Promise<number> {
    const all = await this.#octokit.paginate('GET /repos/{owner}/{repo}/check-runs/{check_run_id}/annotations', {
      owner: this.owner,
      repo: this.repo,
      check_run_id: id,
      per_page: 100,
    });
    return all.length;
  }

  /** Names of the check runs of one suite (latest per name) that did not succeed. */
  async failedCheckRunsInSuite(suiteId: number): Promise<Array<{ id: number; name: string; external_id: string | null }>> {
    const runs = await this.#octokit.paginate('GET /repos/{owner}/{repo}/check-suites/{check_suite_id}/check-runs', {
      owner: this.owner,
      repo: this.repo,
      check_suite_id: suiteId,
      filter: 'latest',
      per_page: 100,
    });
    return (runs as unknown as CheckRunObject[])
      .filter((r) => checkRunResult(r) === 'failure')
      .map((r) => ({ id: r.id, name: r.name, external_id: r.external_id }));
  }

  /** A commit status, as crier writes them. */
  async createStatus(sha: string, input: StatusInput): Promise<void> {
    await this.#octokit.request('POST /repos/{owner}/{repo}/statuses/{sha}', {
      owner: this.owner,
      repo: this.repo,
      sha,
      ...input,
    });
  }

  async editComment(id: number, body: string): Promise<void> {
    await this.#octokit.request('PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}', {
      owner: this.owner,
      repo: this.repo,
      comment_id: id,
      body,
    });
  }

  /** Open PRs whose head is `sha`: the commit's associated PRs (works for forks), else a scan of open PRs. */
  async openPullsForSha(sha: string): Promise<number[]> {
    try {
      const { data } = await this.#octokit.request('GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls', {
        owner: this.owner,
        repo: this.repo,
        commit_sha: sha,
        per_page: 100,
      });
      const found = (data as Array<{ number: number; state: string; head: { sha: string } }>)
        .filter((p) => p.state === 'open' && p.head.sha === sha)
        .map((p) => p.number);
      if (found.length > 0) return found;
    } catch (err) {
      if (status(err) !== 404 && status(err) !== 422) throw err;
    }
    const open = await this.#octokit.paginate('GET /repos/{owner}/{repo}/pulls', {
      owner: this.owner,
      repo: this.repo,
      state: 'open',
      per_page: 100,
    });
    return (open as Array<{ number: number; head: { sha: string } }>).filter((p) => p.head.sha === sha).map((p) => p.number);
  }

  /** Every workflow run for `sha`, for src/plan/head-results.ts. */
  async workflowRuns(sha: string): Promise<WorkflowRunObject[]> {
    const runs = await this.#octokit.paginate('GET /repos/{owner}/{repo}/actions/runs', {
      owner: this.owner,
      repo: this.repo,
      head_sha: sha,
      per_page: 100,
    });
    return runs as unknown as WorkflowRunObject[];
  }

  /** One workflow run (its latest attempt); undefined when GitHub does not know it. */
  async workflowRun(runId: number): Promise<WorkflowRunObject | undefined> {
    try {
      const { data } = await this.#octokit.request('GET /repos/{owner}/{repo}/actions/runs/{run_id}', { owner: this.owner, repo: this.repo, run_id: runId });
      return data as unknown as WorkflowRunObject;
    } catch (err) {
      if (status(err) === 404) return undefined;
      throw err;
    }
  }

  /** The jobs of a run's latest attempt. */
  async runJobs(runId: number): Promise<WorkflowJobObject[]> {
    const jobs = await this.#octokit.paginate('GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs', {
      owner: this.owner,
      repo: this.repo,
      run_id: runId,
      filter: 'latest',
      per_page: 100,
    });
    return jobs as unknown as WorkflowJobObject[];
  }

  /** Re-runs one job of a finished run (and the jobs that depend on it), as "Re-run job" does. */
  async rerunJob(jobId: number): Promise<void> {
    await this.#octokit.request('POST /repos/{owner}/{repo}/actions/jobs/{job_id}/rerun', { owner: this.owner, repo: this.repo, job_id: jobId });
  }

  /** Starts a workflow that has a workflow_dispatch trigger, at `ref`, with `inputs`. */
  async dispatchWorkflow(workflow: string, ref: string, inputs: Record<string, string>): Promise<void> {
    await this.#octokit.request('POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches', {
      owner: this.owner,
      repo: this.repo,
      workflow_id: /^\d+$/.test(workflow) ? Number(workflow) : workflow,
      ref,
      inputs,
      request: NO_BLIND_RETRY,
    });
  }

  /** The status checks branch protection requires on `branch` (none when unprotected or not readable). */
  async requiredChecks(branch: string): Promise<string[]> {
    try {
      const { data } = await this.#octokit.request('GET /repos/{owner}/{repo}/branches/{branch}', { owner: this.owner, repo: this.repo, branch });
      const rsc = (data as { protection?: { required_status_checks?: { contexts?: string[]; checks?: Array<{ context: string }> } } }).protection?.required_status_checks;
      return [...new Set([...(rsc?.contexts ?? []), ...(rsc?.checks ?? []).map((c) => c.context)])];
    } catch (err) {
      if (status(err) === 404 || status(err) === 403) return [];
      throw err;
    }
  }

  async rerunFailedJobs(runId: number): Promise<void> {
    await this.#octokit.request('POST /repos/{owner}/{repo}/actions/runs/{run_id}/rerun-failed-jobs', {
      owner: this.owner,
      repo: this.repo,
      run_id: runId,
    });
  }

  async findCheckRun(sha: string, name: string, externalId: string): Promise<number | undefined> {
    const runs = await this.#octokit.paginate('GET /repos/{owner}/{repo}/commits/{ref}/check-runs', {
      owner: this.owner,
      repo: this.repo,
      ref: sha,
      check_name: name,
      filter: 'all',
      per_page: 100,
    });
    return (runs as unknown as CheckRunObject[]).find((r) => r.external_id === externalId)?.id;
  }
}

export function httpStatus(err: unknown): number | undefined {
  return status(err);
}

function sameBot(login: string | undefined, bot: string): boolean {
  const norm = (s: string) => s.toLowerCase().replace(/\[bot\]$/, '');
  return login !== undefined && norm(login) === norm(bot);
}

/** The subset of GitHub's pull request object katabot reads (webhook payloads and the REST API agree). */
export interface PullPayload {
  number: number;
  state: string;
  draft?: boolean;
  merged?: boolean;
  mergeable?: boolean | null;
  title: string;
  html_url: string;
  user: { login: string; html_url: string } | null;
  head: { sha: string; ref: string };
  base: { ref: string; sha: string; repo: { html_url: string } };
  labels?: Array<{ name?: string } | string>;
  merge_commit_sha?: string | null;
}

export function pullFacts(pr: PullPayload): PullFacts {
  return {
    number: pr.number,
    state: pr.state,
    draft: pr.draft ?? false,
    merged: pr.merged ?? false,
    mergeable: pr.mergeable ?? null,
    title: pr.title,
    author: pr.user?.login ?? 'ghost',
    authorLink: pr.user?.html_url ?? '',
    link: pr.html_url,
    headSha: pr.head.sha,
    headRef: pr.head.ref,
    baseRef: pr.base.ref,
    baseSha: pr.base.sha,
    repoLink: pr.base.repo.html_url,
    labels: (pr.labels ?? []).map((l) => (typeof l === 'string' ? l : (l.name ?? ''))).filter(Boolean),
    mergeSha: pr.merge_commit_sha ?? null,
  };
}
