import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { COMMANDS, commandText, parseCommands } from '../../../src/commands/registry.ts';
import { compileGoRegExp } from '../../../src/config/go-regexp.ts';

describe('COMMANDS', () => {
  it('has one spec per command file, uniquely named', () => {
    assert.deepEqual(
      COMMANDS.map((c) => c.name),
      ['test', 'retest', 'retest-required', 'test-manual-required', 'ok-to-test', 'ok-to-test-tdx', 'trace', 'help'],
    );
  });

  for (const spec of COMMANDS) {
    it(`${spec.name}: help fields are filled and every example parses`, () => {
      assert.ok(spec.usage.startsWith('/'));
      assert.ok(spec.description.length > 10);
      assert.ok(spec.whoCanUse.length > 3);
      assert.ok(spec.examples.length > 0);
      assert.equal(typeof spec.featured, 'boolean');
      for (const ex of spec.examples) assert.notDeepEqual(spec.parse(commandText(ex)), [], ex);
    });
  }
});

describe('registry with custom triggers', () => {
  it('a job trigger matches command text, not code', () => {
    const trigger = compileGoRegExp('(?m)^/test (?:.*? )?jib(?: .*?)?$');
    assert.equal(trigger.test(commandText('```\n/test jib\n```')), false);
    assert.equal(trigger.test(commandText('> /test jib')), false);
    assert.equal(trigger.test(commandText('/test jib')), true);
    assert.deepEqual(parseCommands('/test jib'), [{ name: 'test', targets: ['jib'] }]);
  });
});
