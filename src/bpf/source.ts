// A package's bpftrace program as text: what it prints, which maps and placeholders it uses, and the program
// katabot actually runs (placeholders filled in, an attach marker in BEGIN). Pure: no I/O.
//
// Rendering never adds or removes a line, so bpftrace's `program.bt:LINE:COL` errors point at the package's own
// file. The scanner knows just enough bpftrace to skip comments and string literals.
import type { ParamValue } from './package.ts';

/** Printed by the rendered program's BEGIN, which bpftrace runs once every probe is attached. */
export const ATTACH_MARKER = 'katabot\x1fattached';
const ATTACH_MARKER_SOURCE = 'katabot\\x1fattached';

interface Placeholder {
  name: string;
  line: number;
  /** offsets of `${` and just after `}` */
  start: number;
  end: number;
}

interface PrintfCall {
  /** The format with escapes decoded (`\t` is a tab). */
  format: string;
  line: number;
}

export interface SourceInfo {
  placeholders: Placeholder[];
  printfs: PrintfCall[];
  /** Maps the program names (`@` for the anonymous one), with the line of their first use. */
  maps: Map<string, number>;
  /** Probes at the top level (e.g. `tracepoint:syscalls:sys_enter_openat`, `BEGIN`), with their lines. */
  probes: Array<{ spec: string; line: number }>;
  /** Offset just after the `{` of BEGIN, when the program has one. */
  beginBody?: number;
  /** Unbalanced braces or an unterminated string/comment, with the line. */
  problems: Array<{ line: number; message: string }>;
}

function decodeEscapes(raw: string): string {
  return raw.replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)/g, (_, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8));
    return ({ n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"' } as Record<string, string>)[e] ?? e;
  });
}

/** Scans a program: placeholders, printf formats, maps, top-level probes and BEGIN. */
export function scanSource(src: string): SourceInfo {
  const info: SourceInfo = { placeholders: [], printfs: [], maps: new Map(), probes: [], problems: [] };
  let line = 1;
  let depth = 0;
  let i = 0;
  /** Text of the current top-level probe header (since the last top-level `}`), and where it began. */
  let header = '';
  let headerLine = 1;
  let inPredicate = false;
  let lastIdent = '';
  let lastIdentAt = -1;
  const n = src.length;
  const readString = (): string => {
    // at the opening quote
    const startLine = line;
    let j = i + 1;
    let raw = '';
    while (j < n && src[j] !== '"') {
      if (src[j] === '\\' && j + 1 < n) {
        raw += src[j]! + src[j + 1]!;
        j += 2;
        continue;
      }
      if (src[j] === '\n') line++;
      raw += src[j];
      j++;
    }
    if (j >= n) info.problems.push({ line: startLine, message: 'unterminated string' });
    i = j + 1;
    return raw;
  };
  while (i < n) {
    const c = src[i]!;
    if (c === '\n') {
      line++;
      if (depth === 0 && !inPredicate) header += ' ';
      i++;
      continue;
    }
    if (c === '/' && src[i + 1] === '/') {
      while (i < n && src[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      const startLine = line;
      const end = src.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end + 2;
      for (let j = i; j < stop; j++) if (src[j] === '\n') line++;
      if (end < 0) info.problems.push({ line: startLine, message: 'unterminated comment' });
      i = stop;
      continue;
    }
    if (c === '#' && depth === 0 && (i === 0 || src[i - 1] === '\n')) {
      // preprocessor line (#include, #define)
      while (i < n && src[i] !== '\n') i++;
      continue;
    }
    if (c === '"') {
      const literalLine = line;
      const raw = readString();
      // printf( "..." : the string right after `printf (`
      const before = src.slice(Math.max(0, lastIdentAt), i).replace(/"[\s\S]*$/, '');
      if (lastIdent === 'printf' && /^printf\s*\(\s*$/.test(before)) info.printfs.push({ format: decodeEscapes(raw), line: literalLine });
      lastIdent = '';
      continue;
    }
    if (c === '$' && src[i + 1] === '{') {
      const end = src.indexOf('}', i + 2);
      const name = end < 0 ? '' : src.slice(i + 2, end);
      if (end >= 0 && /^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        info.placeholders.push({ name, line, start: i, end: end + 1 });
        if (depth === 0 && !inPredicate) header += `\${${name}}`;
        i = end + 1;
        continue;
      }
      info.problems.push({ line, message: `malformed placeholder ${JSON.stringify(src.slice(i, Math.min(n, i + 20)).split('\n')[0])} (use \${name})` });
      i += 2;
      continue;
    }
    if (c === '@') {
      const m = /^@[A-Za-z0-9_]*/.exec(src.slice(i, i + 80))!;
      if (!info.maps.has(m[0])) info.maps.set(m[0], line);
      if (depth === 0 && !inPredicate) header += m[0];
      i += m[0].length;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i, i + 200))!;
      lastIdent = m[0];
      lastIdentAt = i;
      if (depth === 0 && !inPredicate) {
        if (header.trim() === '') headerLine = line;
        header += m[0];
      }
      i += m[0].length;
      continue;
    }
    if (c === '{') {
      if (depth === 0) {
        const specs = header.trim();
        if (specs === '') info.problems.push({ line, message: 'a block without a probe' });
        for (const spec of specs.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
          info.probes.push({ spec, line: headerLine });
          if (spec === 'BEGIN' && info.beginBody === undefined) info.beginBody = i + 1;
        }
        header = '';
        inPredicate = false;
      }
      depth++;
      i++;
      continue;
    }
    if (c === '}') {
      depth--;
      if (depth < 0) {
        info.problems.push({ line, message: "unbalanced '}'" });
        depth = 0;
      }
      i++;
      continue;
    }
    if (depth === 0) {
      if (c === '/' && header.trim() !== '') inPredicate = !inPredicate;
      else if (!inPredicate) header += c;
    }
    i++;
  }
  if (depth > 0) info.problems.push({ line, message: "missing '}' at the end of the program" });
  return info;
}

/** A bpftrace literal for a parameter value. */
export function literal(value: ParamValue): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? '1' : '0';
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\t/g, '\\t')}"`;
}

