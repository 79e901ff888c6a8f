// Prow's trust decision (pkg/plugins/trigger: TrustedUser, TrustedPullRequest) as pure steps over facts
// that the shell fetches lazily, in order. Pure: no I/O.
import type { KatabotConfig } from '../config/types.ts';
import { LABEL, hasLabel } from './labels.ts';

/** member = member of any of policy.orgs. Undefined = not fetched yet. */
export type TrustFacts = { member?: boolean; collaborator?: boolean };

export type TrustStep =
  | { trusted: true; via: 'self' | 'member' | 'collaborator' | 'app' }
  | { trusted: false; reason: string }
  | { need: 'member' | 'collaborator' };

const BOT_SUFFIX = '[bot]';

/** GitHub App logins end with "[bot]"; user logins cannot contain brackets. */
export function isBotLogin(login: string): boolean {
  return login.toLowerCase().endsWith(BOT_SUFFIX);
}

function withoutBotSuffix(login: string): string {
  return isBotLogin(login) ? login.slice(0, -BOT_SUFFIX.length) : login;
}

/** Case-insensitive login comparison ignoring a "[bot]" suffix, like Prow's BotUserChecker with App auth. */
export function sameLogin(a: string, b: string): boolean {
  return withoutBotSuffix(a).toLowerCase() === withoutBotSuffix(b).toLowerCase();
}

/**
 * Whether `login` is the bot itself. Stricter than `sameLogin`: when the bot is an App ("katabot[bot]"),
 * a plain user login ("katabot", a different account) is not the bot. Use this for trust; `sameLogin`
 * is fine for skipping the bot's own comments.
 */
export function isSelfLogin(botLogin: string, login: string): boolean {
  if (botLogin === '' || !sameLogin(botLogin, login)) return false;
  return isBotLogin(login) || !isBotLogin(botLogin);
}

/** trusted_apps lists App logins without "[bot]"; only "[bot]" logins can match. */
export function isTrustedApp(policy: KatabotConfig, login: string): boolean {
  if (!isBotLogin(login)) return false;
  const name = withoutBotSuffix(login).toLowerCase();
  return policy.trusted_apps.some((app) => withoutBotSuffix(app).toLowerCase() === name);
}

/**
 * One step of Prow's TrustedUser: the bot itself; an org member; a repo collaborator unless
 * only_org_members; a trusted App. Returns `{need}` when a fact is missing: fetch it and call again.
 *
 * The fact-free checks (self, trusted App) run first so an App never costs API calls; the outcome is the
 * same as Prow's order because the conditions are alternatives (and Apps are never members or
 * collaborators). With no `orgs` configured, membership is not asked for.
 */
export function userTrustStep(policy: KatabotConfig, botLogin: string, login: string, facts: TrustFacts): TrustStep {
  if (isSelfLogin(botLogin, login)) return { trusted: true, via: 'self' };
  if (isTrustedApp(policy, login)) return { trusted: true, via: 'app' };
  if (policy.orgs.length > 0) {
    if (facts.member === undefined) return { need: 'member' };
    if (facts.member) return { trusted: true, via: 'member' };
  }
  if (!policy.only_org_members) {
    if (facts.collaborator === undefined) return { need: 'collaborator' };
    if (facts.collaborator) return { trusted: true, via: 'collaborator' };
  }
  // Prow's untrustedReason wording.
  const reason = policy.only_org_members
    ? 'User is not a member of the org. Satisfy at least one of these conditions to make the user trusted.'
    : 'User is not a member of the org. User is not a collaborator. Satisfy at least one of these conditions to make the user trusted.';
  return { trusted: false, reason };
}

/** Prow's TrustedPullRequest: the author is trusted, or the PR carries `ok-to-test`. */
export function pullRequestTrusted(authorTrusted: boolean, labels: readonly string[]): boolean {
  return authorTrusted || hasLabel(labels, LABEL.okToTest);
}
