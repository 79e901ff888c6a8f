// workflow_run and workflow_job: GitHub Actions runs and jobs as they move (requested, queued, waiting, in
// progress, completed). Each delivery goes to every consumer (src/handlers/index.ts lists them), one after the
// other; each is its own facts → plan → effects and safe to repeat, so a delivery redelivered or retried after one
// consumer failed does nothing twice. Recording results is one consumer; picking up the katabot action's trace
// artifacts when a run completes is another.
import type { Context } from 'probot';
import { GitHub } from '../adapters/github.ts';
import type { WorkflowJobObject, WorkflowRunObject } from '../jobs/actions.ts';
import type { HandlerDeps } from './deps.ts';

/** One job event: `action` is queued, waiting, in_progress or completed. */
interface WorkflowJobEvent {
  action: string;
  delivery: string;
  job: WorkflowJobObject;
}

/** One run event: `action` is requested, in_progress or completed. */
interface WorkflowRunEvent {
  action: string;
  delivery: string;
  run: WorkflowRunObject;
}

/** Something katabot does with Actions events. Both methods must be idempotent. */
export interface WorkflowConsumer {
  name: string;
  onJob?(deps: HandlerDeps, gh: GitHub, event: WorkflowJobEvent): Promise<void>;
  onRun?(deps: HandlerDeps, gh: GitHub, event: WorkflowRunEvent): Promise<void>;
}

/** Calls every consumer; a failing one does not keep the others from the event, and makes the delivery retry. */
async function each(deps: HandlerDeps, consumers: readonly WorkflowConsumer[], call: (c: WorkflowConsumer) => Promise<void> | undefined, what: Record<string, unknown>): Promise<void> {
  const errors: Error[] = [];
  for (const consumer of consumers) {
    try {
      await call(consumer);
    } catch (err) {
      deps.log.warn({ ...what, consumer: consumer.name, err: (err as Error).message }, 'workflow event consumer failed');
      errors.push(err as Error);
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, errors.map((e) => e.message).join('; '));
}

export async function onWorkflowJob(deps: HandlerDeps, consumers: readonly WorkflowConsumer[], context: Context<'workflow_job'>): Promise<void> {
  const { payload } = context;
  const gh = new GitHub(context.octokit, payload.repository.owner.login, payload.repository.name);
  const event: WorkflowJobEvent = { action: payload.action, delivery: context.id, job: payload.workflow_job as unknown as WorkflowJobObject };
  await each(deps, consumers, (c) => c.onJob?.(deps, gh, event), { delivery: context.id, job: event.job.id });
}

export async function onWorkflowRun(deps: HandlerDeps, consumers: readonly WorkflowConsumer[], context: Context<'workflow_run'>): Promise<void> {
  const { payload } = context;
  const gh = new GitHub(context.octokit, payload.repository.owner.login, payload.repository.name);
  const event: WorkflowRunEvent = { action: payload.action, delivery: context.id, run: payload.workflow_run as unknown as WorkflowRunObject };
  await each(deps, consumers, (c) => c.onRun?.(deps, gh, event), { delivery: context.id, run: event.run.id });
}
