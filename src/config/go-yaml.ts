// YAML decoded as Prow decodes it: sigs.k8s.io/yaml (go-yaml v2's YAML 1.1 scalar resolution, then a conversion
// driven by the target Go type) and encoding/json into Prow's Go structs. The result is plain JSON data with the
// types Prow's structs hold: a number or boolean written where Go has a string becomes that string (`3600` →
// "3600", `true` → "true"), quantities and durations take Go's canonical text, fields the Go type does not
// have are dropped. Errors are one-line ConfigErrors naming file, line and key path. Pure.
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseAllDocuments, Scalar, type Document, type Node, type ParsedNode } from 'yaml';
import { ConfigError, type KeyPath } from './errors.ts';
import { formatGoDuration, goFormatFloat32, goJsonFloat, parseGoDuration } from './go-format.ts';
import { GO_STRUCTS, type GoType, type StructType } from './go-types.ts';
import { canonicalQuantity, QuantityError } from './quantity.ts';

/** A plain scalar after go-yaml v2's resolve(). Integers are BigInt: Go keeps 64 bits. */
type Resolved =
  | { t: 'null' }
  | { t: 'bool'; v: boolean }
  | { t: 'int'; v: bigint }
  | { t: 'float'; v: number }
  | { t: 'str'; v: string };

const NULL: Resolved = { t: 'null' };
const SPECIAL = new Map<string, Resolved>();
for (const s of ['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON']) SPECIAL.set(s, { t: 'bool', v: true });
for (const s of ['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF']) SPECIAL.set(s, { t: 'bool', v: false });
for (const s of ['~', 'null', 'Null', 'NULL']) SPECIAL.set(s, NULL);
for (const s of ['.nan', '.NaN', '.NAN']) SPECIAL.set(s, { t: 'float', v: NaN });
for (const s of ['.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF']) SPECIAL.set(s, { t: 'float', v: Infinity });
for (const s of ['-.inf', '-.Inf', '-.INF']) SPECIAL.set(s, { t: 'float', v: -Infinity });

const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;

/** Go's strconv.ParseInt(s, 0, 64) (signed: true) or ParseUint(s, 0, 64); undefined on any error. */
function goParseInt(s: string, signed: boolean): bigint | undefined {
  let i = 0;
  let neg = false;
  if (signed && (s[0] === '+' || s[0] === '-')) {
    neg = s[0] === '-';
    i = 1;
  }
  let body = s.slice(i);
  let base = 10;
  if (/^0[xX]/.test(body)) [base, body] = [16, body.slice(2)];
  else if (/^0[oO]/.test(body)) [base, body] = [8, body.slice(2)];
  else if (/^0[bB]/.test(body)) [base, body] = [2, body.slice(2)];
  else if (body.length > 1 && body[0] === '0') [base, body] = [8, body.slice(1)];
  const digits = base === 16 ? /^[0-9a-fA-F]+$/ : base === 8 ? /^[0-7]+$/ : base === 2 ? /^[01]+$/ : /^[0-9]+$/;
  if (!digits.test(body)) return undefined;
  const prefix = base === 16 ? '0x' : base === 8 ? '0o' : base === 2 ? '0b' : '';
  let v = BigInt(`${prefix}${body}`);
  if (neg) v = -v;
  if (signed ? v < INT64_MIN || v > INT64_MAX : v > UINT64_MAX) return undefined;
  return v;
}

/** go-yaml v2 resolve() of an untagged plain scalar (timestamps stay strings, as v2 decodes them into interface{}). */
function resolvePlain(text: string): Resolved {
  if (text === '') return NULL;
  const c = text.charCodeAt(0);
  const digitOrSign = (c >= 48 && c <= 57) || c === 43 || c === 45;
  if (!digitOrSign && c !== 46 && !'yYnNtTfFoO~'.includes(text[0] as string)) return { t: 'str', v: text };
  const special = SPECIAL.get(text);
  if (special) return special;
  if (c === 46) {
    // '.': maybe a float such as .5
    if (/^\.[0-9]+([eE][-+]?[0-9]+)?$/.test(text)) return { t: 'float', v: Number(text) };
    return { t: 'str', v: text };
  }
  if (!digitOrSign) return { t: 'str', v: text };
  const plain = text.replaceAll('_', '');
  const i = goParseInt(plain, true);
  if (i !== undefined) return { t: 'int', v: i };
  const u = goParseInt(plain, false);
  if (u !== undefined) return { t: 'int', v: u };
  if (YAML_STYLE_FLOAT.test(plain)) {
    const f = Number(plain);
    if (Number.isFinite(f)) return { t: 'float', v: f }; // Go's ParseFloat refuses out-of-range values
  }
  return { t: 'str', v: text };
}

