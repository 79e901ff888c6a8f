// YAML text → plain JS value, with syntax errors turned into one-line ConfigErrors naming file and line.
import { parseDocument, type DocumentOptions, type ParseOptions, type SchemaOptions, type ToJSOptions } from 'yaml';
import { ConfigError } from './errors.ts';

export interface YamlOptions {
  /**
   * '1.1' for files Prow also reads: Prow parses YAML with go-yaml v2 (sigs.k8s.io/yaml), so `yes`/`no`/`on`/`off`
   * are booleans and `<<` merge keys work. '1.2' (the default) for katabot's own files.
   */
  version?: '1.1' | '1.2';
}

export function parseYaml(text: string, file: string, options: YamlOptions = {}): unknown {
  const opts: ParseOptions & DocumentOptions & SchemaOptions & ToJSOptions = {
    version: options.version ?? '1.2',
    uniqueKeys: true,
    prettyErrors: true,
  };
  if (options.version === '1.1') opts.merge = true;
  const doc = parseDocument(text, opts);
  const err = doc.errors[0];
  if (err) {
    // The library appends " at line L, column C:" plus a code excerpt; keep only the first sentence.
    const head = err.message.split('\n')[0] ?? err.message;
    const problem = head.replace(/ at line \d+, column \d+:?\s*$/, '');
    const pos = err.linePos?.[0];
    throw new ConfigError(file, '', `YAML syntax error: ${problem}`, pos ? { line: pos.line, column: pos.col } : {});
  }
  try {
    return doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    throw new ConfigError(file, '', `YAML error: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Human name of a JSON value's type, for messages like "must be a string, got a number". */
export function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'number') return Number.isInteger(v) ? 'an integer' : 'a number';
  if (typeof v === 'boolean') return 'a boolean';
  return `a ${typeof v}`;
}
