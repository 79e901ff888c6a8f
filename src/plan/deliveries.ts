// Which webhook deliveries can make katabot do anything. Most of what an org sends needs nothing: comments without a
// command, other Apps' check runs, edits, labels katabot does not gate on. Intake asks this before persisting (so
// those cost no Redis write), and the worker asks it again before dispatching, so both drop exactly the same
// deliveries. Pure, over the parsed payload; the config parts come from the caller.
import type { KatabotConfig } from '../config/types.ts';
import { isDeletedRef } from '../jobs/postsubmits.ts';
import type { Postsubmit, Presubmit } from '../config/prow-types.ts';
import { commandsIn, commentNeedsWork } from './comment.ts';
import { LABEL, sameLabel } from '../policy/labels.ts';
import { isTdxLabel } from '../policy/tdx.ts';
import { isSelfLogin } from '../policy/trust.ts';
import { CHECK_ACTIONS } from '../render/check-run.ts';
import type { ConfigView } from './repo.ts';

/** What the filter knows about the repository a delivery is for (src/plan/repo.ts), and the App's login. */
export interface RepoContext {
  botLogin: string;
  /** katabot acts on this repository at all. */
  serves?: boolean;
  policy: KatabotConfig;
  presubmits: readonly Presubmit[];
  postsubmits?: readonly Postsubmit[];
  /** In-repo config is on: the PR's own `.prow.yaml` may bring jobs (and custom triggers) intake cannot see. */
  inRepoConfig: boolean;
}

/** The requested actions katabot puts on its failed check runs. */
const CHECK_ACTION_IDS: ReadonlySet<string> = new Set(Object.values(CHECK_ACTIONS).map((a) => a.identifier));

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});
const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/** The repository a payload is about, as `owner/name`, or undefined. */
export function deliveryRepo(payload: unknown): { owner: string; repo: string } | undefined {
  const repo = obj(obj(payload)['repository']);
  const owner = text(obj(repo['owner'])['login']);
  const name = text(repo['name']);
  return owner && name ? { owner, repo: name } : undefined;
}

/** Whether a check run or suite belongs to katabot's App (GitHub sends other Apps' events to repo webhooks too). */
export function isOurApp(botLogin: string, app: unknown): boolean {
  const slug = text(obj(app)['slug']);
  if (!slug) return true;
  return slug.toLowerCase() === botLogin.toLowerCase().replace(/\[bot\]$/, '');
}

/**
 * Whether `event` with `payload` needs any work. Unknown events need work (a handler registered for them decides);
 * for the events below, only the deliveries a handler would act on do.
 */
export function deliveryNeedsWork(event: string, payload: unknown, ctx: RepoContext): boolean {
  if (ctx.serves === false) return false;
  const p = obj(payload);
  const action = text(p['action']);
  const jobs = ctx.presubmits.length > 0 || ctx.inRepoConfig;
  switch (event) {
    case 'push':
      // Postsubmits: a deleted branch or tag starts nothing.
      if ((ctx.postsubmits?.length ?? 0) === 0 && !ctx.inRepoConfig) return false;
      return !isDeletedRef({ after: text(p['after']), deleted: p['deleted'] === true });
    case 'issue_comment': {
      const issue = obj(p['issue']);
      const comment = obj(p['comment']);
      return commentNeedsWork(
        { action, onPullRequest: issue['pull_request'] !== undefined && issue['pull_request'] !== null, state: text(issue['state']), commenter: text(obj(comment['user'])['login']), body: text(comment['body']) },
        ctx,
      );
    }
    case 'pull_request_review': {
      const review = obj(p['review']);
      const body = text(review['body']);
      if (action !== 'submitted' || body === '' || text(obj(p['pull_request'])['state']) !== 'open') return false;
      if (isSelfLogin(ctx.botLogin, text(obj(review['user'])['login']))) return false;
      return ctx.inRepoConfig || commandsIn(ctx.presubmits, body).length > 0;
    }
    case 'pull_request': {
      if (!jobs) return false;
      if (action === 'edited') {
        const base = obj(obj(p['changes'])['base']);
        return Boolean(base['ref'] || base['sha']);
      }
      if (action === 'labeled') {
        // Only the labels katabot gates on; the bot's own label changes come back as events too.
        if (isSelfLogin(ctx.botLogin, text(obj(p['sender'])['login']))) return false;
        const label = text(obj(p['label'])['name']);
        return sameLabel(label, LABEL.okToTest) || sameLabel(label, LABEL.lgtm) || isTdxLabel(ctx.policy, label);
      }
      return true;
    }
    case 'check_run': {
      const run = obj(p['check_run']);
      if (!text(run['external_id']) || !isOurApp(ctx.botLogin, run['app'])) return false;
      if (action === 'rerequested') return true;
      return action === 'requested_action' && CHECK_ACTION_IDS.has(text(obj(p['requested_action'])['identifier']));
    }
    case 'check_suite':
      return action === 'rerequested' && isOurApp(ctx.botLogin, obj(p['check_suite'])['app']);
    default:
      return true;
  }
}

/**
 * A cheaper, conservative first look at a comment delivery's raw JSON: true only when no comment in it can carry
 * a command, so deliveryNeedsWork would say no too. Parsing the payload costs more than verifying its signature;
 * most comments are chatter, and this answers for them without parsing.
 *
 * It holds because every katabot command matches `^/` in multi-line mode over commandText, whose lines start
 * where the body's lines start (after `\n` or `\r`) or right after an HTML comment's `-->`. In JSON text such a
 * `/` follows `"`, an escaped `\n`/`\r`, `>`, or is itself escaped (`\/`, `\u002f`); any `\u` escape could
 * hide a line break, so it counts too. Anything it cannot rule out goes to the full filter. Only when no repository
 * has a custom trigger (any text may match one) or in-repo config (whose jobs may have them).
 */
export function commandlessComment(event: string, raw: string, config: ConfigView): boolean {
  if (event !== 'issue_comment' && event !== 'pull_request_review') return false;
  if (!onlySlashCommands(config)) return false;
  return !COMMAND_START.test(raw);
}

const COMMAND_START = /(?:"|\\[nr]|>|\\)\/|\\u/;

const slashOnly = new WeakMap<ConfigView, boolean>();

/** No presubmit anywhere has a custom trigger and no repository takes in-repo config. Once per config snapshot. */
function onlySlashCommands(config: ConfigView): boolean {
  let known = slashOnly.get(config);
  if (known === undefined) {
    const inRepo = Object.values(config.prow.in_repo_config?.enabled ?? {}).some((on) => on === true);
    const triggers = Object.values(config.jobs.presubmits).some((jobs) => jobs.some((p) => p.trigger !== undefined));
    slashOnly.set(config, (known = !inRepo && !triggers));
  }
  return known;
}
