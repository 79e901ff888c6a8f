// `/help` on its own line. Pure: no I/O.
import type { CommandSpec, ParsedCommand } from './types.ts';
import { goCommandRegExp, matches } from './targets.ts';

export const HELP_RE = goCommandRegExp(String.raw`(?m)^/help\s*$`);

export function parseHelp(text: string): ParsedCommand[] {
  return matches(HELP_RE, text) ? [{ name: 'help' }] : [];
}

export const helpCommand: CommandSpec = {
  name: 'help',
  usage: '/help',
  description: 'Lists the commands katabot understands and who can use them.',
  examples: ['/help'],
  whoCanUse: 'Anyone.',
  featured: false,
  parse: parseHelp,
};
