// Policies shared by the policy tests.
import { DEFAULT_KATABOT_CONFIG, type KatabotConfig } from '../../../src/config/types.ts';

export function policy(over: Partial<KatabotConfig> = {}, tdx: Partial<KatabotConfig['tdx']> = {}): KatabotConfig {
  return {
    ...DEFAULT_KATABOT_CONFIG,
    orgs: ['kata-containers'],
    trusted_apps: ['dependabot'],
    ...over,
    tdx: { ...DEFAULT_KATABOT_CONFIG.tdx, approvers: ['alice', 'Bob'], ...tdx },
  };
}
