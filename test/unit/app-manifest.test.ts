// app.yml asks GitHub for exactly the events katabot's handlers register, no more and no fewer.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { REGISTRATIONS } from '../../src/handlers/index.ts';

const manifest = parse(readFileSync(new URL('../../app.yml', import.meta.url), 'utf8')) as {
  default_events: string[];
  default_permissions: Record<string, string>;
};

describe('app.yml', () => {
  it('default_events are exactly the events with registered handlers', () => {
    const registered = [...new Set(Object.values(REGISTRATIONS).flat().map((e) => e.split('.')[0]!))].sort();
    assert.deepEqual([...manifest.default_events].sort(), registered);
  });

  it('asks for no admin or write access to code', () => {
    assert.notEqual(manifest.default_permissions.contents, 'write');
    assert.equal(manifest.default_permissions.administration, undefined);
  });
});
