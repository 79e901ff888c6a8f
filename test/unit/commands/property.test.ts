import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { commandText } from '../../../src/commands/markdown.ts';
import { parseCommands } from '../../../src/commands/registry.ts';

// Pieces of comments: commands, fences, quotes, comments, look-alikes and control characters.
const piece = fc.oneof(
  fc.constantFrom(
    '/test all', '/test a, b', '/test ?', '/test', '/retest', '/retest x', '/retest-required', '/ok-to-test',
    '/ok-to-test cancel', '/ok-to-test-tdx', '/trace', '/trace a', '/help', '```', '````', '~~~', '   ```', '> ',
    '<!--', '-->', '`', '\r\n', '\r', '\n', '\u2028', '\uFF0F', '\u0000', '\t', ' ', ',', 'cancel', 'all',
  ),
  fc.string({ maxLength: 12 }),
);
const body = fc.array(piece, { maxLength: 40 }).map((parts) => parts.join(''));

const SECRET = 'SECRET-INSIDE-FENCE';

describe('properties', () => {
  it('parseCommands never throws and returns known command kinds once each', () => {
    const names = new Set(['test', 'test-all', 'test-help', 'retest', 'retest-required', 'retest-with-target', 'ok-to-test', 'ok-to-test-cancel', 'ok-to-test-tdx', 'trace', 'help']);
    fc.assert(
      fc.property(body, (b) => {
        const cmds = parseCommands(b);
        const seen = new Set<string>();
        for (const c of cmds) {
          assert.ok(names.has(c.name));
          assert.ok(!seen.has(c.name));
          seen.add(c.name);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('commandText never returns text from inside a fenced code block', () => {
    const fenceChar = fc.constantFrom('`', '~');
    fc.assert(
      fc.property(body, fenceChar, fc.integer({ min: 3, max: 6 }), fc.integer({ min: 0, max: 3 }), body, fc.boolean(), (before, ch, len, indent, after, close) => {
        // Text before the fence must not leave an open fence or comment behind, or the fence is not one.
        const probe = commandText(`${before}\nPROBE`);
        const prefix = probe === 'PROBE' || probe.endsWith('\nPROBE') ? before.replaceAll(SECRET, '') : '';
        const fence = ' '.repeat(indent) + ch.repeat(len);
        const inner = `${SECRET}\n/test all\n${ch.repeat(len - 1)}\n${SECRET}`;
        const text = `${prefix}\n${fence}\n${inner}\n${close ? ch.repeat(len) + '\n' : ''}${after.replaceAll(SECRET, '')}`;
        assert.ok(!commandText(text).includes(SECRET), JSON.stringify(text));
      }),
      { numRuns: 2000 },
    );
  });

  it('commandText never returns a quoted line or a line inside an HTML comment', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), fc.integer({ min: 0, max: 3 }), (s, indent) => {
        const clean = s.replace(/[\r\n\u2028\u2029]/g, ' ');
        assert.ok(!commandText(`${' '.repeat(indent)}> ${clean} ${SECRET}`).includes(SECRET));
        assert.ok(!commandText(`<!-- ${clean.replaceAll('-->', '')}\n${SECRET}\n-->`).includes(SECRET));
      }),
      { numRuns: 1000 },
    );
  });

  it('commandText output never has a CR or U+2028/U+2029', () => {
    fc.assert(
      fc.property(body, (b) => {
        assert.ok(!/[\r\u2028\u2029]/.test(commandText(b)));
      }),
      { numRuns: 1000 },
    );
  });
});
