// The job side of API usage: deploy/prow/audit/katabot-kind-audit.sh --collect, run for real with bash, gzip and
// kubectl against an HTTP server that serves the real Kubernetes spec (../shared) at /openapi/v2, leaves the
// apiserver's audit logs (current and rotated) and the spec in $ARTIFACTS/katabot/ under the names katabot reads
// (AUDIT_ARTIFACT, SPEC_ARTIFACT); `katabot apis` then reads that directory as it is. Skipped without kubectl.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { specArtifact } from '../../src/behavior/openapi-load.ts';
import { AUDIT_ARTIFACT } from '../../src/behavior/traced-run.ts';
import { REAL_USER_AGENTS } from '../fixtures/k8s/user-agents.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const SCRIPT = join(ROOT, 'deploy/prow/audit/katabot-kind-audit.sh');
const SPEC = join(ROOT, '../shared/kubernetes/openapi-v2-swagger.json.gz');
const hasKubectl = await promisify(execFile)('kubectl', ['version', '--client']).then(() => true, () => false);
const skip = !hasKubectl ? 'kubectl is not installed (the script reads /openapi/v2 with it)' : !existsSync(SPEC) ? `no Kubernetes OpenAPI spec at ${SPEC}` : false;

function run(cmd: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: { PATH: process.env.PATH ?? '', HOME: env.HOME ?? tmpdir(), ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('katabot-kind-audit.sh --collect', { skip }, () => {
  let dir: string;
  let server: Server;
  let kubeconfig: string;
  let requests: string[];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'katabot-audit-collect-'));
    const spec = gunzipSync(readFileSync(SPEC));
    requests = [];
    server = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      if (req.url === '/openapi/v2') res.writeHead(200, { 'content-type': 'application/json' }).end(spec);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, [
      'apiVersion: v1', 'kind: Config', 'current-context: kind-katabot',
      'clusters: [{name: kind-katabot, cluster: {server: "http://127.0.0.1:' + port + '"}}]',
      'users: [{name: kind-katabot, user: {}}]', 'contexts: [{name: kind-katabot, context: {cluster: kind-katabot, user: kind-katabot}}]',
    ].join('\n') + '\n');
  });
  after(async () => {
    await new Promise<void>((r) => server?.close(() => r()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const event = (id: string, verb: string, uri: string, ua: string) => JSON.stringify({
    kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', auditID: id, stage: 'ResponseComplete', verb, requestURI: uri, userAgent: ua,
  });

  it('leaves the logs and the spec in $ARTIFACTS/katabot under the names katabot reads', async () => {
    const logs = join(dir, 'apiserver-logs');
    mkdirSync(logs, { recursive: true });
    const conformance = REAL_USER_AGENTS.find((u) => u.want.conformance)!.ua;
    // kube-apiserver's rotation names the old file <name>-<time>.log
    writeFileSync(join(logs, 'kube-apiserver-audit-2026-01-01T00-00-00.000.log'), event('r1', 'create', '/api/v1/namespaces/e2e/events', conformance) + '\n');
    writeFileSync(join(logs, 'kube-apiserver-audit.log'), [event('c1', 'list', '/api/v1/namespaces/e2e/events', conformance), event('c2', 'get', '/version', 'kubectl/v1.27.0')].join('\n') + '\n');
    writeFileSync(join(logs, 'kube-apiserver.log'), 'not an audit log\n');
    const artifacts = join(dir, 'artifacts');
    const r = await run('bash', [SCRIPT, '--collect'], { ARTIFACTS: artifacts, KUBECONFIG: kubeconfig, KATABOT_AUDIT_DIR: logs, HOME: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /2 audit log file\(s\) and the cluster's spec in .*\/katabot/);
    assert.ok(requests.includes('GET /openapi/v2'), requests.join(', '));
    const files = readdirSync(join(artifacts, 'katabot')).sort();
    assert.deepEqual(files, ['kube-apiserver-audit-2026-01-01T00-00-00.000.log.gz', 'kube-apiserver-audit.log.gz', 'openapi-v2.json.gz']);
    // the reader's patterns, as the bot applies them to keys under a job's artifacts/
    const keys = files.map((f) => `katabot/${f}`);
    assert.deepEqual(keys.filter((k) => AUDIT_ARTIFACT.test(k)), keys.slice(0, 2));
    assert.equal(specArtifact(keys), 'katabot/openapi-v2.json.gz');
    assert.deepEqual(JSON.parse(gunzipSync(readFileSync(join(artifacts, 'katabot', 'openapi-v2.json.gz'))).toString()).info, { title: 'Kubernetes', version: 'unversioned' });

    const apis = await run(process.execPath, [join(ROOT, 'bin/katabot.js'), 'apis', join(artifacts, 'katabot')], { HOME: dir });
    assert.equal(apis.code, 0, apis.stderr);
    const u = JSON.parse(apis.stdout) as { requests: number; endpoints: Array<{ endpoint: string; conformanceTested: boolean }> };
    assert.equal(u.requests, 3, 'both files are read');
    assert.deepEqual(u.endpoints.filter((e) => e.conformanceTested).map((e) => e.endpoint).sort(), ['createCoreV1NamespacedEvent', 'listCoreV1NamespacedEvent']);
  });

  it('says so and fails when there is no audit log', async () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty, { recursive: true });
    const r = await run('bash', [SCRIPT, '--collect'], { ARTIFACTS: join(dir, 'artifacts2'), KUBECONFIG: kubeconfig, KATABOT_AUDIT_DIR: empty, HOME: dir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /katabot-kind-audit: no audit log in /);
  });

  it('needs ARTIFACTS (a decorated job)', async () => {
    const r = await run('bash', [SCRIPT, '--collect'], { HOME: dir });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /ARTIFACTS is not set: the job must be decorated/);
  });
});
