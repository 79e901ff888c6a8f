// A large audit log streams in bounded memory: katabot's reading (every event into the API usage and a behavior
// profile, each request once) of a generated log of 32 MB and of 128 MB (test/fixtures/audit-log.ts), each in a child
// process with a 96 MB heap limit (a reader that held the log, or a set of every auditID, would run out), keeps the
// same memory alive after the read (a set of every auditID, as katabot kept before, adds 13 MB here) and peaks alike.
// The 2 GB run is `npm run bench:apis`. Needs the Kubernetes spec in ../shared.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';

const SPEC = new URL('../../../shared/kubernetes/openapi-v2-swagger.json.gz', import.meta.url).pathname;
const CHILD = new URL('../fixtures/audit-read-child.ts', import.meta.url).pathname;
const skip = existsSync(SPEC) ? false : `no Kubernetes OpenAPI spec at ${SPEC}`;

interface Read { events: number; requests: number; skipped: number; heapUsedMb: number; maxRssMb: number; open: number }

function read(bytes: number): Promise<Read> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--max-old-space-size=96', CHILD, '--mode', 'katabot', '--generate', String(bytes), '--spec', SPEC]);
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as Read) : reject(new Error(`exit ${code}: ${err.slice(-500)}`))));
  });
}

describe('audit logs in bounded memory', { skip }, () => {
  it('4× the log keeps the same memory alive, under a 96 MB heap limit', async () => {
    const small = await read(32e6);
    const large = await read(128e6);
    console.log(`# 32 MB: ${small.events} events, heap after ${small.heapUsedMb} MB, peak RSS ${small.maxRssMb} MB; `
      + `128 MB: ${large.events} events, heap after ${large.heapUsedMb} MB, peak RSS ${large.maxRssMb} MB`);
    assert.ok(large.events > 3.5 * small.events, 'the large log was read whole');
    assert.ok(large.skipped > small.skipped && large.skipped > 0, 'malformed lines were skipped and counted, not fatal');
    assert.ok(large.heapUsedMb - small.heapUsedMb <= 4, `retained heap grew from ${small.heapUsedMb} to ${large.heapUsedMb} MB`);
    // Peak RSS is mostly the spec's parse and the garbage collector's timing (160–260 MB seen for either log on a
    // loaded machine); a reader keeping the log outside the heap (buffers) would add the 96 MB the large log has more.
    assert.ok(large.maxRssMb - small.maxRssMb < 96, `peak RSS ${small.maxRssMb} MB for 32 MB of log, ${large.maxRssMb} MB for 128 MB`);
  });
});
