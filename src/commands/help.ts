// `/help` on its own line. Pure: no I/O.
import type { CommandSpec, ParsedCommand } from './types.ts';
import { compileGoRegExp } from '../config/go-regexp.ts';

const HELP_RE = compileGoRegExp(String.raw`(?m)^/help\s*$`);

function parseHelp(text: string): ParsedCommand[] {
  return HELP_RE.test(text) ? [{ name: 'help' }] : [];
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