/** A scalar node as go-yaml v2 sees it: quoted and block scalars are strings; tags are honoured. */
function resolveScalar(node: Scalar): Resolved | { t: 'error'; problem: string } {
  const text = String(node.value ?? '');
  const plain = node.type === Scalar.PLAIN || node.type === undefined;
  const tag = node.tag;
  if (!tag || tag === '!') return plain && !tag ? resolvePlain(text) : { t: 'str', v: text };
  const short = tag.replace(/^tag:yaml\.org,2002:/, '!!');
  switch (short) {
    case '!!str':
    case '!!timestamp':
      return { t: 'str', v: text };
    case '!!binary':
      return decodeBase64(text);
    case '!!null':
    case '!!bool':
    case '!!int':
    case '!!float': {
      const r = resolvePlain(text);
      const want = short.slice(2);
      if (r.t === want) return r;
      if (want === 'float' && r.t === 'int') return { t: 'float', v: Number(r.v) };
      return { t: 'error', problem: `cannot decode !!${r.t} \`${text}\` as a ${short}` };
    }
    default:
      return { t: 'str', v: text }; // unknown tags: the text, as go-yaml v2 keeps it
  }
}

/** !!binary: base64 bytes, read as Go reads a []byte into a string (UTF-8). */
function decodeBase64(text: string): Resolved | { t: 'error'; problem: string } {
  let bin: string;
  try {
    bin = atob(text.replace(/\s+/g, ''));
  } catch {
    return { t: 'error', problem: '!!binary value is not valid base64' };
  }
  return { t: 'str', v: new TextDecoder().decode(Uint8Array.from(bin, (ch) => ch.charCodeAt(0))) };
}

function describe(r: Resolved | 'mapping' | 'list'): string {
  if (r === 'mapping') return 'a mapping';
  if (r === 'list') return 'a list';
  switch (r.t) {
    case 'null': return 'null';
    case 'bool': return 'a boolean';
    case 'int': return 'an integer';
    case 'float': return 'a number';
    case 'str': return 'a string';
  }
}

/** What a type is called in messages ("must be …"). */
function expected(t: GoType): string {
  if (typeof t === 'object') return 'list' in t ? 'a list' : 'a mapping';
  switch (t) {
    case 'string': return 'a string';
    case 'bool': return 'true or false';
    case 'int': return 'an integer';
    case 'float': return 'a number';
    case 'quantity': return 'a quantity (e.g. 500m, 2Gi)';
    case 'intOrString': return 'an integer or a string';
    case 'duration':
    case 'metaDuration': return 'a duration (e.g. 2h, 90m)';
    case 'any': return 'a value';
  }
}

interface CompiledStruct {
  exact: Map<string, GoType>;
  /** lower-cased name → [json name, type]: encoding/json matches keys case-insensitively when no exact match. */
  folded: Map<string, [string, GoType]>;
  open: boolean;
}

const compiled = new Map<string, CompiledStruct>();
function structType(name: string): CompiledStruct {
  let c = compiled.get(name);
  if (!c) {
    const s: StructType | undefined = GO_STRUCTS[name];
    if (!s) throw new Error(`go-yaml: unknown struct type ${name}`);
    const exact = new Map(Object.entries(s.fields));
    const folded = new Map<string, [string, GoType]>();
    for (const [k, t] of exact) if (!folded.has(k.toLowerCase())) folded.set(k.toLowerCase(), [k, t]);
    c = { exact, folded, open: s.open ?? false };
    compiled.set(name, c);
  }
  return c;
}

