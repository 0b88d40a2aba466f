import type { MetricsKind } from '../../policy/egress-kinds/egress-kind.types';
import { EgressRejection, METRICS_REJECTION_CODES } from './egress-rejection';
import { checkMetrics, metricValueDomain } from './metrics';

const KIND: MetricsKind = {
  kind: 'metrics',
  format: 'metrics-json',
  maxBytes: 65536,
  metrics: ['froc', 'auc', 'sensitivity', 'specificity', 'precision', 'recall', 'f1', 'loss', 'val_loss', 'accuracy', 'dice'],
  maxSeriesLength: 200,
  significantDigits: 3,
  minCohort: 10,
  maxCohort: 1_000_000,
  exponentRange: [-12, 12],
  review: 'none',
};

const buf = (text: string): Buffer => Buffer.from(text, 'utf8');
const check = (text: string, kind: MetricsKind = KIND) => checkMetrics(buf(text), kind);

function rejectionOf(fn: () => unknown): EgressRejection {
  try {
    fn();
  } catch (err) {
    if (err instanceof EgressRejection) return err;
    throw err;
  }
  throw new Error('expected an EgressRejection');
}

describe('checkMetrics rejections (one per reason code)', () => {
  const covered = new Set<string>();
  /** Asserts code, line and field, and that no submitted value leaks into the message. */
  const reject = (
    input: string | Buffer,
    expected: { code: string; line: number | undefined; field?: string },
    secrets: string[] = [],
    kind: MetricsKind = KIND,
  ): EgressRejection => {
    covered.add(expected.code);
    const r = rejectionOf(() => checkMetrics(typeof input === 'string' ? buf(input) : input, kind));
    expect(r.code).toBe(expected.code);
    expect(r.line).toBe(expected.line);
    if ('field' in expected) expect(r.field).toBe(expected.field);
    for (const secret of secrets) expect(r.message).not.toContain(secret);
    return r;
  };

  it('too_large: more bytes than maxBytes', () => {
    reject(`{"n": 120, "metrics": {"loss": [${Array(40).fill('0.5').join(',')}]}}`, { code: 'too_large', line: undefined }, [], {
      ...KIND,
      maxBytes: 64,
    });
  });

  it('empty: no bytes', () => {
    reject(Buffer.alloc(0), { code: 'empty', line: undefined });
  });

  it('byte_order_mark: a UTF-8 BOM', () => {
    reject(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), buf('{"n": 120, "metrics": {"auc": 0.9}}')]), {
      code: 'byte_order_mark',
      line: 1,
    });
  });

  it('invalid_utf8: bytes that are not UTF-8', () => {
    reject(Buffer.concat([buf('{"n": 120, "metrics": {"a'), Buffer.from([0xc3, 0x28]), buf('": 0.9}}')]), {
      code: 'invalid_utf8',
      line: undefined,
    });
  });

  it('invalid_json: anything RFC 8259 refuses (NaN, Infinity, comments, trailing commas, quotes, leading zeros, garbage)', () => {
    const docs: [string, number][] = [
      ['{"n": 120, "metrics": {"auc": NaN}}', 1],
      ['{"n": 120, "metrics": {"auc": Infinity}}', 1],
      ['{"n": 120, "metrics": {"auc": -Infinity}}', 1],
      ['{"n": 120,\n "metrics": {"auc": 0.91,}\n}', 2],
      ['{"n": 120, "metrics": {"auc": 0.91}} // 0.9876', 1],
      ["{'n': 120, 'metrics': {'auc': 0.91}}", 1],
      ['{"n": 0120, "metrics": {"auc": 0.91}}', 1],
      ['{"n": 120, "metrics": {"auc": .91}}', 1],
      ['{"n": 120, "metrics": {"auc": +0.91}}', 1],
      ['{"n": 120, "metrics": {"auc": 0x1F}}', 1],
      ['{"n": 120,\n\n "metrics": {"auc": 0.91}}\n{"secret": 4242}', 4],
      ['{"n": 120, "metrics": {"auc": 0.91}', 1],
      ['{"n": 120, "metrics": {"auc\t": 0.91}}', 1],
    ];
    for (const [doc, line] of docs) reject(doc, { code: 'invalid_json', line }, ['0.91', '4242', 'secret', '0.9876']);
  });

  it('duplicate_key: the same key twice, also when spelled with escapes', () => {
    reject('{"n": 120, "metrics": {"auc": 0.91}, "n": 5}', { code: 'duplicate_key', line: 1 }, ['120']);
    reject('{"n": 120,\n "\\u006e": 5, "metrics": {"auc": 0.91}}', { code: 'duplicate_key', line: 2 });
    reject('{"n": 120, "metrics": {\n"auc": 0.91,\n"auc": 0.12345}}', { code: 'duplicate_key', line: 3 }, ['0.12345', '0.91']);
  });

  it('wrong_type: a document, n, metrics, value or series element of the wrong JSON type', () => {
    reject('[120, {"auc": 0.91}]', { code: 'wrong_type', line: 1 }, ['0.91']);
    reject('{"n": "120", "metrics": {"auc": 0.91}}', { code: 'wrong_type', line: 1, field: 'n' });
    reject('{"n": 120, "metrics": [0.91]}', { code: 'wrong_type', line: 1, field: 'metrics' });
    reject('{"n": 120, "metrics": {"auc": "0.91"}}', { code: 'wrong_type', line: 1, field: 'metrics.auc' }, ['0.91']);
    reject('{"n": 120, "metrics": {"auc": true}}', { code: 'wrong_type', line: 1, field: 'metrics.auc' });
    reject('{"n": 120, "metrics": {"auc": {"x": 0.91}}}', { code: 'wrong_type', line: 1, field: 'metrics.auc' });
    reject('{"n": 120, "metrics": {\n"loss": [0.93,\nnull]}}', { code: 'wrong_type', line: 3, field: 'metrics.loss' });
    reject('{"n": 120, "metrics": {"loss": [0.93,\n[0.71]]}}', { code: 'wrong_type', line: 2 }, ['0.71']);
  });

  it('unknown_field: a top-level key other than n and metrics', () => {
    reject('{"n": 120, "metrics": {"auc": 0.91},\n "hidden_channel": 31337}', { code: 'unknown_field', line: 2 }, [
      'hidden_channel',
      '31337',
    ]);
  });

  it('missing_field: no n, or no metrics', () => {
    reject('{"metrics": {"auc": 0.91}}', { code: 'missing_field', line: undefined, field: 'n' });
    reject('{"n": 120}', { code: 'missing_field', line: undefined, field: 'metrics' });
  });

  it('unknown_metric: a name that is not on the allow-list', () => {
    reject('{"n": 120, "metrics": {"auc": 0.91,\n "patient_4711_age": 63}}', { code: 'unknown_metric', line: 2 }, [
      'patient_4711_age',
      '4711',
      '63',
    ]);
    reject('{"n": 120, "metrics": {"AUC": 0.91}}', { code: 'unknown_metric', line: 1 }, ['AUC']);
  });

  it('no_metrics: an empty metrics object', () => {
    reject('{"n": 120, "metrics": {}}', { code: 'no_metrics', line: 1, field: 'metrics' });
  });

  it('series_empty: a series with no values', () => {
    reject('{"n": 120, "metrics": {"loss": []}}', { code: 'series_empty', line: 1, field: 'metrics.loss' });
  });

  it('series_too_long: more values than maxSeriesLength', () => {
    const series = (k: number) => `{"n": 120, "metrics": {"loss": [${Array.from({ length: k }, (_, i) => `0.${i + 100}`).join(',')}]}}`;
    expect(check(series(200)).summary.values).toBe(200);
    reject(series(201), { code: 'series_too_long', line: 1, field: 'metrics.loss' }, ['0.300']);
  });

  it('not_an_integer: n with a fraction', () => {
    reject('{"n": 120.5, "metrics": {"auc": 0.91}}', { code: 'not_an_integer', line: 1, field: 'n' }, ['120.5']);
    reject('{"n": 1.205e2, "metrics": {"auc": 0.91}}', { code: 'not_an_integer', line: 1, field: 'n' }, ['1.205e2']);
    reject('{"n": 1e-400, "metrics": {"auc": 0.91}}', { code: 'not_an_integer', line: 1, field: 'n' });
  });

  it('cohort_too_small: n below minCohort (SDC threshold rule), zero or negative', () => {
    reject('{"metrics": {"auc": 0.91},\n"n": 9}', { code: 'cohort_too_small', line: 2, field: 'n' });
    reject('{"n": 0, "metrics": {"auc": 0.91}}', { code: 'cohort_too_small', line: 1, field: 'n' });
    reject('{"n": -9876, "metrics": {"auc": 0.91}}', { code: 'cohort_too_small', line: 1, field: 'n' }, ['9876']);
    expect(check('{"n": 10, "metrics": {"auc": 0.91}}').summary.n).toBe(10);
  });

  it('cohort_too_large: n above maxCohort, however written', () => {
    reject('{"n": 1000001, "metrics": {"auc": 0.91}}', { code: 'cohort_too_large', line: 1, field: 'n' }, ['1000001']);
    reject('{"n": 1e400, "metrics": {"auc": 0.91}}', { code: 'cohort_too_large', line: 1, field: 'n' }, ['1e400']);
    reject('{"n": 123456789012345678901234567890, "metrics": {"auc": 0.91}}', { code: 'cohort_too_large', line: 1, field: 'n' }, [
      '12345678901',
    ]);
  });

  it('out_of_range: a rounded value outside 1e-12 ≤ |x| < 1e13', () => {
    reject('{"n": 120, "metrics": {"loss": 1.234e13}}', { code: 'out_of_range', line: 1, field: 'metrics.loss' }, ['1.234e13']);
    reject('{"n": 120, "metrics": {"loss": 9.996e12}}', { code: 'out_of_range', line: 1, field: 'metrics.loss' }, ['9.996e12']);
    reject('{"n": 120, "metrics": {"loss": [0.5,\n-9.87e-13]}}', { code: 'out_of_range', line: 2, field: 'metrics.loss' }, ['9.87e-13']);
    reject('{"n": 120, "metrics": {"loss": 1e999999999999}}', { code: 'out_of_range', line: 1, field: 'metrics.loss' });
    // Inside after rounding: 9.9951e-13 → 1.00e-12; 9.994e12 → 9.99e12; zero is always fine.
    reject('{"n": 120, "metrics": {"loss": 1e-999}}', { code: 'out_of_range', line: 1, field: 'metrics.loss' });
    expect(check('{"n": 120, "metrics": {"loss": [9.9951e-13, 9.994e12, 0, 0e999]}}').canonical.toString()).toBe(
      '{"metrics":{"loss":[1e-12,9990000000000,0,0]},"n":120}',
    );
  });

  it('covers every metrics reason code', () => {
    expect([...covered].sort()).toEqual([...METRICS_REJECTION_CODES].sort());
  });
});

