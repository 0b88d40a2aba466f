import { canonicalJson } from '../../audit/audit-leaf';
import { type ScientificDecimal, parseScientific, roundSignificant, scientificToNumber } from './decimal';
import type { CheckedArtifact, MetricsKind } from '../../policy/egress-kinds/egress-kind.types';
import { EgressRejection, type EgressRejectionCode } from './egress-rejection';
import { roundBitsUp } from './information-bits';
import { type JsonNode, type JsonObjectNode, StrictJsonError, parseStrictJson } from '../../policy/egress-kinds/strict-json';
import { decodeTextSubmission } from './text-submission';

/** The document is at most {"metrics": {"name": [number]}}: three levels. */
const MAX_DEPTH = 3;

function reject(code: EgressRejectionCode, line: number | undefined, detail: string, field?: string): never {
  throw new EgressRejection(code, detail, { line, field });
}

function parse(text: string): JsonNode {
  try {
    return parseStrictJson(text, MAX_DEPTH);
  } catch (err) {
    if (!(err instanceof StrictJsonError)) throw err;
    if (err.problem === 'duplicate_key') reject('duplicate_key', err.line, 'an object has the same key twice');
    // Deeper than {"metrics": {"name": [number]}} can only be a value of the wrong type.
    if (err.problem === 'too_deep') reject('wrong_type', err.line, 'a value is nested deeper than the expected shape');
    // StrictJsonError messages are fixed text, never content.
    return reject('invalid_json', err.line, `not valid JSON (${err.message})`);
  }
}

function objectOf(node: JsonNode, field: string | undefined, what: string): JsonObjectNode {
  if (node.type !== 'object') reject('wrong_type', node.line, `${what} must be a JSON object`, field);
  return node;
}

/** Value count of one rounded metric: ±(9 × 10^(s−1) mantissas) × E exponents, plus zero. */
export function metricValueDomain(kind: MetricsKind): number {
  const [lo, hi] = kind.exponentRange;
  return 2 * 9 * 10 ** (kind.significantDigits - 1) * (hi - lo + 1) + 1;
}

/**
 * Checks a metrics JSON document against `kind` and rewrites it canonically. Security rules:
 * `n` below minCohort is refused (SDC threshold rule); only allow-listed names leave; values
 * are rounded to a few significant digits and printed by canonicalJson, so spelling, key order,
 * whitespace and digits below the rounding cannot carry information; duplicate keys are refused
 * rather than resolved (JSON.parse would keep the last, hiding the first from review).
 */
export function checkMetrics(bytes: Buffer, kind: MetricsKind): CheckedArtifact {
  const text = decodeTextSubmission(bytes, kind.maxBytes);
  const root = objectOf(parse(text), undefined, 'the document');

  for (const [key, entry] of root.entries) {
    if (key !== 'n' && key !== 'metrics') reject('unknown_field', entry.keyLine, 'only "n" and "metrics" are allowed at the top level');
  }
  const nEntry = root.entries.get('n');
  if (nEntry === undefined) reject('missing_field', undefined, '"n" (the cohort size) is missing', 'n');
  const metricsEntry = root.entries.get('metrics');
  if (metricsEntry === undefined) reject('missing_field', undefined, '"metrics" is missing', 'metrics');

  const n = cohortSize(nEntry.value, kind);
  const metricsNode = objectOf(metricsEntry.value, 'metrics', '"metrics"');
  if (metricsNode.entries.size === 0) reject('no_metrics', metricsNode.line, '"metrics" is empty', 'metrics');

  const allowed = new Set(kind.metrics);
  const metrics: [string, number | number[]][] = [];
  let values = 0;
  let bits = Math.log2(kind.maxCohort - kind.minCohort + 1) + kind.metrics.length; // n; one presence bit per allowed name
  const shapeBits = Math.log2(kind.maxSeriesLength + 1); // a scalar, or a series of 1..L values
  const valueBits = Math.log2(metricValueDomain(kind));
  for (const [name, { keyLine, value }] of metricsNode.entries) {
    if (!allowed.has(name)) reject('unknown_metric', keyLine, 'a metric name is not on the allow-list', 'metrics');
    const field = `metrics.${name}`;
    let rounded: number | number[];
    if (value.type === 'array') {
      if (value.items.length === 0) reject('series_empty', value.line, 'a series must have at least one value', field);
      if (value.items.length > kind.maxSeriesLength) {
        reject('series_too_long', value.line, `a series has more than the kind's limit of ${kind.maxSeriesLength} values`, field);
      }
      rounded = value.items.map((item) => metricValue(item, kind, field));
    } else {
      rounded = metricValue(value, kind, field);
    }
    const count = Array.isArray(rounded) ? rounded.length : 1;
    values += count;
    bits += shapeBits + count * valueBits;
    metrics.push([name, rounded]);
  }

  const canonical = canonicalJson({ n, metrics: Object.fromEntries(metrics) });
  return {
    canonical: Buffer.from(canonical, 'utf8'),
    bits: roundBitsUp(bits),
    rows: metrics.length,
    summary: { n, metrics: metrics.length, values },
  };
}

function cohortSize(node: JsonNode, kind: MetricsKind): number {
  if (node.type !== 'number') reject('wrong_type', node.line, '"n" must be a number', 'n');
  const d = parseScientific(node.raw);
  // An integer whatever its spelling (120, 120.0, 1.2e2); its exponent bounds its size.
  if (d.digits !== '' && d.digits.length - 1 > d.exponent) reject('not_an_integer', node.line, '"n" must be an integer', 'n');
  // 10^15 and up is above any maxCohort (the kind schema caps it at 10^12), whatever the digits.
  const value = d.digits === '' ? 0 : d.exponent >= 15 ? Infinity : scientificToNumber(d);
  if (d.negative || value < kind.minCohort) {
    reject('cohort_too_small', node.line, `"n" is below the kind's minimum cohort of ${kind.minCohort}`, 'n');
  }
  if (value > kind.maxCohort) reject('cohort_too_large', node.line, `"n" is above the kind's maximum cohort of ${kind.maxCohort}`, 'n');
  return value;
}

function metricValue(node: JsonNode, kind: MetricsKind, field: string): number {
  if (node.type !== 'number') reject('wrong_type', node.line, 'a metric must be a number or an array of numbers', field);
  const r: ScientificDecimal = roundSignificant(parseScientific(node.raw), kind.significantDigits);
  const [lo, hi] = kind.exponentRange;
  if (r.digits !== '' && !(r.exponent >= lo && r.exponent <= hi)) {
    reject('out_of_range', node.line, `a value's magnitude is outside 1e${lo} ≤ |x| < 1e${hi + 1} after rounding`, field);
  }
  return scientificToNumber(r);
}
