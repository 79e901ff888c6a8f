// The dashboard's environment variables.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runtimeOptions } from '../../../src/config/env.ts';

describe('dashboard environment', () => {
  it('on by default, files and URL unset', () => {
    const o = runtimeOptions({});
    assert.equal(o.dashboard, true);
    assert.equal(o.requiredTests, undefined);
    assert.equal(o.maintainers, undefined);
    assert.equal(o.dashboardAssets, undefined);
    assert.equal(o.publicUrl, undefined);
  });
  it('reads the variables', () => {
    const o = runtimeOptions({
      KATABOT_DASHBOARD: 'false',
      KATABOT_REQUIRED_TESTS: '/etc/katabot/required-tests.yaml',
      KATABOT_MAINTAINERS: ' /etc/katabot/maintainers.yml ',
      KATABOT_DASHBOARD_ASSETS: '/app/dist/web',
      KATABOT_PUBLIC_URL: 'https://katabot.example.org/',
    });
    assert.deepEqual([o.dashboard, o.requiredTests, o.maintainers, o.dashboardAssets, o.publicUrl], [
      false, '/etc/katabot/required-tests.yaml', '/etc/katabot/maintainers.yml', '/app/dist/web', 'https://katabot.example.org',
    ]);
  });
  it('a bad KATABOT_DASHBOARD is an error', () => assert.throws(() => runtimeOptions({ KATABOT_DASHBOARD: 'maybe' }), /KATABOT_DASHBOARD: must be true or false/));
});
