// Go RE2 regular expressions (what Prow's config holds) translated to JavaScript RegExps.
//
// Prow compiles `trigger`, `run_if_changed`, `skip_if_only_changed`, `branches` and `skip_branches` with Go's
// `regexp` package. The common syntax is shared; the differences handled here are:
// - inline flags `(?i)`, `(?m)`, `(?s)` (leading: become JS flags; elsewhere: become `(?i:...)` modifier groups,
//   which Node >= 23 supports, scoped to the rest of the enclosing group as in Go);
// - `(?P<name>...)` named groups; `\A` and `\z`; `\Q...\E` literals; POSIX classes such as `[[:alpha:]]`;
// - syntax Go rejects but JS accepts (look-around, back-references, `(?U)`) is rejected, so katabot never accepts
//   a config that Prow itself would refuse to load.

export class GoRegexError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GoRegexError';
  }
}

const POSIX_CLASSES: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

function escapeLiteral(text: string): string {
  // Escaping every non-alphanumeric character is valid both inside and outside a class without the `u` flag.
  return text.replace(/[^A-Za-z0-9\s]/g, (c) => `\\${c}`);
}

/** Escapes text so it matches literally, in both Go and JS syntax. */
export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

interface Level {
  /** Modifier groups opened by bare `(?flags)` inside this group, to close (and reopen after `|`). */
  modifiers: string[];
}

/** Translates Go RE2 syntax to a JS RegExp source and flags. Throws GoRegexError on unsupported syntax. */
export function translateGoRegex(source: string): { source: string; flags: string } {
  const flags = new Set<string>();
  let i = 0;
  // Leading flag groups apply to the whole expression: turn them into JS flags.
  for (;;) {
    const m = /^\(\?([a-zA-Z]+)\)/.exec(source.slice(i));
    if (!m || !m[1]) break;
    for (const f of m[1]) {
      if (f === 'U') throw new GoRegexError('the ungreedy flag (?U) is not supported');
      if (f !== 'i' && f !== 'm' && f !== 's') throw new GoRegexError(`invalid or unsupported Perl flag (?${m[1]})`);
      flags.add(f);
    }
    i += m[0].length;
  }

  let out = '';
  const levels: Level[] = [{ modifiers: [] }];
  let inClass = false;
  let unicode = false;
  const top = (): Level => levels[levels.length - 1] as Level;

  while (i < source.length) {
    const c = source[i] as string;
    if (c === '\\') {
      const n = source[i + 1];
      if (n === undefined) throw new GoRegexError('trailing backslash at end of expression');
      if (n === 'Q') {
        const end = source.indexOf('\\E', i + 2);
        const lit = end < 0 ? source.slice(i + 2) : source.slice(i + 2, end);
        out += escapeLiteral(lit);
        i = end < 0 ? source.length : end + 2;
        continue;
      }
      if (!inClass && n === 'z') { out += '(?![\\s\\S])'; i += 2; continue; }
      if (!inClass && n === 'A') { out += '(?<![\\s\\S])'; i += 2; continue; }
      if (n === 'Z') throw new GoRegexError('invalid escape sequence \\Z (Go RE2 has \\z)');
      if (/[1-9]/.test(n) && !/[0-7]/.test(source[i + 2] ?? '')) {
        throw new GoRegexError(`back-references (\\${n}) are not supported by Go RE2`);
      }
      if (n === 'p' || n === 'P') {
        unicode = true;
        // Go's one-letter form \pL is \p{L} in JS.
        const letter = source[i + 2];
        if (letter !== undefined && letter !== '{') {
          out += `\\${n}{${letter}}`;
          i += 3;
            continue;
        }
      }
      out += c + n;
      i += 2;
      continue;
    }
    if (inClass) {
      if (c === '[' && source[i + 1] === ':') {
        const m = /^\[:(\^?)([a-z]+):\]/.exec(source.slice(i));
        if (m && m[2]) {
          const cls = POSIX_CLASSES[m[2]];
          if (cls === undefined) throw new GoRegexError(`invalid character class range [:${m[2]}:]`);
          if (m[1]) throw new GoRegexError(`negated POSIX class [:^${m[2]}:] is not supported`);
          out += cls;
          i += m[0].length;
            continue;
        }
      }
      if (c === ']') inClass = false;
      else if (c === '[') { out += '\\['; i++; continue; }
      out += c;
      i++;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      i++;
      if (source[i] === '^') { out += '^'; i++; }
      // A `]` first in a class is a literal in Go.
      if (source[i] === ']') { out += '\\]'; i++; }
      continue;
    }
    if (c === '(') {
      const rest = source.slice(i);
      if (rest.startsWith('(?P<')) { out += '(?<'; i += 4; levels.push({ modifiers: [] }); continue; }
      if (/^\(\?(?:=|!|<=|<!)/.test(rest)) throw new GoRegexError('look-around assertions are not supported by Go RE2');
      const bare = /^\(\?([a-zA-Z]*)(?:-([a-zA-Z]*))?\)/.exec(rest);
      if (bare) {
        const on = bare[1] ?? '';
        const off = bare[2] ?? '';
        if (/[^ims]/.test(on + off)) throw new GoRegexError(`invalid or unsupported Perl flag ${bare[0]}`);
        // Go: the flags hold until the end of the enclosing group. JS: an explicit modifier group.
        const mod = `(?${on}${off ? `-${off}` : ''}:`;
        out += mod;
        top().modifiers.push(mod);
        i += bare[0].length;
        continue;
      }
      const scoped = /^\(\?([a-zA-Z]*)(?:-([a-zA-Z]*))?:/.exec(rest);
      if (scoped && (scoped[1] || scoped[2])) {
        if (/[^ims]/.test((scoped[1] ?? '') + (scoped[2] ?? ''))) throw new GoRegexError(`invalid or unsupported Perl flag ${scoped[0]}`);
      }
      levels.push({ modifiers: [] });
      out += c;
      i++;
      continue;
    }
    if (c === ')') {
      if (levels.length === 1) throw new GoRegexError('unexpected )');
      const level = levels.pop() as Level;
      out += ')'.repeat(level.modifiers.length) + ')';
      i++;
      continue;
    }
    if (c === '|') {
      const mods = top().modifiers;
      out += ')'.repeat(mods.length) + '|' + mods.join('');
      i++;
      continue;
    }
    out += c;
    i++;
  }
  if (inClass) throw new GoRegexError('missing closing ]');
  if (levels.length > 1) throw new GoRegexError('missing closing )');
  out += ')'.repeat(top().modifiers.length);
  if (unicode) flags.add('u');
  return { source: out, flags: [...flags].sort().join('') };
}

/**
 * Compiles a Go RE2 expression as a JS RegExp (unanchored, like Go's MatchString). `extraFlags` are added
 * (never `g`/`y`: the result is used with `.test`, which must stay stateless).
 */
export function goRegex(source: string, extraFlags = ''): RegExp {
  const t = translateGoRegex(source);
  const flags = [...new Set((t.flags + extraFlags).split(''))].filter((f) => f !== 'g' && f !== 'y').join('');
  try {
    return new RegExp(t.source, flags);
  } catch (e) {
    const msg = e instanceof Error ? e.message.replace(/^Invalid regular expression: /, '') : String(e);
    throw new GoRegexError(msg);
  }
}

/** The problem with a Go regex, or undefined when it compiles. */
export function goRegexProblem(source: string): string | undefined {
  try {
    goRegex(source);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}
