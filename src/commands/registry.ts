// All slash commands, and the entry point that parses a comment. Pure: no I/O.
import { commandText } from './markdown.ts';
import { helpCommand } from './help.ts';
import { okToTestCommand } from './ok-to-test.ts';
import { okToTestTdxCommand } from './ok-to-test-tdx.ts';
import { retestRequiredCommand } from './retest-required.ts';
import { retestCommand } from './retest.ts';
import { testCommand } from './test.ts';
import { testManualRequiredCommand } from './test-manual-required.ts';
import { traceCommand } from './trace.ts';
import { MAX_PROBES, MAX_TARGETS, type CommandSpec, type ParsedCommand, type ParsedCommandName } from './types.ts';

export type { CommandSpec, ParsedCommand } from './types.ts';
export { commandText } from './markdown.ts';

export const COMMANDS: readonly CommandSpec[] = Object.freeze([
  testCommand,
  retestCommand,
  retestRequiredCommand,
  testManualRequiredCommand,
  okToTestCommand,
  okToTestTdxCommand,
  traceCommand,
  helpCommand,
]);

function unionTargets(a: readonly string[], b: readonly string[]): string[] {
  const seen = new Set(a);
  for (const t of b) {
    if (seen.size >= MAX_TARGETS) break;
    seen.add(t);
  }
  return [...seen];
}

function unionProbes(a: readonly string[] | undefined, b: readonly string[] | undefined): string[] {
  const out = [...(a ?? [])];
  for (const p of b ?? []) if (!out.includes(p) && out.length < MAX_PROBES) out.push(p);
  return out;
}

/**
 * Every command in a comment body, each kind once, in registry order. `test` and `trace` carry the union
 * of their targets; `test-help` prefers 'question' over 'empty'; `retest-with-target` keeps the first
 * target. `/ok-to-test` together with `/ok-to-test cancel` is a cancel (Prow's net effect).
 */
export function parseCommands(body: string): ParsedCommand[] {
  const text = commandText(body);
  const byName = new Map<ParsedCommandName, ParsedCommand>();
  for (const spec of COMMANDS) {
    for (const cmd of spec.parse(text)) {
      const prev = byName.get(cmd.name);
      if (prev === undefined) {
        byName.set(cmd.name, cmd);
      } else if (prev.name === 'trace' && cmd.name === 'trace') {
        const probes = unionProbes(prev.probes, cmd.probes);
        byName.set(cmd.name, { name: 'trace', targets: unionTargets(prev.targets, cmd.targets), ...(probes.length > 0 ? { probes } : {}) });
      } else if (prev.name === 'test' && cmd.name === 'test') {
        byName.set(cmd.name, { name: prev.name, targets: unionTargets(prev.targets, cmd.targets) } as ParsedCommand);
      } else if (prev.name === 'test-help' && cmd.name === 'test-help' && cmd.reason === 'question') {
        byName.set(cmd.name, cmd);
      }
    }
  }
  if (byName.has('ok-to-test-cancel')) byName.delete('ok-to-test');
  return [...byName.values()];
}
