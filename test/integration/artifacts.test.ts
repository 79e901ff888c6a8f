// The artifact adapter against a real S3-compatible server (s3rver, through the AWS SDK) and a real directory laid
// out like Prow's bucket. Both hold the same traced job; the trace read back must parse and equal what was written.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import {
  ArtifactNotFoundError, jobBuildPath, openArtifactStore, parseStorageUrl, readJobTrace, storageUrlFromBucket, traceArtifactPath,
  type ArtifactStore, type JobRef,
} from '../../src/artifacts/index.ts';
import { S3ArtifactStore, s3ClientConfig } from '../../src/artifacts/s3.ts';
import { countKinds, serializeTrace, TRACE_FORMAT_VERSION, type Trace, type TraceEvent } from '../../src/trace/format.ts';

const job: JobRef = { type: 'presubmit', org: 'kata-containers', repo: 'kata-containers', pull: 10234, job: 'kata-containers-ci-on-push', buildId: '1846289112031756288' };
const TRACE_KEY = 'pr-logs/pull/kata-containers_kata-containers/10234/kata-containers-ci-on-push/1846289112031756288/artifacts/katabot/trace.jsonl';

const events: TraceEvent[] = [
  { type: 'event', ts: 0, kind: 'exec', pid: 10, ppid: 1, comm: 'make', exe: '/usr/bin/make', argv: ['make', 'test'], uid: 0, result: 0, container: 'test', pod: 'job-pod', namespace: 'test-pods' },
  { type: 'event', ts: 5_000, kind: 'connect', pid: 11, ppid: 10, comm: 'curl', proto: 'tcp', daddr: '10.96.0.1', dport: 443, result: 0 },
];
const trace: Trace = {
  header: {
    type: 'header', format: 'katabot-trace', version: TRACE_FORMAT_VERSION, katabot: '0.1.0', source: 'bpftrace', bpftrace: 'v0.17.0',
    kernel: '6.1.0', host: 'node-1', start: '2025-01-01T00:00:00.000Z', target: { mode: 'pod', pods: [{ namespace: 'test-pods', name: 'job-pod' }], runtime: 'kata' },
  },
  events,
  footer: { type: 'footer', counts: countKinds(events), lost: { reported: 0, gap: 0, incomplete: 0, total: 0 }, malformed: 0, truncated: 0, duration_ms: 1, end: '2025-01-01T00:00:00.001Z', exit_code: null },
};
const text = serializeTrace(trace);

