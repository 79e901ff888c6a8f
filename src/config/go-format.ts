// How Go writes numbers and durations: the strings Prow's types end up with after sigs.k8s.io/yaml converted a
// YAML number into a Go string field (strconv.FormatFloat(f, 'g', -1, 32)), encoding/json wrote a float64, or
// time.Duration marshalled itself. Pure.

/** Go's strconv.FormatFloat(f, 'g', -1, 32): the shortest decimal that reads back as the same float32. */
export function goFormatFloat32(f: number): string {
  if (Number.isNaN(f)) return 'NaN';
  const x = Math.fround(f);
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const neg = x < 0;
  const { digits, point } = shortestFloat32Digits(Math.abs(x));
  // %g with the shortest precision: exponent form when the exponent is < -4 or >= 6 (Go uses 6 for "shortest").
  const e = point - 1;
  let body: string;
  if (e < -4 || e >= 6) {
    const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const ae = Math.abs(e);
    body = `${mantissa}e${e < 0 ? '-' : '+'}${ae < 10 ? `0${ae}` : `${ae}`}`;
  } else if (point <= 0) {
    body = `0.${'0'.repeat(-point)}${digits}`;
  } else if (point >= digits.length) {
    body = `${digits}${'0'.repeat(point - digits.length)}`;
  } else {
    body = `${digits.slice(0, point)}.${digits.slice(point)}`;
  }
  return neg ? `-${body}` : body;
}

/** Decimal digits (no leading/trailing zeros) and the decimal point position of the shortest float32 repr. */
function shortestFloat32Digits(x: number): { digits: string; point: number } {
  for (let p = 1; p <= 9; p++) {
    const candidates = neighbours(x, p);
    let best: { text: string; err: number } | undefined;
    for (const text of candidates) {
      const v = Number(text);
      if (Math.fround(v) !== x) continue;
      const err = Math.abs(v - x);
      if (!best || err < best.err) best = { text, err };
    }
    if (best) return decompose(best.text);
  }
  return decompose(x.toPrecision(9));
}

/** x rounded to p significant digits, and the two p-digit decimals next to it. */
function neighbours(x: number, p: number): string[] {
  const base = x.toExponential(p - 1); // d.ddde±x
  const [m, e] = base.split('e') as [string, string];
  const digits = m.replace('.', '');
  const n = BigInt(digits);
  const exp = Number(e) - (p - 1);
  const out: string[] = [];
  for (const k of [n - 1n, n, n + 1n]) if (k > 0n) out.push(`${k}e${exp}`);
  return out;
}

function decompose(text: string): { digits: string; point: number } {
  const [m, e = '0'] = text.toLowerCase().split('e') as [string, string?];
  const [intPart, frac = ''] = m.split('.') as [string, string?];
  let digits = `${intPart}${frac}`;
  let point = intPart.length + Number(e);
  const lead = digits.length - digits.replace(/^0+/, '').length;
  digits = digits.slice(lead);
  point -= lead;
  digits = digits.replace(/0+$/, '');
  return { digits: digits || '0', point };
}

/** encoding/json's float64 text: JavaScript's shortest round-trip form agrees with it, exponent included. */
export function goJsonFloat(f: number): string {
  if (!Number.isFinite(f)) throw new Error(`json: unsupported value: ${goFormatFloat32(f)}`);
  return Object.is(f, -0) ? '-0' : String(f);
}

// ---------------------------------------------------------------------------------------------------------------
// time.Duration

const NS = { ns: 1n, us: 1_000n, 'µs': 1_000n, 'μs': 1_000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n } as const;
const MAX_DURATION = (1n << 63n) - 1n;

/** Go's time.ParseDuration; the result in nanoseconds. Throws with Go's message. */
export function parseGoDuration(text: string): bigint {
  const orig = text;
  let s = text;
  let neg = false;
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  const invalid = (): Error => new Error(`time: invalid duration ${JSON.stringify(orig)}`);
  if (s === '') throw invalid();
  // Exact arithmetic: total = Σ value × unit, with fractional parts scaled exactly, then truncated (as Go's).
  let total = 0n; // in units of 1e-18 ns for fractions
  const SCALE = 10n ** 18n;
  while (s !== '') {
    const m = /^(\d*)(?:\.(\d*))?/.exec(s);
    const intPart = m?.[1] ?? '';
    const frac = m?.[2];
    if (intPart === '' && (frac === undefined || frac === '')) throw invalid();
    s = s.slice(m?.[0].length ?? 0);
    const u = /^[^\d.]+/.exec(s)?.[0];
    if (u === undefined) throw new Error(`time: missing unit in duration ${JSON.stringify(orig)}`);
    const unit = (NS as Record<string, bigint>)[u];
    if (unit === undefined) throw new Error(`time: unknown unit ${JSON.stringify(u)} in duration ${JSON.stringify(orig)}`);
    s = s.slice(u.length);
    let part = BigInt(intPart || '0') * unit * SCALE;
    if (frac) part += (BigInt(frac) * unit * SCALE) / 10n ** BigInt(frac.length);
    total += part;
    if (total / SCALE > MAX_DURATION + (neg ? 1n : 0n)) throw invalid();
  }
  const ns = total / SCALE;
  return neg ? -ns : ns;
}

/** Go's time.Duration.String(): "2h0m0s", "1m30s", "1.5s", "500ms", "3.6µs", "0s". */
export function formatGoDuration(ns: bigint): string {
  if (ns === 0n) return '0s';
  const neg = ns < 0n;
  let u = neg ? -ns : ns;
  let out: string;
  if (u < 1_000_000_000n) {
    if (u < 1_000n) out = `${u}ns`;
    else if (u < 1_000_000n) out = `${fraction(u, 3)}µs`;
    else out = `${fraction(u, 6)}ms`;
  } else {
    const secs = fraction(u % 60_000_000_000n, 9);
    u /= 60_000_000_000n;
    out = `${secs}s`;
    if (u > 0n) {
      out = `${u % 60n}m${out}`;
      u /= 60n;
      if (u > 0n) out = `${u}h${out}`;
    }
  }
  return neg ? `-${out}` : out;
}

/** v / 10^prec with the fraction's trailing zeros (and an empty fraction's point) dropped. */
function fraction(v: bigint, prec: number): string {
  const p = 10n ** BigInt(prec);
  const whole = v / p;
  const frac = (v % p).toString().padStart(prec, '0').replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : `${whole}`;
}
