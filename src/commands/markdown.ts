// The text slash commands are matched in. Pure: no I/O.
//
// Prow matches its line-anchored regexes against the comment with fenced code removed
// (markdown.DropCodeBlock). katabot removes more, following CommonMark, so that only text a reader sees as
// prose at the start of a line can be a command:
// - fenced code blocks (``` and ~~~): the fence closes only with the same character, at least as long, and
//   nothing but spaces after it; an unclosed fence runs to the end; the fence may be indented up to 3 spaces;
// - quoted lines (`>` after up to 3 spaces);
// - HTML comments `<!-- … -->`, also across lines; an unclosed comment runs to the end; `<!--` inside an
//   inline code span on the same line does not open one;
// - line endings: CRLF and lone CR become LF (CommonMark line endings), and U+2028/U+2029 become U+FFFD so
//   that lines break only at LF, as for Go's `(?m)` (JS regexes over the text would also break at those).
// Text that followed a removed HTML comment on the same line is kept but indented by one space, because it
// did not start a line in the source (Prow would not match it either).

type Fence = { char: '`' | '~'; length: number };

const FENCE_OPEN = /^ {0,3}(`{3,}|~{3,})(.*)$/;
const FENCE_CLOSE = /^ {0,3}(`{3,}|~{3,})[ \t]*$/;
const QUOTE = /^ {0,3}>/;

function openingFence(line: string): Fence | null {
  const m = FENCE_OPEN.exec(line);
  if (!m) return null;
  const run = m[1] ?? '';
  const info = m[2] ?? '';
  const char = run[0] === '`' ? '`' : '~';
  // A backtick fence's info string may not contain a backtick (that would be an inline code span).
  if (char === '`' && info.includes('`')) return null;
  return { char, length: run.length };
}

function closesFence(line: string, fence: Fence): boolean {
  const m = FENCE_CLOSE.exec(line);
  if (!m) return false;
  const run = m[1] ?? '';
  return run[0] === fence.char && run.length >= fence.length;
}

/**
 * For each backtick run in `line` that opens an inline code span closed on the same line, maps the index
 * of the opening run to the index just past the closing run. Linear in the line length.
 */
function codeSpans(line: string): Map<number, number> {
  const runs: Array<{ start: number; length: number }> = [];
  for (let i = 0; i < line.length; ) {
    if (line.charCodeAt(i) === 96 /* ` */) {
      let j = i;
      while (j < line.length && line.charCodeAt(j) === 96) j += 1;
      runs.push({ start: i, length: j - i });
      i = j;
    } else {
      i += 1;
    }
  }
  const spans = new Map<number, number>();
  const pendingByLength = new Map<number, number>(); // run length → start of an unmatched opening run
  for (const run of runs) {
    const open = pendingByLength.get(run.length);
    if (open === undefined) {
      pendingByLength.set(run.length, run.start);
      continue;
    }
    // Runs between `open` and this run that were themselves waiting are inside the span: drop them.
    for (const [len, start] of pendingByLength) if (start > open) pendingByLength.delete(len);
    pendingByLength.delete(run.length);
    spans.set(open, run.start + run.length);
  }
  return spans;
}

/** End index (exclusive) of the HTML comment starting at `start` (`<!--`) within `line`, or -1. */
function commentEnd(line: string, start: number): number {
  const body = start + 4;
  if (line.startsWith('>', body)) return body + 1; // "<!-->"
  if (line.startsWith('->', body)) return body + 2; // "<!--->"
  const end = line.indexOf('-->', body);
  return end < 0 ? -1 : end + 3;
}

/**
 * Removes HTML comments from one line that is not inside a comment.
 * Returns the kept text and whether an unclosed comment continues on the next lines.
 */
function stripInlineComments(line: string): { text: string; open: boolean } {
  if (!line.includes('<!--')) return { text: line, open: false };
  const spans = line.includes('`') ? codeSpans(line) : new Map<number, number>();
  let text = '';
  let guard = false;
  let i = 0;
  while (i < line.length) {
    const spanEnd = spans.get(i);
    if (spanEnd !== undefined) {
      text += line.slice(i, spanEnd);
      i = spanEnd;
      continue;
    }
    if (line.startsWith('<!--', i)) {
      if (text === '') guard = true;
      const end = commentEnd(line, i);
      if (end < 0) return { text: guarded(text, guard), open: true };
      i = end;
      continue;
    }
    text += line[i];
    i += 1;
  }
  return { text: guarded(text, guard), open: false };
}

function guarded(text: string, guard: boolean): string {
  return guard && text !== '' ? ' ' + text : text;
}

/** The text commands are matched in; see the file comment. Linear in the body length. */
export function commandText(body: string): string {
  const normalised = body.replace(/\r\n?/g, '\n').replace(/[\u2028\u2029]/g, '\uFFFD');
  const out: string[] = [];
  let fence: Fence | null = null;
  let inComment = false;
  for (const line of normalised.split('\n')) {
    if (fence) {
      if (closesFence(line, fence)) fence = null;
      continue;
    }
    if (inComment) {
      const end = line.indexOf('-->');
      if (end < 0) continue;
      inComment = false;
      const rest = stripInlineComments(line.slice(end + 3));
      inComment = rest.open;
      out.push(guarded(rest.text, true));
      continue;
    }
    const opened = openingFence(line);
    if (opened) {
      fence = opened;
      continue;
    }
    if (QUOTE.test(line)) continue;
    const kept = stripInlineComments(line);
    inComment = kept.open;
    out.push(kept.text);
  }
  return out.join('\n');
}
