// One-line configuration errors: `<file>: <key path>: <what is wrong>`.

/** A path into a parsed document: strings are keys, numbers are list indexes. */
export type KeyPath = ReadonlyArray<string | number>;

/** Renders `['tdx', 'approvers']` as `tdx.approvers` and `['presubmits', 'o/r', 3, 'name']` as `presubmits.o/r[3].name`. */
export function formatKeyPath(path: KeyPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out;
}

/** Collapses whitespace runs (including newlines) so a message always stays on one line. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

export class ConfigError extends Error {
  /** The file as the user named it (or `<env VAR>` when no file is involved). */
  readonly file: string;
  /** Dotted key path inside the file; empty for file-level problems. */
  readonly keyPath: string;
  /** What is wrong, without the file and key. */
  readonly problem: string;
  /** 1-based line, when known. */
  readonly line: number | undefined;
  /** 1-based column, when known. */
  readonly column: number | undefined;

  constructor(file: string, path: KeyPath | string, problem: string, options?: { line?: number; column?: number; cause?: unknown }) {
    const keyPath = typeof path === 'string' ? path : formatKeyPath(path);
    const where = options?.line !== undefined
      ? `line ${options.line}${options.column !== undefined ? `, column ${options.column}` : ''}: `
      : '';
    const message = oneLine(`${file}: ${where}${keyPath ? `${keyPath}: ` : ''}${problem}`);
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ConfigError';
    this.file = file;
    this.keyPath = keyPath;
    this.problem = oneLine(problem);
    this.line = options?.line;
    this.column = options?.column;
  }
}