describe('checkMetrics canonical form', () => {
  const reference = '{"n": 120, "metrics": {"froc": 0.8123, "auc": 0.91, "loss": [0.93, 0.71, 0.64]}}';

  it('writes sorted keys, no whitespace, values rounded to significant digits', () => {
    const out = check(reference);
    expect(out.canonical.toString()).toBe('{"metrics":{"auc":0.91,"froc":0.812,"loss":[0.93,0.71,0.64]},"n":120}');
    expect(out.rows).toBe(3);
    expect(out.summary).toEqual({ n: 120, metrics: 3, values: 5 });
  });

  it('is byte-identical, with equal bits, whatever the key order, whitespace, spelling or low-order digits', () => {
    const base = check(reference);
    for (const variant of [
      '{"metrics":{"loss":[0.93,0.71,0.64],"auc":0.91,"froc":0.8123},"n":120}',
      '\r\n{\n\t"metrics" : {\n\t\t"loss" : [ 9.3e-1 , 0.7100 , 0.64049 ],\n\t\t"auc":0.910000001,\n\t\t"froc": 0.81249\n\t},\n\t"n": 1.2e2\n}\n',
      '{"n": 120.0, "metrics": {"\\u0066roc": 0.8115, "a\\u0075c": 0.9095, "loss": [0.92999, 710E-3, 0.6395]}}',
      '{"n": 12E1, "metrics": {"froc": 0.81200000000000000000001, "auc": 91e-2, "loss": [0.9300, 0.71, 0.640]}}',
    ]) {
      const out = check(variant);
      expect(out.canonical.equals(base.canonical)).toBe(true);
      expect(out.bits).toBe(base.bits);
      expect(out.summary).toEqual(base.summary);
    }
  });

  it('spells equal numbers one way: 0.50 / 0.5, 1.0 / 1, -0 / 0', () => {
    const a = check('{"n": 20, "metrics": {"auc": 0.50, "f1": 1.0, "loss": -0, "dice": -0.000e5}}');
    const b = check('{"n": 20, "metrics": {"auc": 0.5, "f1": 1, "loss": 0, "dice": 0}}');
    expect(a.canonical.equals(b.canonical)).toBe(true);
    expect(a.canonical.toString()).toBe('{"metrics":{"auc":0.5,"dice":0,"f1":1,"loss":0},"n":20}');
  });

  it('rounds halves away from zero on the written digits, carrying into the exponent', () => {
    const out = check(
      '{"n": 20, "metrics": {"auc": 0.8125, "f1": -0.8125, "loss": 9.995, "dice": 0.00012345, "precision": 1234567, "recall": 1.23456e-7, "accuracy": 1.2e12}}',
    );
    expect(JSON.parse(out.canonical.toString())).toEqual({
      n: 20,
      metrics: { auc: 0.813, f1: -0.813, loss: 10, dice: 0.000123, precision: 1230000, recall: 1.23e-7, accuracy: 1.2e12 },
    });
    expect(out.canonical.toString()).toBe(
      '{"metrics":{"accuracy":1200000000000,"auc":0.813,"dice":0.000123,"f1":-0.813,"loss":10,"precision":1230000,"recall":1.23e-7},"n":20}',
    );
  });
});

