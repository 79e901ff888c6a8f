import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runtimeOptions } from '../../../src/config/env.ts';

describe('runtimeOptions', () => {
  it('applies the documented defaults', () => {
    const o = runtimeOptions({});
    assert.equal(o.port, 3000);
    assert.equal(o.host, '0.0.0.0');
    assert.equal(o.githubApiUrl, 'https://api.github.com');
    assert.equal(o.prowjobNamespace, undefined, 'unset: config.yaml decides');
    assert.equal(o.generatedSecret, true);
    assert.equal(o.webhookSecrets.length, 1);
    assert.match(o.webhookSecrets[0]!, /^development-[0-9a-f]{24}$/);
    assert.equal(o.redisUrl, undefined);
    assert.equal(o.kubeconfig, undefined);
  });

  it('splits a rotation list and trims it', () => {
    const o = runtimeOptions({ WEBHOOK_SECRET: ' old , new ,' });
    assert.deepEqual(o.webhookSecrets, ['old', 'new']);
    assert.equal(o.generatedSecret, false);
  });

  it('builds the GitHub Enterprise API base', () => {
    assert.equal(runtimeOptions({ GHE_HOST: 'ghe.example.org' }).githubApiUrl, 'https://ghe.example.org/api/v3');
    assert.equal(runtimeOptions({ GHE_HOST: 'ghe.local', GHE_PROTOCOL: 'http' }).githubApiUrl, 'http://ghe.local/api/v3');
  });

  it('uses the pod ServiceAccount only in a cluster and only without KUBECONFIG', () => {
    assert.equal(runtimeOptions({}).inCluster, false);
    assert.equal(runtimeOptions({ KUBERNETES_SERVICE_HOST: '10.0.0.1' }).inCluster, true);
    assert.equal(runtimeOptions({ KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBECONFIG: '/k' }).inCluster, false);
  });

  it('names the variable when a number is malformed', () => {
    assert.throws(() => runtimeOptions({ PORT: 'eighty' }), /PORT: must be a non-negative integer/);
  });
});