describe('Prow artifact paths', () => {
  const cases: Array<[string, JobRef, Parameters<typeof jobBuildPath>[1], string]> = [
    ['presubmit, explicit', job, {}, 'pr-logs/pull/kata-containers_kata-containers/10234/kata-containers-ci-on-push/1846289112031756288'],
    ['presubmit, legacy with default org', job, { pathStrategy: 'legacy', defaultOrg: 'kata-containers', defaultRepo: 'tests' }, 'pr-logs/pull/kata-containers/10234/kata-containers-ci-on-push/1846289112031756288'],
    ['presubmit, legacy default repo', job, { pathStrategy: 'legacy', defaultOrg: 'kata-containers', defaultRepo: 'kata-containers' }, 'pr-logs/pull/10234/kata-containers-ci-on-push/1846289112031756288'],
    ['presubmit, single other repo', job, { pathStrategy: 'single', defaultOrg: 'x', defaultRepo: 'y' }, 'pr-logs/pull/kata-containers_kata-containers/10234/kata-containers-ci-on-push/1846289112031756288'],
    ['periodic with path prefix', { type: 'periodic', job: 'kata-nightly', buildId: '77' }, { pathPrefix: '/ci/' }, 'ci/logs/kata-nightly/77'],
    ['batch', { type: 'batch', job: 'b', buildId: '1' }, {}, 'pr-logs/pull/batch/b/1'],
  ];
  for (const [name, ref, o, want] of cases) it(name, () => assert.equal(jobBuildPath(ref, o), want));

  it('puts the trace under artifacts/katabot/', () => assert.equal(traceArtifactPath(job), TRACE_KEY));
  it('parses storage URLs', () => {
    assert.deepEqual(parseStorageUrl('s3://kata-ci/prow/logs/'), { scheme: 's3', bucket: 'kata-ci', prefix: 'prow/logs' });
    assert.deepEqual(parseStorageUrl('gs://kubernetes-jenkins'), { scheme: 'gs', bucket: 'kubernetes-jenkins', prefix: '' });
    assert.deepEqual(parseStorageUrl('file:///srv/prow'), { scheme: 'file', bucket: '/srv/prow', prefix: '' });
    assert.equal(storageUrlFromBucket('kubernetes-jenkins'), 'gs://kubernetes-jenkins');
    assert.throws(() => parseStorageUrl('http://x'), /gs:\/\/, s3:\/\/ or file:\/\//);
  });
  it('reads Prow\'s s3-credentials file format', () => {
    const dir = mkdtempSync(join(tmpdir(), 'katabot-s3cred-'));
    const file = join(dir, 'service-account.json');
    writeFileSync(file, JSON.stringify({ region: 'eu-west-1', access_key: 'AK', secret_key: 'SK', endpoint: 'minio.prow:9000', insecure: true }));
    const c = s3ClientConfig({ credentialsFile: file });
    rmSync(dir, { recursive: true });
    assert.equal(c.region, 'eu-west-1');
    assert.equal(c.endpoint, 'http://minio.prow:9000');
    assert.equal(c.forcePathStyle, true);
    assert.deepEqual(c.credentials, { accessKeyId: 'AK', secretAccessKey: 'SK' });
  });
});

/** Behaviour every store must share, run against each real backend. */
function storeContract(name: string, open: () => ArtifactStore): void {
  describe(`${name} store`, () => {
    it('reads the trace a traced job uploaded and parses it back to what was written', async () => {
      const store = open();
      assert.equal(await store.exists(TRACE_KEY), true);
      assert.equal((await store.read(TRACE_KEY)).toString('utf8'), text);
      assert.deepEqual(await readJobTrace(store, job), JSON.parse(JSON.stringify(trace)));
    });
    it('lists the job\'s files by key prefix, like a bucket', async () => {
      const store = open();
      const build = jobBuildPath(job);
      assert.deepEqual(await store.list(`${build}/`), [`${build}/artifacts/katabot/trace.jsonl`, `${build}/build-log.txt`, `${build}/finished.json`]);
      assert.deepEqual(await store.list(`${build}/artifacts`), [`${build}/artifacts/katabot/trace.jsonl`]);
      assert.deepEqual(await store.list('pr-logs/pull/kata-containers_kata-containers/1023'), [
        `${build}/artifacts/katabot/trace.jsonl`, `${build}/build-log.txt`, `${build}/finished.json`,
      ]);
    });
    it('says clearly when a job has no trace', async () => {
      const store = open();
      const other: JobRef = { ...job, buildId: '1' };
      assert.equal(await store.exists(traceArtifactPath(other)), false);
      await assert.rejects(readJobTrace(store, other), (e: unknown) => e instanceof ArtifactNotFoundError && e.message.includes('/1/artifacts/katabot/trace.jsonl'));
    });
    it('streams an object in chunks that add up to what read() returns, and says when it is missing', async () => {
      const store = open();
      const chunks: Buffer[] = [];
      for await (const c of await store.stream(TRACE_KEY)) chunks.push(Buffer.from(c));
      assert.equal(Buffer.concat(chunks).toString('utf8'), text);
      await assert.rejects(store.stream(traceArtifactPath({ ...job, buildId: '1' })), ArtifactNotFoundError);
    });
    it('refuses keys that climb out of the store', async () => {
      await assert.rejects(open().read('../etc/passwd'), /must not contain \.\./);
    });
  });
}

const FILES: Record<string, string> = {
  [TRACE_KEY]: text,
  [`${jobBuildPath(job)}/build-log.txt`]: 'ok\n',
  [`${jobBuildPath(job)}/finished.json`]: '{"passed":true,"result":"SUCCESS"}',
};

describe('file:// layout identical to Prow\'s bucket', () => {
  const root = mkdtempSync(join(tmpdir(), 'katabot-artifacts-'));
  before(() => {
    for (const [key, body] of Object.entries(FILES)) {
      mkdirSync(dirname(join(root, key)), { recursive: true });
      writeFileSync(join(root, key), body);
    }
  });
  after(() => rmSync(root, { recursive: true, force: true }));
  storeContract('file', () => openArtifactStore(`file://${root}`));
});

describe('s3:// against a real S3-compatible server (s3rver)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'katabot-s3rver-'));
  let server: S3rver;
  let endpoint = '';
  const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
  const stores: S3ArtifactStore[] = [];

  before(async () => {
    server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir });
    const addr = await server.run();
    endpoint = `http://127.0.0.1:${addr.port}`;
    // upload the way Prow's sidecar (gcsupload with an S3 bucket) would, through the SDK
    const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials });
    await client.send(new CreateBucketCommand({ Bucket: 'kata-ci' }));
    for (const [key, body] of Object.entries(FILES)) {
      await client.send(new PutObjectCommand({ Bucket: 'kata-ci', Key: `prow/${key}`, Body: body }));
    }
    client.destroy();
  });
  after(async () => {
    for (const s of stores) s.destroy();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  storeContract('s3', () => {
    const store = openArtifactStore('s3://kata-ci/prow', { s3: { endpoint, credentials } }) as S3ArtifactStore;
    stores.push(store);
    return store;
  });

  it('reports wrong credentials as an error, not as a missing trace', async () => {
    const store = new S3ArtifactStore('kata-ci', 'prow', { endpoint, credentials: { accessKeyId: 'nope', secretAccessKey: 'nope' } });
    stores.push(store);
    await assert.rejects(store.read(TRACE_KEY), (e: unknown) => !(e instanceof ArtifactNotFoundError));
  });
});
