import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { sign, verifySignature } from '../../../src/server/signature.ts';

const body = Buffer.from('{"action":"created"}');
const good = 'sha256=' + createHmac('sha256', 's3cret').update(body).digest('hex');

describe('verifySignature', () => {
  const cases: Array<{ name: string; secrets: string[]; header: string | undefined; want: boolean }> = [
    { name: 'valid signature', secrets: ['s3cret'], header: good, want: true },
    { name: 'valid with rotation list (new first)', secrets: ['next', 's3cret'], header: good, want: true },
    { name: 'valid with rotation list (old first)', secrets: ['s3cret', 'next'], header: good, want: true },
    { name: 'wrong secret', secrets: ['other'], header: good, want: false },
    { name: 'missing header', secrets: ['s3cret'], header: undefined, want: false },
    { name: 'empty header', secrets: ['s3cret'], header: '', want: false },
    { name: 'sha1 header is not accepted', secrets: ['s3cret'], header: 'sha1=' + createHmac('sha1', 's3cret').update(body).digest('hex'), want: false },
    { name: 'uppercase prefix', secrets: ['s3cret'], header: good.replace('sha256=', 'SHA256='), want: false },
    { name: 'truncated digest', secrets: ['s3cret'], header: good.slice(0, -2), want: false },
    { name: 'non-hex digest of right length', secrets: ['s3cret'], header: 'sha256=' + 'z'.repeat(64), want: false },
    { name: 'one flipped nibble', secrets: ['s3cret'], header: good.slice(0, -1) + (good.endsWith('0') ? '1' : '0'), want: false },
    { name: 'no secrets configured', secrets: [], header: good, want: false },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(verifySignature(c.secrets, body, c.header), c.want));
  }

  it('signs what it verifies, over the exact bytes', () => {
    assert.equal(sign('s3cret', body), good);
    assert.equal(verifySignature(['s3cret'], Buffer.from('{"action": "created"}'), good), false);
  });
});
