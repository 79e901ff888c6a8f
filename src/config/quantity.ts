// Kubernetes resource quantities (`cpu: 0.5`, `memory: 1.2Gi`) as Go's resource.Quantity parses and marshals
// them (k8s.io/apimachinery pkg/api/resource, ParseQuantity + MarshalJSON): the string Prow writes into a
// ProwJob. Pure; exact arithmetic with BigInt.

const DECIMAL_SUFFIXES: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIXES: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL_BY_EXPONENT = new Map(Object.entries(DECIMAL_SUFFIXES).map(([s, e]) => [e, s]));
const BINARY_BY_POWER = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
const MAX_ALLOWED = (1n << 63n) - 1n;

type Format = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

/** Go's error texts (resource.ErrFormatWrong, ErrSuffix, ErrNumeric). */
const QUANTITY_FORMAT_ERROR = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

export class QuantityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QuantityError';
  }
}

interface Split { positive: boolean; value: string; num: string; denom: string; suffix: string }

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

/** parseQuantityString: sign, numerator (leading zeros stripped), denominator, suffix. */
function split(str: string): Split {
  let positive = true;
  let pos = 0;
  const end = str.length;
  if (str[0] === '-') {
    positive = false;
    pos++;
  } else if (str[0] === '+') {
    pos++;
  }
  while (pos < end && str[pos] === '0') pos++;
  if (pos >= end) return { positive, value: '0', num: '0', denom: '', suffix: '' };
  let i = pos;
  while (i < end && isDigit(str[i])) i++;
  let num = str.slice(pos, i);
  if (i >= end) return { positive, value: str, num, denom: '', suffix: '' };
  if (num === '') num = '0';
  pos = i;
  let denom = '';
  if (str[pos] === '.') {
    pos++;
    i = pos;
    while (i < end && isDigit(str[i])) i++;
    denom = str.slice(pos, i);
    if (i >= end) return { positive, value: str, num, denom, suffix: '' };
    pos = i;
  }
  const value = str.slice(0, pos);
  const suffixStart = pos;
  i = pos;
  while (i < end && 'eEinumkKMGTP'.includes(str[i] as string)) i++;
  if (i >= end) return { positive, value, num, denom, suffix: str.slice(suffixStart) };
  pos = i;
  if (str[pos] === '-' || str[pos] === '+') pos++;
  for (i = pos; i < end; i++) if (!isDigit(str[i])) throw new QuantityError(QUANTITY_FORMAT_ERROR);
  return { positive, value, num, denom, suffix: str.slice(suffixStart) };
}

function interpret(suffix: string): { base: 2 | 10; exponent: number; format: Format } {
  const dec = DECIMAL_SUFFIXES[suffix];
  if (dec !== undefined) return { base: 10, exponent: dec, format: 'DecimalSI' };
  const bin = BINARY_SUFFIXES[suffix];
  if (bin !== undefined) return { base: 2, exponent: bin, format: 'BinarySI' };
  if (suffix.length > 1 && (suffix[0] === 'e' || suffix[0] === 'E') && /^[-+]?\d+$/.test(suffix.slice(1))) {
    return { base: 10, exponent: Number(suffix.slice(1)), format: 'DecimalExponent' };
  }
  throw new QuantityError("unable to parse quantity's suffix");
}

/** Go's `%` truncates toward zero, as JavaScript's does; named for clarity at the call sites. */
const goMod = (a: number, b: number): number => a % b;

/**
 * ParseQuantity keeps the text as written (so MarshalJSON returns it unchanged, sign and leading zeros included)
 * when its fast path finds it canonical; this mirrors those conditions.
 */
