// Translation of Go RE2 regular expressions (Prow's job `trigger` fields and Prow's own command regexes)
// into JavaScript RegExps with Go's matching semantics. Pure: no I/O.
//
// Differences handled:
// - Leading inline flags `(?m)`, `(?i)`, `(?mi)` become JS flags; inline flags later in a pattern and
//   `(?flags:…)` groups become JS modifier groups `(?i:…)` (Node ≥ 23). `s` and `U` are applied here.
// - Go's `\s` is ASCII `[\t\n\f\r ]` (JS's also matches Unicode spaces); `\S` likewise.
// - Go's `.` excludes only `\n` (JS's also excludes `\r`, U+2028, U+2029); with `s` it matches anything.
// - `\A`, `\z`, `\Q…\E`, `\x{…}`, octal escapes, `(?P<name>…)`, POSIX classes `[[:alpha:]]`, a leading
//   `]` in a class, `{` that is not a repetition, and the ungreedy flag `U`.
// - `(?m)` `^`/`$` use JS's `m` flag: JS also breaks lines at `\r`, U+2028 and U+2029. `commandText`
//   normalises those away, so on command text the behaviour is Go's.
// Constructs RE2 rejects (lookaround, backreferences) and `\p` classes throw GoRegExpError.

export class GoRegExpError extends Error {
  override name = 'GoRegExpError';
}

interface Flags {
  i: boolean;
  m: boolean;
  s: boolean;
  U: boolean;
}

interface Scope {
  flags: Flags;
  /** JS modifier-group openers emitted for mid-group inline flags; closed at `|` (and reopened) and at `)`. */
  modifiers: string[];
}

const GO_SPACE = '\\t\\n\\f\\r ';
const MAX_REPEAT = 1000;

const POSIX_CLASSES: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7f',
  blank: '\\t ',
  cntrl: '\\x00-\\x1f\\x7f',
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

function hex4(code: number): string {
  return '\\u' + code.toString(16).padStart(4, '0');
}

/** A code point as a JS regex literal (outside a class: astral code points become a surrogate pair). */
function literal(code: number, inClass: boolean): string {
  if (code <= 0xffff) return hex4(code);
  if (inClass) throw new GoRegExpError(`code point U+${code.toString(16)} inside a character class is not supported`);
  const s = String.fromCodePoint(code);
  return '(?:' + hex4(s.charCodeAt(0)) + hex4(s.charCodeAt(1)) + ')';
}

function escapeLiteralText(text: string): string {
  let out = '';
  for (const ch of text) out += literal(ch.codePointAt(0) ?? 0, false);
  return out;
}

function modifierDelta(from: Flags, to: Flags): string {
  let add = '';
  let remove = '';
  for (const f of ['i', 'm'] as const) {
    if (to[f] && !from[f]) add += f;
    if (!to[f] && from[f]) remove += f;
  }
  if (add === '' && remove === '') return '';
  return `(?${add}${remove === '' ? '' : '-' + remove}:`;
}

function applyFlagSpec(base: Flags, spec: string, pattern: string): Flags {
  const next = { ...base };
  let negate = false;
  let sawFlag = false;
  for (const ch of spec) {
    if (ch === '-') {
      if (negate) throw new GoRegExpError(`invalid flags (?${spec}) in ${JSON.stringify(pattern)}`);
      negate = true;
      continue;
    }
    if (ch !== 'i' && ch !== 'm' && ch !== 's' && ch !== 'U') {
      throw new GoRegExpError(`unknown flag ${JSON.stringify(ch)} in ${JSON.stringify(pattern)}`);
    }
    next[ch] = !negate;
    sawFlag = true;
  }
  if (!sawFlag) throw new GoRegExpError(`missing flags in (?${spec}) in ${JSON.stringify(pattern)}`);
  return next;
}

