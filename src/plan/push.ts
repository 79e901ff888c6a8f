// What a `push` makes katabot do: start the repository's postsubmits as Prow's trigger does (push.go handlePE),
// from the central job config and, where in-repo config is on, the pushed commit's own `.prow.yaml`. Nothing
// for a deleted branch or tag. Pure: the handler gathers the in-repo jobs as a fact and creates the ProwJobs.
import { isDeletedRef, postsubmitsForPush, selectPostsubmits, type PushFacts } from '../jobs/postsubmits.ts';
import type { Postsubmit } from '../config/prow-types.ts';
import { need, step, type Facts, type Step } from './facts.ts';

export interface PushInput {
  push: PushFacts;
  postsubmits: readonly Postsubmit[];
  /** In-repo config is on here: the pushed commit's `.prow.yaml` may add postsubmits. */
  inRepoConfig: boolean;
}

export interface PushPlan {
  /** The pushed branch or tag, as `branches` match it. */
  baseRef: string;
  jobs: Postsubmit[];
  /** The in-repo config could not be read (the central jobs still run); for logs. */
  inRepoError?: string;
  reason: string;
}

export function planPush(input: PushInput, facts: Facts): Step<PushPlan> {
  return step(() => plan(input, facts));
}

function plan(i: PushInput, facts: Facts): PushPlan {
  const central = postsubmitsForPush(i.postsubmits, i.push);
  if (isDeletedRef(i.push)) return { baseRef: central.baseRef, jobs: [], reason: `${i.push.ref} was deleted: nothing runs` };
  if (!i.inRepoConfig) return { baseRef: central.baseRef, jobs: central.jobs, reason: `${central.jobs.length} postsubmit(s) for ${central.baseRef}` };
  const inRepo = need(facts.inRepoConfig, { fact: 'inRepoConfig' });
  if ('error' in inRepo) {
    const where = inRepo.error.line !== undefined ? `${inRepo.error.file}:${inRepo.error.line}` : inRepo.error.file;
    return { baseRef: central.baseRef, jobs: central.jobs, inRepoError: `${where}: ${inRepo.error.message}`, reason: 'in-repo config unreadable: central postsubmits only' };
  }
  const own = selectPostsubmits(inRepo.postsubmits, central.baseRef, central.changedFiles);
  const jobs = [...central.jobs, ...own];
  return { baseRef: central.baseRef, jobs, reason: `${jobs.length} postsubmit(s) for ${central.baseRef}, ${own.length} from in-repo config` };
}