function keptAsWritten(s: Split, base: 2 | 10, exponent: number, format: Format): boolean {
  const digits = s.num.length + s.denom.length;
  let precision: number;
  let scale: number;
  let mantissa = 1n;
  if (format === 'BinarySI') {
    if (!(exponent >= 0 && s.denom.length === 0)) return false;
    mantissa = 1n << BigInt(exponent);
    precision = 15 - s.num.length - Math.trunc(Math.fround(exponent) * 3 / 10) - 1;
    scale = 0;
  } else {
    precision = 18 - digits;
    scale = exponent;
  }
  if (precision < 0) return false;
  scale -= s.denom.length;
  if (scale < -9) return false;
  const shifted = s.num + s.denom;
  const value = BigInt(shifted);
  if (value * mantissa > MAX_ALLOWED) return false;
  if (base === 2) return goMod(exponent, 10) === 0 && (value & 7n) !== 0n;
  return goMod(scale, 3) === 0 && !shifted.endsWith('000') && shifted[0] !== '0';
}

/** value = mant × 10^exp */
interface Dec { mant: bigint; exp: number }

function decFromText(value: string): Dec {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(value);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) throw new QuantityError("unable to parse quantity's numeric part");
  const frac = m[3] ?? '';
  const mant = BigInt(`${m[2] || '0'}${frac}`);
  return { mant: m[1] === '-' ? -mant : mant, exp: -frac.length };
}

const pow10 = (n: number): bigint => 10n ** BigInt(n);
const abs = (n: bigint): bigint => (n < 0n ? -n : n);

/** resource.ParseQuantity(str) then Quantity.MarshalJSON, without the quotes. Throws QuantityError. */
export function canonicalQuantity(input: string): string {
  const str = input;
  if (str.length === 0) throw new QuantityError(QUANTITY_FORMAT_ERROR);
  if (str === '0') return '0';
  const s = split(str);
  const { base, exponent } = interpret(s.suffix);
  let { format } = interpret(s.suffix);
  if (keptAsWritten(s, base, exponent, format)) return str;

  let { mant, exp } = decFromText(s.value);
  if (base === 10) exp += exponent;
  else mant *= 1n << BigInt(exponent);
  // Round non-zero values up (away from zero) to nano precision.
  if (mant !== 0n && exp < -9) {
    const f = pow10(-9 - exp);
    const q = mant / f;
    mant = mant % f === 0n ? q : q + (mant < 0n ? -1n : 1n);
    exp = -9;
  }
  const negative = mant < 0n;
  if (format === 'BinarySI') {
    const magnitude = exp >= 0 ? abs(mant) * pow10(exp) : undefined;
    if (magnitude !== undefined && magnitude > MAX_ALLOWED) {
      mant = negative ? -MAX_ALLOWED : MAX_ALLOWED;
      exp = 0;
    } else if (exp < 0 && abs(mant) > MAX_ALLOWED * pow10(-exp)) {
      mant = negative ? -MAX_ALLOWED : MAX_ALLOWED;
      exp = 0;
    }
  }
  return canonicalize({ mant, exp }, format);
}

/** Quantity.CanonicalizeBytes: number and suffix. */
function canonicalize(d: Dec, formatIn: Format): string {
  if (d.mant === 0n) return '0';
  let format = formatIn;
  if (format === 'BinarySI') {
    const scaledAbs = d.exp >= 0 ? abs(d.mant) * pow10(d.exp) : undefined;
    const integral = scaledAbs !== undefined || d.mant % pow10(-d.exp) === 0n;
    const whole = scaledAbs !== undefined ? (d.mant < 0n ? -scaledAbs : scaledAbs) : d.mant / pow10(-d.exp);
    // Between -1024 and 1024, and when not a whole number, Go falls back to the decimal form.
    if (!integral || (whole > -1024n && whole < 1024n)) {
      format = 'DecimalSI';
    } else {
      let amount = whole;
      let power = 0;
      while (amount % 1024n === 0n && amount !== 0n) {
        amount /= 1024n;
        power++;
      }
      return `${amount}${BINARY_BY_POWER[power] ?? ''}`;
    }
  }
  let { mant, exp } = d;
  while (mant % 10n === 0n) {
    mant /= 10n;
    exp++;
  }
  while (goMod(exp, 3) !== 0) {
    mant *= 10n;
    exp--;
  }
  if (format === 'DecimalExponent') return exp === 0 ? `${mant}` : `${mant}e${exp}`;
  // Beyond E (10^18) Go finds no suffix and writes the number alone.
  return `${mant}${DECIMAL_BY_EXPONENT.get(exp) ?? ''}`;
}