/** Translates a Go RE2 pattern into a JS source and flags (without 'g'/'y'). */
export function translateGoRegExp(pattern: string): { source: string; flags: string } {
  let pos = 0;
  const global: Flags = { i: false, m: false, s: false, U: false };

  // Leading inline flags become JS flags.
  const leading = /^\(\?([imsU-]+)\)/;
  for (let m = leading.exec(pattern); m; m = leading.exec(pattern.slice(pos))) {
    Object.assign(global, applyFlagSpec(global, m[1] ?? '', pattern));
    pos += m[0].length;
  }

  let out = '';
  const stack: Scope[] = [{ flags: { ...global }, modifiers: [] }];
  const top = (): Scope => stack[stack.length - 1] as Scope;
  const closeModifiers = (scope: Scope): void => {
    out += ')'.repeat(scope.modifiers.length);
  };
  const fail = (what: string): never => {
    throw new GoRegExpError(`${what} at offset ${pos} in ${JSON.stringify(pattern)}`);
  };

  /** After an atom: copy a following quantifier, applying the U flag. */
  const quantifier = (): void => {
    const ch = pattern[pos];
    let q = '';
    if (ch === '*' || ch === '+' || ch === '?') {
      q = ch;
      pos += 1;
    } else if (ch === '{') {
      const rep = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(pos, pos + 16));
      if (!rep) return;
      const min = Number(rep[1]);
      const max = rep[3] === undefined || rep[3] === '' ? min : Number(rep[3]);
      if (min > MAX_REPEAT || max > MAX_REPEAT || (rep[3] !== undefined && rep[3] !== '' && max < min)) {
        fail('invalid repeat count');
      }
      q = rep[0];
      pos += rep[0].length;
    } else {
      return;
    }
    let lazy = false;
    if (pattern[pos] === '?') {
      lazy = true;
      pos += 1;
    }
    if (top().flags.U) lazy = !lazy;
    out += q + (lazy ? '?' : '');
    const after = pattern[pos];
    if (after === '*' || after === '+' || after === '?' || (after === '{' && /^\{\d+(,\d*)?\}/.test(pattern.slice(pos, pos + 16)))) {
      fail('invalid nested repetition operator');
    }
  };

  /** Parses an escape at pos (pattern[pos] === '\\'); returns the JS text. */
  const escape = (inClass: boolean): string => {
    const c = pattern[pos + 1];
    if (c === undefined) return fail('trailing backslash');
    pos += 2;
    switch (c) {
      case 'Q': {
        if (inClass) return fail('\\Q inside a character class is not supported');
        const end = pattern.indexOf('\\E', pos);
        const text = end < 0 ? pattern.slice(pos) : pattern.slice(pos, end);
        pos = end < 0 ? pattern.length : end + 2;
        return text === '' ? '(?:)' : `(?:${escapeLiteralText(text)})`;
      }
      case 'E':
        return '';
      case 'A':
        if (inClass) return fail('\\A inside a character class');
        return '(?<![\\s\\S])';
      case 'z':
        if (inClass) return fail('\\z inside a character class');
        return '(?![\\s\\S])';
      case 's':
        return inClass ? GO_SPACE : `[${GO_SPACE}]`;
      case 'S':
        return inClass ? '\\S' : `[^${GO_SPACE}]`;
      case 'd':
      case 'D':
      case 'w':
      case 'W':
      case 'f':
      case 'n':
      case 'r':
      case 't':
      case 'v':
        return '\\' + c;
      case 'b':
      case 'B':
        if (inClass) return fail(`\\${c} inside a character class`);
        return '\\' + c;
      case 'a':
        return '\\x07';
      case 'x': {
        if (pattern[pos] === '{') {
          const end = pattern.indexOf('}', pos);
          const digits = end < 0 ? '' : pattern.slice(pos + 1, end);
          if (!/^[0-9A-Fa-f]{1,6}$/.test(digits) || Number.parseInt(digits, 16) > 0x10ffff) return fail('invalid \\x{…} escape');
          pos = end + 1;
          return literal(Number.parseInt(digits, 16), inClass);
        }
        const digits = pattern.slice(pos, pos + 2);
        if (!/^[0-9A-Fa-f]{2}$/.test(digits)) return fail('invalid \\x escape');
        pos += 2;
        return '\\x' + digits;
      }
      case 'p':
      case 'P':
        return fail('Unicode classes (\\p, \\P) are not supported');
      case 'C':
        return fail('\\C is not supported');
      default:
        break;
    }
    if (c >= '0' && c <= '7') {
      // Go: \0, \0N, \0NN and multi-digit \NNN are octal; a single \1-\7 would be a backreference (unsupported).
      const m = /^[0-7]{0,2}/.exec(pattern.slice(pos));
      const more = m ? m[0] : '';
      if (c !== '0' && more === '') return fail('backreferences are not supported');
      pos += more.length;
      return literal(Number.parseInt(c + more, 8), inClass);
    }
    if (/[A-Za-z0-9_]/.test(c)) return fail(`invalid escape \\${c}`);
    // Escaped punctuation is a literal in both dialects.
    return '\\' + c;
  };

  const charClass = (): string => {
    let cls = '[';
    pos += 1;
    if (pattern[pos] === '^') {
      cls += '^';
      pos += 1;
    }
    let first = true;
    for (;;) {
      const ch = pattern[pos];
      if (ch === undefined) return fail('missing closing ]');
      if (ch === ']' && !first) {
        pos += 1;
        return cls + ']';
      }
      first = false;
      if (ch === ']') {
        cls += '\\]';
        pos += 1;
      } else if (ch === '[' && pattern[pos + 1] === ':') {
        const end = pattern.indexOf(':]', pos + 2);
        const name = end < 0 ? '' : pattern.slice(pos + 2, end);
        const expansion = POSIX_CLASSES[name];
        if (expansion === undefined) return fail(`unsupported POSIX class [:${name}:]`);
        cls += expansion;
        pos = end + 2;
      } else if (ch === '[') {
        cls += '\\[';
        pos += 1;
      } else if (ch === '\\') {
        cls += escape(true);
      } else {
        cls += ch;
        pos += 1;
      }
    }
  };

  while (pos < pattern.length) {
    const ch = pattern[pos] as string;
    if (ch === '\\') {
      out += escape(false);
      quantifier();
    } else if (ch === '[') {
      out += charClass();
      quantifier();
    } else if (ch === '(') {
      const rest = pattern.slice(pos, pos + 64);
      const named = /^\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>/.exec(rest);
      const flagged = /^\(\?([imsU-]*)([:)])/.exec(rest);
      if (named) {
        out += `(?<${named[1]}>`;
        pos += named[0].length;
        stack.push({ flags: { ...top().flags }, modifiers: [] });
      } else if (flagged) {
        const scope = top();
        const spec = flagged[1] ?? '';
        pos += flagged[0].length;
        if (flagged[2] === ':') {
          const flags = spec === '' ? { ...scope.flags } : applyFlagSpec(scope.flags, spec, pattern);
          out += modifierDelta(scope.flags, flags) || '(?:';
          stack.push({ flags, modifiers: [] });
        } else {
          // Mid-pattern inline flags: they hold to the end of the enclosing group.
          const flags = applyFlagSpec(scope.flags, spec, pattern);
          const opener = modifierDelta(scope.flags, flags);
          if (opener !== '') {
            out += opener;
            scope.modifiers.push(opener);
          }
          scope.flags = flags;
        }
      } else if (rest.startsWith('(?')) {
        fail('unsupported group syntax (RE2 has no lookaround)');
      } else {
        out += '(';
        pos += 1;
        stack.push({ flags: { ...top().flags }, modifiers: [] });
      }
    } else if (ch === ')') {
      if (stack.length === 1) fail('unexpected )');
      const scope = stack.pop() as Scope;
      closeModifiers(scope);
      out += ')';
      pos += 1;
      quantifier();
    } else if (ch === '|') {
      const scope = top();
      closeModifiers(scope);
      out += '|' + scope.modifiers.join('');
      pos += 1;
    } else if (ch === '.') {
      out += top().flags.s ? '[\\s\\S]' : '[^\\n]';
      pos += 1;
      quantifier();
    } else if (ch === '*' || ch === '+' || ch === '?') {
      fail('missing argument to repetition operator');
    } else if (ch === '{') {
      if (/^\{\d+(,\d*)?\}/.test(pattern.slice(pos, pos + 16))) fail('missing argument to repetition operator');
      out += '\\{';
      pos += 1;
      quantifier();
    } else if (ch === '^' || ch === '$') {
      out += ch;
      pos += 1;
    } else {
      const code = pattern.codePointAt(pos) ?? 0;
      const width = code > 0xffff ? 2 : 1;
      out += ch === '/' || ch === ']' || ch === '}' ? '\\' + ch : width === 2 ? literal(code, false) : ch;
      pos += width;
      quantifier();
    }
  }
  if (stack.length !== 1) fail('missing closing )');
  closeModifiers(top());
  return { source: out, flags: (global.i ? 'i' : '') + (global.m ? 'm' : '') };
}

/** Compiles a Go RE2 pattern into a JS RegExp with Go semantics. `extraFlags` may add 'g' or 'y'. */
export function compileGoRegExp(pattern: string, extraFlags = ''): RegExp {
  const { source, flags } = translateGoRegExp(pattern);
  try {
    return new RegExp(source, flags + extraFlags);
  } catch (err) {
    throw new GoRegExpError(`invalid regular expression ${JSON.stringify(pattern)}: ${(err as Error).message}`);
  }
}

/** Go's regexp.QuoteMeta: escapes every RE2 metacharacter. */
export function quoteMeta(text: string): string {
  return text.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}