/** Sets a key on a plain object; `__proto__` becomes an own property, never the prototype. */
function setKey(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

/** The value a Go element takes from a JSON null: the type's zero value. */
function zeroValue(t: GoType): unknown {
  if (typeof t === 'object') return 'struct' in t ? {} : null;
  switch (t) {
    case 'string': return '';
    case 'bool': return false;
    case 'int':
    case 'float':
    case 'intOrString': return 0;
    case 'quantity': return '0';
    case 'duration':
    case 'metaDuration': return '0s';
    case 'any': return null;
  }
}

export interface Position { line: number; column: number }

export interface DecodeOptions {
  /** Records where each decoded object's and list's entries came from (for messages about decoded data). */
  positions?: WeakMap<object, Map<string | number, Position>>;
  /** Limit on alias expansions per document (billion-laughs guard). Default 10 000. */
  maxAliases?: number;
  /** Called with each decoded struct, its Go type name and where its mapping starts. */
  onStruct?: (type: string, value: object, position: Position) => void;
}

const ABSENT = Symbol('absent');

class Decoder {
  readonly #file: string;
  readonly #doc: Document.Parsed;
  readonly #lines: LineCounter;
  readonly #options: DecodeOptions;
  #aliases = 0;
  readonly #expanding = new Set<Node>();
  /** The key path of the node being decoded (a stack: pushed and popped around children). */
  readonly #path: Array<string | number> = [];

  constructor(file: string, doc: Document.Parsed, lines: LineCounter, options: DecodeOptions) {
    this.#file = file;
    this.#doc = doc;
    this.#lines = lines;
    this.#options = options;
  }

  pos(node: Node | null | undefined): Position | undefined {
    const offset = node?.range?.[0];
    if (offset === undefined) return undefined;
    const p = this.#lines.linePos(offset);
    return { line: p.line, column: p.col };
  }

  fail(node: Node | null | undefined, problem: string): never {
    const p = this.pos(node);
    throw new ConfigError(this.#file, [...this.#path], problem, p ? { line: p.line, column: p.column } : {});
  }

  #record(container: object, key: string | number, node: Node | null | undefined): void {
    const positions = this.#options.positions;
    if (!positions) return;
    const p = this.pos(node);
    if (!p) return;
    let m = positions.get(container);
    if (!m) positions.set(container, (m = new Map()));
    m.set(key, p);
  }

  /** Follows aliases, refusing cycles and excessive expansion. */
  #deref(node: ParsedNode | Node | null | undefined): Node | null | undefined {
    if (!isAlias(node)) return node;
    if (++this.#aliases > (this.#options.maxAliases ?? 10_000)) this.fail(node, 'document contains excessive aliasing');
    const target = node.resolve(this.#doc);
    if (!target) this.fail(node, `unknown anchor ${JSON.stringify(node.source)}`);
    if (this.#expanding.has(target)) this.fail(node, `anchor ${JSON.stringify(node.source)} value contains itself`);
    return target;
  }

  /** Decodes `node` into Go type `t`; ABSENT for a null where Go leaves a field unset. */
  decode(rawNode: ParsedNode | Node | null | undefined, t: GoType): unknown {
    const node = this.#deref(rawNode);
    if (node === null || node === undefined) return ABSENT;
    const aliased = node !== rawNode;
    if (aliased) this.#expanding.add(node);
    try {
      if (isScalar(node)) return this.#scalar(node, t);
      if (isMap(node)) return this.#mapping(node, t);
      if (isSeq(node)) {
        if (t !== 'any' && !(typeof t === 'object' && 'list' in t)) return this.fail(node, `must be ${expected(t)}, got ${describe('list')}`);
        const elem: GoType = t === 'any' ? 'any' : t.list;
        const out: unknown[] = [];
        const items = node.items;
        for (let i = 0; i < items.length; i++) {
          this.#path.push(i);
          const v = this.decode(items[i] as Node, elem);
          this.#path.pop();
          out.push(v === ABSENT ? zeroValue(elem) : v);
          this.#record(out, i, items[i] as Node);
        }
        return out;
      }
      return this.fail(node, 'unsupported YAML node');
    } finally {
      if (aliased) this.#expanding.delete(node);
    }
  }

  #key(node: Node | null | undefined): string {
    const n = this.#deref(node as ParsedNode);
    if (!isScalar(n)) return this.fail(n ?? node, 'map keys must be scalars');
    const r = resolveScalar(n);
    switch (r.t) {
      case 'str': return r.v;
      case 'int': return r.v.toString();
      case 'float': {
        // sigs.k8s.io/yaml writes a float key as go-yaml would print it.
        const k = goFormatFloat32(r.v);
        return k === '+Inf' ? '.inf' : k === '-Inf' ? '-.inf' : k === 'NaN' ? '.nan' : k;
      }
      case 'bool': return r.v ? 'true' : 'false';
      case 'null': return this.fail(n, 'unsupported map key of type <nil>');
      case 'error': return this.fail(n, r.problem);
    }
  }

  #mapping(node: Node & { items: Array<{ key: unknown; value: unknown }> }, t: GoType): unknown {
    let struct: CompiledStruct | undefined;
    let elem: GoType = 'any';
    if (typeof t === 'object' && 'struct' in t) struct = structType(t.struct);
    else if (typeof t === 'object' && 'map' in t) elem = t.map;
    else if (t !== 'any') return this.fail(node, `must be ${expected(t)}, got ${describe('mapping')}`);
    const out: Record<string, unknown> = {};
    for (const pair of node.items) {
      const keyNode = pair.key as Node | null;
      if (isScalar(keyNode) && keyNode.value === '<<' && (keyNode.type === Scalar.PLAIN || keyNode.tag?.endsWith(':merge'))) {
        this.#merge(pair.value as Node, t, out);
        continue;
      }
      const key = this.#key(keyNode);
      let field = key;
      let ft: GoType = elem;
      if (struct) {
        const exact = struct.exact.get(key);
        if (exact !== undefined) ft = exact;
        else {
          const folded = struct.folded.get(key.toLowerCase());
          if (folded) [field, ft] = folded;
          else if (struct.open) ft = 'any';
          else continue; // encoding/json drops fields the Go type does not have
        }
      }
      this.#path.push(field);
      const v = this.decode(pair.value as Node, ft);
      this.#path.pop();
      if (v === ABSENT) {
        if (struct) delete out[field];
        else setKey(out, field, zeroValue(ft));
      } else {
        setKey(out, field, v);
      }
      this.#record(out, field, (pair.value as Node | null) ?? keyNode);
    }
    const onStruct = this.#options.onStruct;
    if (onStruct && struct) {
      const p = this.pos(node);
      if (p) onStruct((t as { struct: string }).struct, out, p);
    }
    return out;
  }

  /** `<<: *anchor` / `<<: [*a, *b]`: merged in place, later keys win; in a list, earlier maps win (go-yaml v2). */
  #merge(valueNode: Node | null, t: GoType, out: Record<string, unknown>): void {
    const v = this.#deref(valueNode as ParsedNode);
    const sources = isSeq(v) ? [...v.items].reverse() : [valueNode];
    for (const s of sources) {
      const target = this.#deref(s as ParsedNode);
      if (!isMap(target)) this.fail(target ?? valueNode, 'map merge requires map or sequence of maps as the value');
      const merged = this.decode(s as Node, t);
      if (merged && typeof merged === 'object') for (const [k, x] of Object.entries(merged)) setKey(out, k, x);
    }
  }

  #bad(node: Node, t: GoType, r: Resolved): never {
    return this.fail(node, `must be ${expected(t)}, got ${describe(r)}`);
  }

  #scalar(node: Scalar, t: GoType): unknown {
    const r = resolveScalar(node);
    if (r.t === 'error') return this.fail(node, r.problem);
    if (r.t === 'null') return ABSENT;
    if (typeof t === 'object') return this.#bad(node, t, r);
    switch (t) {
      case 'any':
        if (r.t === 'int') return Number(r.v);
        if (r.t === 'float' && !Number.isFinite(r.v)) return this.fail(node, `json: unsupported value: ${goFormatFloat32(r.v)}`);
        return r.v;
      case 'string':
        // sigs.k8s.io/yaml: a number or boolean aimed at a Go string becomes its text.
        if (r.t === 'str') return r.v;
        if (r.t === 'int') return r.v.toString();
        if (r.t === 'float') return goFormatFloat32(r.v);
        return r.v ? 'true' : 'false';
      case 'bool':
        return r.t === 'bool' ? r.v : this.#bad(node, t, r);
      case 'int':
      case 'intOrString': {
        if (r.t === 'str') return t === 'intOrString' ? r.v : this.#bad(node, t, r);
        const n = r.t === 'int' ? r.v : r.t === 'float' && Number.isInteger(r.v) && Math.abs(r.v) < 1e21 ? BigInt(r.v) : undefined;
        if (n === undefined || n < INT64_MIN || n > INT64_MAX) return this.#bad(node, t, r);
        return Number(n);
      }
      case 'float':
        if (r.t === 'int') return Number(r.v);
        if (r.t === 'float' && Number.isFinite(r.v)) return r.v;
        return this.#bad(node, t, r);
      case 'quantity': {
        if (r.t === 'bool' || (r.t === 'float' && !Number.isFinite(r.v))) return this.#bad(node, t, r);
        // A YAML number reaches resource.Quantity as encoding/json wrote it.
        const text = r.t === 'str' ? r.v.trim() : r.t === 'int' ? r.v.toString() : goJsonFloat(r.v);
        try {
          return canonicalQuantity(text);
        } catch (e) {
          if (e instanceof QuantityError) return this.fail(node, `${JSON.stringify(text)}: ${e.message}`);
          throw e;
        }
      }
      case 'duration':
      case 'metaDuration': {
        // prowapi.Duration also takes an integer count of nanoseconds; metav1.Duration only a string.
        if (t === 'duration' && (r.t === 'int' || (r.t === 'float' && Number.isInteger(r.v) && Math.abs(r.v) < 1e21))) {
          const ns = r.t === 'int' ? r.v : BigInt(r.v);
          if (ns < INT64_MIN || ns > INT64_MAX) return this.#bad(node, t, r);
          return formatGoDuration(ns);
        }
        if (r.t !== 'str') return this.#bad(node, t, r);
        try {
          return formatGoDuration(parseGoDuration(r.v));
        } catch (e) {
          return this.fail(node, (e as Error).message);
        }
      }
    }
  }
}

