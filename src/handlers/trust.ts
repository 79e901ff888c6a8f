// Resolves Prow's trust order against GitHub, fetching only the facts the policy asks for, in its order.
import type { GitHub } from '../adapters/github.ts';
import type { KatabotConfig } from '../config/types.ts';
import { userTrustStep, type TrustFacts } from '../policy/trust.ts';

export async function isTrusted(gh: GitHub, policy: KatabotConfig, botLogin: string, login: string): Promise<boolean> {
  const facts: TrustFacts = {};
  for (let i = 0; i < 4; i++) {
    const step = userTrustStep(policy, botLogin, login, facts);
    if ('trusted' in step) return step.trusted;
    if (step.need === 'member') facts.member = await anyMember(gh, policy.orgs.length ? policy.orgs : [gh.owner], login);
    else facts.collaborator = await gh.isCollaborator(login);
  }
  throw new Error(`trust policy did not decide for ${login}`);
}

async function anyMember(gh: GitHub, orgs: readonly string[], login: string): Promise<boolean> {
  for (const org of orgs) if (await gh.isOrgMember(org, login)) return true;
  return false;
}
