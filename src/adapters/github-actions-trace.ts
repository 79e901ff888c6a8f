// The GitHub Actions calls behind traced Actions runs, one narrow method each (kept apart from src/adapters/github.ts,
// which the Actions CI backend extends): a run's artifacts, an artifact's zip, a workflow's runs on a branch, and,
// for `/trace`, a run's jobs, re-running one job and dispatching a workflow.
import type { ArtifactRef, BaseRunRef } from '../plan/trace-artifacts.ts';
import type { GitHub } from './github.ts';

/** An artifact of a workflow run, as GET …/actions/runs/{id}/artifacts lists it. */
export type RunArtifact = ArtifactRef;

/** A workflow run, as the runs listings give it. */
export type WorkflowRunSummary = BaseRunRef;

export interface WorkflowJobSummary {
  id: number;
  name: string;
  status: string;
  conclusion: string | null;
  runId: number;
  url: string;
}

/** Artifacts larger than this are not downloaded (a trace of a long job compresses far below it). */
const MAX_ARTIFACT_BYTES = 512 << 20;

export class ActionsTraceApi {
  readonly #gh: GitHub;

  /** Beside the repository's GitHub adapter, on its Octokit. */
  constructor(gh: GitHub) {
    this.#gh = gh;
  }

  get owner(): string {
    return this.#gh.owner;
  }

  get repo(): string {
    return this.#gh.repo;
  }

  get #octokit(): GitHub['octokit'] {
    return this.#gh.octokit;
  }

  async runArtifacts(runId: number): Promise<RunArtifact[]> {
    const list = await this.#octokit.paginate('GET /repos/{owner}/{repo}/actions/runs/{run_id}/artifacts', {
      owner: this.owner, repo: this.repo, run_id: runId, per_page: 100,
    });
    return (list as Array<{ id: number; name: string; expired: boolean; size_in_bytes: number; created_at: string | null }>).map((a) => ({
      id: a.id, name: a.name, expired: a.expired, size: a.size_in_bytes, createdAt: a.created_at ?? '',
    }));
  }

  /** The artifact's zip. GitHub answers with a redirect to blob storage, which is followed without the token. */
  async downloadArtifact(artifact: Pick<RunArtifact, 'id' | 'size'>): Promise<Buffer> {
    if (artifact.size > MAX_ARTIFACT_BYTES) throw new Error(`artifact ${artifact.id} has ${artifact.size} bytes, more than the ${MAX_ARTIFACT_BYTES} katabot downloads`);
    const { data } = await this.#octokit.request('GET /repos/{owner}/{repo}/actions/artifacts/{artifact_id}/{archive_format}', {
      owner: this.owner, repo: this.repo, artifact_id: artifact.id, archive_format: 'zip',
    });
    return Buffer.from(data as ArrayBuffer);
  }

  /** Runs of a workflow (its file name, e.g. `ci.yaml`) on a branch, newest first; `success` only when asked. */
  async workflowRuns(workflow: string, o: { branch: string; status?: 'success' | 'completed'; perPage?: number }): Promise<WorkflowRunSummary[]> {
    const { data } = await this.#octokit.request('GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs', {
      owner: this.owner, repo: this.repo, workflow_id: workflow, branch: o.branch, per_page: o.perPage ?? 20, ...(o.status ? { status: o.status } : {}),
    });
    return (data.workflow_runs as Array<Record<string, unknown>>).map(runSummary);
  }

  async runJobs(runId: number): Promise<WorkflowJobSummary[]> {
    const list = await this.#octokit.paginate('GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs', {
      owner: this.owner, repo: this.repo, run_id: runId, per_page: 100, filter: 'latest',
    });
    return (list as Array<{ id: number; name: string; status: string; conclusion: string | null; run_id: number; html_url: string | null }>).map((j) => ({
      id: j.id, name: j.name, status: j.status, conclusion: j.conclusion, runId: j.run_id, url: j.html_url ?? '',
    }));
  }

  async rerunJob(jobId: number): Promise<void> {
    await this.#octokit.request('POST /repos/{owner}/{repo}/actions/jobs/{job_id}/rerun', { owner: this.owner, repo: this.repo, job_id: jobId });
  }

  /** workflow_dispatch of a workflow on a branch, with string inputs. */
  async dispatch(workflow: string, ref: string, inputs: Record<string, string>): Promise<void> {
    await this.#octokit.request('POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches', {
      owner: this.owner, repo: this.repo, workflow_id: workflow, ref, inputs,
    });
  }
}

function runSummary(r: Record<string, unknown>): WorkflowRunSummary {
  return {
    id: Number(r['id']),
    attempt: Number(r['run_attempt'] ?? 1),
    event: String(r['event'] ?? ''),
    headSha: String(r['head_sha'] ?? ''),
    headBranch: (r['head_branch'] as string | null) ?? null,
    conclusion: (r['conclusion'] as string | null) ?? null,
    path: String(r['path'] ?? ''),
    createdAt: String(r['created_at'] ?? ''),
    url: String(r['html_url'] ?? ''),
  };
}