export interface DecodedYaml {
  /** The decoded first document; undefined for an empty file (go-yaml v2 reads only the first document). */
  value: unknown;
}

/**
 * Decodes YAML text into the Go type `root` as Prow would (see the file header). Throws a one-line ConfigError
 * naming `file`, the line and the key path for YAML syntax errors and for values the Go type cannot hold.
 */
export function decodeGoYaml(text: string, file: string, root: GoType, options: DecodeOptions = {}): DecodedYaml {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { version: '1.1', schema: 'failsafe', merge: false, uniqueKeys: false, lineCounter: lines, prettyErrors: false });
  const doc = Array.isArray(docs) ? docs[0] : undefined;
  if (!doc) return { value: undefined };
  const err = doc.errors[0];
  if (err) {
    const pos = lines.linePos(err.pos[0]);
    const problem = err.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?\s*$/, '') ?? err.message;
    throw new ConfigError(file, '', `YAML syntax error: ${problem}`, { line: pos.line, column: pos.col });
  }
  const d = new Decoder(file, doc, lines, options);
  const v = d.decode(doc.contents, root);
  return { value: v === ABSENT ? undefined : v };
}

/** Where the value at `path` was written, when decoded with `positions`. */
export function positionOf(positions: WeakMap<object, Map<string | number, Position>>, root: unknown, path: KeyPath): Position | undefined {
  let container: unknown = root;
  let found: Position | undefined;
  for (const key of path) {
    if (typeof container !== 'object' || container === null) break;
    const p = positions.get(container)?.get(key);
    if (p) found = p;
    container = (container as Record<string | number, unknown>)[key];
  }
  return found;
}