export interface RenderOptions {
  params: Record<string, ParamValue>;
  /** The expression `${in_scope}` becomes (see scopeExpression). */
  scope: string;
  /** Print ATTACH_MARKER from BEGIN (added to the program's BEGIN, or as a BEGIN of its own on the last line). */
  attachMarker: boolean;
}

/** The program bpftrace runs. Throws on a placeholder that is neither a parameter nor `in_scope`. Lines stay put. */
export function renderProgram(src: string, o: RenderOptions): string {
  const info = scanSource(src);
  const edits: Array<{ start: number; end: number; text: string }> = [];
  for (const p of info.placeholders) {
    let text: string;
    if (p.name === 'in_scope') text = `(${o.scope})`;
    else if (Object.hasOwn(o.params, p.name)) text = literal(o.params[p.name]!);
    else throw new Error(`line ${p.line}: \${${p.name}} is not a parameter of the package`);
    edits.push({ start: p.start, end: p.end, text });
  }
  const marker = `printf("${ATTACH_MARKER_SOURCE}\\n");`;
  if (o.attachMarker && info.beginBody !== undefined) edits.push({ start: info.beginBody, end: info.beginBody, text: ` ${marker}` });
  let out = src;
  for (const e of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  if (o.attachMarker && info.beginBody === undefined) {
    // on the program's last line, so no line moves
    out = out.endsWith('\n') ? `${out.slice(0, -1)} BEGIN { ${marker} }\n` : `${out} BEGIN { ${marker} }`;
  }
  return out;
}

/** What `${in_scope}` covers. */
export type ScopeIds =
  | { kind: 'all' }
  /** these cgroups and the ones below them (up to `depth` levels), but the `exclude` cgroups (host mode) */
  | { kind: 'cgroups'; ids: readonly bigint[]; exclude?: readonly bigint[] }
  /** a pod seen from a container in it: cgroups below `pod`, except the tracer's own `self` */
  | { kind: 'own-pod'; self: bigint; pod: bigint }
  /** everything but the tracer's own cgroup */
  | { kind: 'all-but-self'; self: bigint };

/** A bpftrace expression true when the current task is in scope. One expression (no statements), so it fits a
 * predicate: it compares the task's cgroup and its ancestors' kernfs ids, as the tracer's own filter does. */
export function scopeExpression(scope: ScopeIds, parentField: '__parent' | 'parent', depth = 3): string {
  if (scope.kind === 'all') return '1';
  if (scope.kind === 'all-but-self') return `cgroup != ${scope.self}`;
  const kn = '((struct cgroup *)curtask->cgroups->dfl_cgrp)->kn';
  const ancestors: string[] = [];
  let cur = kn;
  for (let d = 0; d < depth; d++) {
    cur = `((struct kernfs_node *)${cur})->${parentField}`;
    ancestors.push(`((struct kernfs_node *)${cur})->id`);
  }
  if (scope.kind === 'own-pod') {
    return `cgroup != ${scope.self} && (${ancestors.map((a) => `${a} == ${scope.pod}`).join(' || ')})`;
  }
  if (scope.ids.length === 0) throw new Error('no cgroup to trace');
  const terms: string[] = [];
  for (const id of scope.ids) terms.push(`cgroup == ${id}`);
  for (const a of ancestors) for (const id of scope.ids) terms.push(`${a} == ${id}`);
  const but = (scope.exclude ?? []).map((id) => ` && cgroup != ${id}`).join('');
  return but === '' ? terms.join(' || ') : `(${terms.join(' || ')})${but}`;
}
