/**
 * Exact decimal arithmetic for canonical rounding. Rounding is done on the digits as written,
 * not on the nearest binary double, so "round half away from zero" means exactly that
 * (0.25 mm → 0.5 mm with a 0.5 mm quantum, 0.8125 → 0.813) and the result depends only on the
 * submitted number's value.
 */

/** |value| = units / 10^scale. Zero is never negative. */
export interface ExactDecimal {
  readonly negative: boolean;
  readonly units: bigint;
  readonly scale: number;
}

/** JSON number grammar (RFC 8259), which also covers every `String(number)` of a finite double. */
const NUMBER_RE = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;
/** Exponents beyond this are refused by parseDecimal: they would make huge BigInts. */
const MAX_EXACT_EXPONENT = 400;

const POWERS_OF_TEN: bigint[] = [];
function pow10(n: number): bigint {
  if (n < 64) return (POWERS_OF_TEN[n] ??= 10n ** BigInt(n));
  return 10n ** BigInt(n);
}

/** Parses a JSON-grammar number exactly. Throws RangeError on anything else. */
export function parseDecimal(text: string): ExactDecimal {
  const m = NUMBER_RE.exec(text);
  if (!m) throw new RangeError('not a decimal number');
  const [, sign, int, frac = '', expText = '0'] = m;
  const exp = Number(expText);
  if (!(Math.abs(exp) <= MAX_EXACT_EXPONENT)) throw new RangeError('exponent too large for exact arithmetic');
  let units = BigInt(int + frac);
  let scale = frac.length - exp;
  if (scale < 0) {
    units *= pow10(-scale);
    scale = 0;
  }
  return { negative: sign === '-' && units !== 0n, units, scale };
}

/** The exact decimal of a finite double's shortest round-trip spelling. */
export function decimalFromNumber(n: number): ExactDecimal {
  if (!Number.isFinite(n)) throw new RangeError('not a finite number');
  return parseDecimal(String(n));
}

/** Drops trailing fraction zeros: 0.50 → 0.5, 2.0 → 2. */
export function normalizeDecimal(d: ExactDecimal): ExactDecimal {
  let { units, scale } = d;
  while (scale > 0 && units % 10n === 0n) {
    units /= 10n;
    scale--;
  }
  return { negative: d.negative, units, scale };
}

/** value / quantum rounded to an integer, halves away from zero. quantum must be > 0. */
export function roundToMultiple(value: ExactDecimal, quantum: ExactDecimal): bigint {
  // value / quantum = (v.units / 10^v.scale) / (q.units / 10^q.scale)
  //                 = (v.units × 10^q.scale) / (q.units × 10^v.scale)
  const num = value.units * pow10(quantum.scale);
  const den = quantum.units * pow10(value.scale);
  let steps = num / den;
  if (2n * (num % den) >= den) steps += 1n;
  return value.negative ? -steps : steps;
}

/**
 * roundToMultiple for a plain decimal token (`-?digits(.digits)?`, already validated) and a
 * small quantum, as a Number. Exact: integers below 2^53 take a Number fast path (products,
 * `%` and exact quotients of safe integers are exact in binary floating point); anything
 * larger falls back to BigInt. A result beyond 2^53 comes back approximate but still beyond
 * any safe bound it is compared with.
 */
export function roundPlainToMultiple(text: string, quantum: ExactDecimal): number {
  const negative = text.charCodeAt(0) === 45; /* '-' */
  const body = negative ? text.slice(1) : text;
  const dot = body.indexOf('.');
  const digits = dot < 0 ? body : body.slice(0, dot) + body.slice(dot + 1);
  const scale = dot < 0 ? 0 : body.length - dot - 1;
  const qUnits = Number(quantum.units);
  if (digits.length <= 15 && quantum.scale <= 22 && scale <= 22 && Number.isSafeInteger(qUnits)) {
    const num = Number(digits) * 10 ** quantum.scale;
    const den = qUnits * 10 ** scale;
    if (Number.isSafeInteger(num) && Number.isSafeInteger(den)) {
      const rem = num % den;
      let steps = (num - rem) / den;
      if (2 * rem >= den) steps += 1;
      return negative && steps !== 0 ? -steps : steps;
    }
  }
  return Number(roundToMultiple({ negative, units: BigInt(digits), scale }, quantum));
}

/** Prints units / 10^scale (units a safe integer) with exactly `scale` decimals; never "-0". */
export function formatScaled(units: number, scale: number): string {
  const negative = units < 0;
  const digits = String(negative ? -units : units).padStart(scale + 1, '0');
  const body = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return negative ? `-${body}` : body;
}

/**
 * A number in scientific form without materializing it: value = ±d.ddd × 10^exponent where
 * `digits` has no leading or trailing zeros. Zero has digits ''. `exponent` may be huge (or
 * ±Infinity) for absurd spellings like 1e999999999; that is for range checks to refuse.
 */
export interface ScientificDecimal {
  readonly negative: boolean;
  readonly digits: string;
  readonly exponent: number;
}

export const SCIENTIFIC_ZERO: ScientificDecimal = Object.freeze({ negative: false, digits: '', exponent: 0 });

/** Parses a JSON-grammar number into scientific form. Throws RangeError on anything else. */
export function parseScientific(text: string): ScientificDecimal {
  const m = NUMBER_RE.exec(text);
  if (!m) throw new RangeError('not a decimal number');
  const [, sign, int, frac = '', expText = '0'] = m;
  const all = int + frac;
  let first = 0;
  while (first < all.length && all.charCodeAt(first) === 48) first++;
  if (first === all.length) return SCIENTIFIC_ZERO;
  let last = all.length;
  while (all.charCodeAt(last - 1) === 48) last--;
  return { negative: sign === '-', digits: all.slice(first, last), exponent: int.length - 1 - first + Number(expText) };
}

/** Rounds to `significant` digits (1..15), halves away from zero. Zero stays zero. */
export function roundSignificant(d: ScientificDecimal, significant: number): ScientificDecimal {
  if (d.digits.length <= significant) return d;
  let kept = d.digits.slice(0, significant);
  let exponent = d.exponent;
  if (d.digits.charCodeAt(significant) >= 53 /* '5' */) {
    const up = String(Number(kept) + 1); // exact: at most 15 digits
    if (up.length > significant) {
      kept = '1';
      exponent += 1;
    } else {
      kept = up;
    }
  }
  return { negative: d.negative, digits: kept.replace(/0+$/, ''), exponent };
}

/**
 * The double nearest to d. For d with at most 15 significant digits and a normal exponent,
 * the shortest spelling of that double (what JSON.stringify prints) is d itself, so equal
 * decimals print identically and different ones differently.
 */
export function scientificToNumber(d: ScientificDecimal): number {
  if (d.digits === '') return 0;
  return Number(`${d.negative ? '-' : ''}${d.digits[0]}.${d.digits.slice(1) || '0'}e${d.exponent}`);
}