describe('checkMetrics information bits', () => {
  // n: 10..17 → 8 values (3 bits). Two allowed names: 2 presence bits. A present metric's shape
  // is a scalar or a series of 1..3 values: log2 4 = 2 bits. One significant digit, exponent 0
  // only: ±1..9 and 0 → 19 values, log2 19 = 4.247927513443585 bits each.
  const kind: MetricsKind = {
    ...KIND,
    metrics: ['auc', 'loss'],
    maxSeriesLength: 3,
    significantDigits: 1,
    exponentRange: [0, 0],
    minCohort: 10,
    maxCohort: 17,
  };

  it('has the documented value domain', () => {
    expect(metricValueDomain(kind)).toBe(19);
    expect(metricValueDomain(KIND)).toBe(2 * 9 * 100 * 25 + 1);
  });

  it('charges 3 + 2 + (2 + 4.2479) + (2 + 2 × 4.2479) = 21.74378… → 21.744', () => {
    expect(check('{"n": 12, "metrics": {"auc": 1, "loss": [3, 2]}}', kind).bits).toBe(21.744);
  });

  it('charges an absent metric its presence bit only: 3 + 2 + 2 + 4.2479 = 11.24792… → 11.248', () => {
    expect(check('{"n": 12, "metrics": {"auc": -9}}', kind).bits).toBe(11.248);
  });

  it('charges the shipped kind log2(999991) + 11 + log2(201) + log2(45001) = 54.0402… → 54.041 for one value', () => {
    expect(check('{"n": 120, "metrics": {"auc": 0.91}}').bits).toBe(54.041);
  });
});
