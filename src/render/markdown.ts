// Markdown building blocks shared by the comments and check runs katabot writes.

/** A fenced code block whose fence is longer than any run of backticks in `text`, so nothing in it can close it. */
export function codeBlock(text: string, lang = ''): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${lang}\n${text}\n${fence}`;
}
