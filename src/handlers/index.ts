// The probot application: which events katabot listens to, and the handler for each.
// REGISTRATIONS is also the source of truth for app.yml's default_events.
import type { ApplicationFunction, Context } from 'probot';
import { onCheckRun } from './check-run.ts';
import { onCheckSuite } from './check-suite.ts';
import type { HandlerDeps } from './deps.ts';
import { onIssueComment } from './issue-comment.ts';
import { onPullRequest } from './pull-request.ts';
import { onPullRequestReview } from './pull-request-review.ts';
import { onPush } from './push.ts';
import { onWorkflowJob, onWorkflowRun, type WorkflowConsumer } from './workflow.ts';
import { actionsResultsConsumer } from './actions-results.ts';
import { traceArtifactsConsumer } from './trace-artifacts.ts';

export const REGISTRATIONS = {
  issue_comment: ['issue_comment.created'],
  pull_request: [
    'pull_request.opened',
    'pull_request.reopened',
    'pull_request.synchronize',
    'pull_request.edited',
    'pull_request.closed',
    'pull_request.ready_for_review',
    'pull_request.converted_to_draft',
    'pull_request.labeled',
    // The TDX label taken off by hand: the katabot/tdx-approved status goes back to pending.
    'pull_request.unlabeled',
  ],
  pull_request_review: ['pull_request_review.submitted'],
  check_run: ['check_run.rerequested', 'check_run.requested_action'],
  check_suite: ['check_suite.rerequested'],
  workflow_run: ['workflow_run.requested', 'workflow_run.in_progress', 'workflow_run.completed'],
  workflow_job: ['workflow_job.queued', 'workflow_job.waiting', 'workflow_job.in_progress', 'workflow_job.completed'],
  // Postsubmits, as Prow's trigger starts them.
  push: ['push'],
} as const;

/** What katabot does with GitHub Actions events: record results; report the katabot action's traces. */
const WORKFLOW_CONSUMERS: readonly WorkflowConsumer[] = [actionsResultsConsumer, traceArtifactsConsumer];

export function katabotApp(deps: HandlerDeps): ApplicationFunction {
  return (app) => {
    app.on([...REGISTRATIONS.issue_comment], (ctx) => onIssueComment(deps, ctx as Context<'issue_comment'>));
    app.on([...REGISTRATIONS.pull_request], (ctx) => onPullRequest(deps, ctx as Context<'pull_request'>));
    app.on([...REGISTRATIONS.pull_request_review], (ctx) =>
      onPullRequestReview(deps, ctx as Context<'pull_request_review'>),
    );
    app.on([...REGISTRATIONS.push], (ctx) => onPush(deps, ctx as Context<'push'>));
    app.on([...REGISTRATIONS.check_run], (ctx) => onCheckRun(deps, ctx as Context<'check_run'>));
    app.on([...REGISTRATIONS.check_suite], (ctx) => onCheckSuite(deps, ctx as Context<'check_suite'>));
    app.on([...REGISTRATIONS.workflow_run], (ctx) => onWorkflowRun(deps, WORKFLOW_CONSUMERS, ctx as Context<'workflow_run'>));
    app.on([...REGISTRATIONS.workflow_job], (ctx) => onWorkflowJob(deps, WORKFLOW_CONSUMERS, ctx as Context<'workflow_job'>));
  };
}
