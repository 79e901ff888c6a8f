// The hidden markers in katabot's comments: each comment carries exactly one, so the shell can find its own
// earlier comment again (after a crash between posting and recording, or to edit it). Only a marker in a comment
// the bot itself wrote counts: anyone can type one. Pure.

export const MARKERS = {
  /** An answer to one command text (`key` says which delivery and source, or which PR for once-per-PR answers). */
  reply: (key: string): string => `<!-- katabot:reply ${key} -->`,
  /** The welcome comment on an untrusted author's new PR, once per PR. */
  welcome: (): string => '<!-- katabot:welcome -->',
  /** The draft notice, once per delivery that asked for it. */
  draft: (delivery: string): string => `<!-- katabot:draft ${delivery} -->`,
} as const;

/** A comment body with its marker on the last line. */
export function withMarker(body: string, marker: string): string {
  return `${body}\n${marker}`;
}
