import { Readable } from 'node:stream';
import fc from 'fast-check';
import { BadRangeError, parseRange, resolveRange } from '../src/data-plane/byte-range';
import { BadKeyError, decodePathSegment, validateObjectKey } from '../src/data-plane/object-key';
import { type WorldBoundingBox } from '../src/datasets/metaimage-header';
import { EgressRejection } from '../src/egress/kinds/egress-rejection';
import { checkMetrics } from '../src/egress/kinds/metrics';
import { checkPredictions, PREDICTIONS_HEADER } from '../src/egress/kinds/predictions';
import { type MetricsKind, type PredictionsKind } from '../src/policy/egress-kinds/egress-kind.types';
import { AwsChunkedDecoder, ChunkedPayloadError, chunkSignature } from '../src/s3-api/sigv4/aws-chunked';
import { signingKey, uriEncode } from '../src/s3-api/sigv4/canonical-request';

/*
 * Property-based tests (fast-check) of the parsers a job's input reaches (issue 15): whatever a
 * job sends, each parser answers with its own refusal — never a crash, never another error — and
 * what it accepts it has made canonical: checking the released bytes again gives the same bytes,
 * so no spelling of an input changes what leaves. Seeds are printed on failure; FC_RUNS scales
 * the run count.
 */
const RUNS = Number(process.env.FC_RUNS ?? 300);
const params = { numRuns: RUNS };

/** Runs fn; an error of one of the expected classes is a refusal, anything else fails the property. */
function refusedOrOk<T>(fn: () => T, ...refusals: (abstract new (...args: never[]) => Error)[]): T | 'refused' {
  try {
    return fn();
  } catch (err) {
    if (refusals.some((r) => err instanceof r)) return 'refused';
    throw err;
  }
}

describe('byte ranges and object keys', () => {
  it('answers any Range header with a range inside the object or a refusal', () => {
    const header = fc.oneof(
      fc.string(),
      fc.tuple(fc.nat(), fc.option(fc.nat())).map(([a, b]) => `bytes=${a}-${b ?? ''}`),
      fc.nat().map((n) => `bytes=-${n}`),
      fc.tuple(fc.string(), fc.string()).map(([a, b]) => `bytes=${a}-${b}`),
    );
    fc.assert(
      fc.property(header, fc.nat({ max: 1 << 30 }), (h, size) => {
        const r = refusedOrOk(() => parseRange(h), BadRangeError);
        if (r === 'refused' || r === undefined) return;
        const resolved = resolveRange(r, size);
        if (resolved === undefined) return;
        expect(resolved.start).toBeGreaterThanOrEqual(0);
        expect(resolved.end).toBeGreaterThanOrEqual(resolved.start);
        expect(resolved.end).toBeLessThan(size);
      }),
      params,
    );
  });

  it('answers any object key or path segment with the key itself or a refusal', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.webPath()), (s) => {
        const key = refusedOrOk(() => validateObjectKey(s), BadKeyError);
        if (key !== 'refused') expect(key).toBe(s);
        refusedOrOk(() => decodePathSegment(s, 'key'), BadKeyError);
      }),
      params,
    );
  });

  it('encodes any key so that decoding gives it back (SigV4 canonical URIs)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        // Lone surrogates have no UTF-8 form: no client can send them.
        if (!/[\uD800-\uDFFF]/.test(s.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ''))) expect(decodeURIComponent(uriEncode(s))).toBe(s);
      }),
      params,
    );
  });
});

const METRICS: MetricsKind = {
  kind: 'metrics',
  format: 'metrics-json',
  maxBytes: 65536,
  metrics: ['froc', 'auc', 'loss', 'dice'],
  maxSeriesLength: 20,
  significantDigits: 3,
  minCohort: 10,
  maxCohort: 1_000_000,
  exponentRange: [-12, 12],
  review: 'none',
};

describe('metrics JSON', () => {
  /** A number as a client might spell it: plain, exponent, trailing zeros, a sign. */
  const spelled = (x: number): fc.Arbitrary<string> =>
    fc.oneof(
      { weight: 6, arbitrary: fc.constant(String(x)) },
      { weight: 1, arbitrary: fc.constantFrom(x.toExponential(), x.toFixed(6), x >= 0 ? `+${x}` : String(x), `${x}`.replace(/^0\./, '.')) },
    );
  const value: fc.Arbitrary<string> = fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: -1_000_000, max: 1_000_000 }).chain((i) => spelled(i / 1000)) },
    {
      weight: 2,
      arbitrary: fc
        .array(
          fc.integer({ min: 0, max: 10_000 }).map((i) => i / 10_000),
          { minLength: 1, maxLength: 25 },
        )
        .map((xs) => `[${xs.join(', ')}]`),
    },
    { weight: 1, arbitrary: fc.constantFrom('NaN', 'null', '"0.5"', '1e400', '-0', '[]', '{}') },
  );
  const names: fc.Arbitrary<string[]> = fc.oneof(
    { weight: 9, arbitrary: fc.uniqueArray(fc.constantFrom('auc', 'froc', 'loss', 'dice'), { minLength: 1, maxLength: 4 }) },
    { weight: 1, arbitrary: fc.array(fc.constantFrom('auc', 'x', 'auc'), { maxLength: 3 }) },
  );
  const entries: fc.Arbitrary<[string, string][]> = names.chain((ks) =>
    fc.tuple(...ks.map((k) => value.map((v): [string, string] => [k, v]))),
  );
  const cohort: fc.Arbitrary<string> = fc.oneof(
    { weight: 9, arbitrary: fc.integer({ min: 1, max: 2_000_000 }).map(String) },
    { weight: 1, arbitrary: fc.constantFrom('10.0', '1e1', '"12"', '-5') },
  );
  const document: fc.Arbitrary<string> = fc
    .tuple(cohort, entries, fc.constantFrom('', ' ', '\n', '\t'), fc.boolean())
    .map(([n, metrics, ws, metricsFirst]) => {
      const inner = `{${metrics.map(([k, v]) => `${ws}"${k}"${ws}:${ws}${v}`).join(',')}}`;
      const fields = [`"n":${ws}${n}`, `"metrics":${ws}${inner}`];
      return `${ws}{${(metricsFirst ? fields.reverse() : fields).join(`,${ws}`)}}${ws}`;
    });
  // Plus a few documents of any shape, and any text.
  const text = fc.oneof({ weight: 8, arbitrary: document }, { weight: 1, arbitrary: fc.json() }, { weight: 1, arbitrary: fc.string() });

  it('refuses or canonicalizes any document, and its canonical form checks to itself', () => {
    let accepted = 0;
    fc.assert(
      fc.property(text, (t) => {
        const checked = refusedOrOk(() => checkMetrics(Buffer.from(t), METRICS), EgressRejection);
        if (checked === 'refused') return;
        accepted++;
        const again = checkMetrics(checked.canonical, METRICS);
        expect(again.canonical.equals(checked.canonical)).toBe(true);
        expect(again.bits).toBe(checked.bits);
      }),
      params,
    );
    // Not vacuous: some of what was generated was accepted.
    process.stdout.write(`metrics: ${accepted} of ${RUNS} generated documents accepted\n`);
    expect(accepted).toBeGreaterThan(0);
  });
});

const PREDICTIONS: PredictionsKind = {
  kind: 'predictions',
  format: 'predictions-csv',
  maxBytes: 16 * 1024 * 1024,
  maxRows: 1000,
  maxCandidatesPerScan: 50,
  coordinateQuantumMm: 0.5,
  probabilityDecimals: 3,
  review: 'none',
};
const SCAN = '1.3.6.1.4.1.14519.5.2.1.6279.6001.100225287222365663678666836860';
const SCANS: ReadonlyMap<string, WorldBoundingBox> = new Map([[SCAN, { min: [-195, -195, -378], max: [188.25, 188.25, -78] }]]);

describe('predictions CSV', () => {
  /** Inside the scan's box (x, y in [-195, 188], z in [-378, -78]), spelled as a client might. */
  const coordinate = (lo: number, hi: number): fc.Arbitrary<string> =>
    fc.oneof(
      { weight: 40, arbitrary: fc.integer({ min: lo * 1000, max: hi * 1000 }).map((i) => String(i / 1000)) },
      { weight: 1, arbitrary: fc.integer({ min: lo, max: hi }).map((x) => x.toExponential()) },
      { weight: 1, arbitrary: fc.constantFrom('1e2', '-0', '+1', '0x10', ' 1', '1.', '.5', 'NaN', 'Infinity', '', '9999') },
    );
  const probability: fc.Arbitrary<string> = fc.oneof(
    { weight: 40, arbitrary: fc.integer({ min: 0, max: 10_000 }).map((i) => String(i / 10_000)) },
    { weight: 1, arbitrary: fc.constantFrom('1.0', '0.50', '1.5', '-0.1', 'NaN') },
  );
  const row: fc.Arbitrary<string> = fc
    .tuple(
      fc.oneof({ weight: 40, arbitrary: fc.constant(SCAN) }, { weight: 1, arbitrary: fc.constantFrom(`${SCAN} `, '1.2.3', '') }),
      coordinate(-195, 188),
      coordinate(-195, 188),
      coordinate(-378, -78),
      probability,
    )
    .map((cells) => cells.join(','));
  const body = fc
    .tuple(fc.array(row, { maxLength: 12 }), fc.constantFrom('\n', '\r\n'), fc.boolean())
    .map(([rows, eol, trailing]) => Buffer.from([PREDICTIONS_HEADER, ...rows].join(eol) + (trailing ? eol : '')));

  it('refuses or canonicalizes any file, and its canonical form checks to itself', () => {
    let accepted = 0;
    fc.assert(
      fc.property(
        fc.oneof({ weight: 9, arbitrary: body }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 2000 }).map((b) => Buffer.from(b)) }),
        (bytes) => {
          const checked = refusedOrOk(() => checkPredictions(bytes, PREDICTIONS, SCANS), EgressRejection);
          if (checked === 'refused') return;
          accepted++;
          const again = checkPredictions(checked.canonical, PREDICTIONS, SCANS);
          expect(again.canonical.equals(checked.canonical)).toBe(true);
          expect(again.bits).toBe(checked.bits);
        },
      ),
      params,
    );
    process.stdout.write(`predictions: ${accepted} of ${RUNS} generated files accepted\n`);
    expect(accepted).toBeGreaterThan(0);
  });
});

describe('aws-chunked uploads', () => {
  const KEY = signingKey('secret/key', '20261126', 'us-east-1', 's3');
  const DATE = '20261126T120000Z';
  const SCOPE = '20261126/us-east-1/s3/aws4_request';
  const SEED = 'a'.repeat(64);

  function encode(parts: Buffer[]): Buffer {
    let previous = SEED;
    const out: Buffer[] = [];
    for (const data of [...parts, Buffer.alloc(0)]) {
      const signature = chunkSignature(KEY, DATE, SCOPE, previous, data);
      out.push(Buffer.from(`${data.length.toString(16)};chunk-signature=${signature}\r\n`), data, Buffer.from('\r\n'));
      previous = signature;
    }
    return Buffer.concat(out);
  }

  async function decode(body: Buffer, length: number, cuts: number[]): Promise<Buffer | 'refused'> {
    const pieces: Buffer[] = [];
    let at = 0;
    for (const c of [...cuts.map((x) => x % (body.length + 1)).sort((a, b) => a - b), body.length]) {
      pieces.push(body.subarray(at, Math.max(at, c)));
      at = Math.max(at, c);
    }
    const decoder = new AwsChunkedDecoder({
      decodedContentLength: length,
      chain: { signingKey: KEY, amzDate: DATE, scope: SCOPE, seedSignature: SEED },
    });
    const out: Buffer[] = [];
    try {
      for await (const c of Readable.from(pieces.filter((p) => p.length > 0)).pipe(decoder)) out.push(c as Buffer);
    } catch (err) {
      if (err instanceof ChunkedPayloadError) return 'refused';
      throw err;
    }
    return Buffer.concat(out);
  }

  it('decodes a signed body exactly, however it is split, and refuses it with any byte changed', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 64 }), { maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        async (parts, cuts, where, flip) => {
          const data = parts.map((p) => Buffer.from(p));
          const body = encode(data);
          const payload = Buffer.concat(data);
          const decoded = await decode(body, payload.length, cuts);
          expect(decoded).not.toBe('refused');
          expect((decoded as Buffer).equals(payload)).toBe(true);
          const tampered = Buffer.from(body);
          tampered[where % tampered.length] ^= flip;
          const outcome = await decode(tampered, payload.length, cuts);
          // A changed byte is refused, or (in a chunk-size's spelling, e.g. a hex digit's case)
          // it changes nothing that is released.
          if (outcome !== 'refused') expect(outcome.equals(payload)).toBe(true);
        },
      ),
      { numRuns: Math.max(50, Math.floor(RUNS / 3)) },
    );
  });

  it('answers any bytes with a refusal or a decoding, never a crash', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 600 }),
        fc.nat({ max: 600 }),
        fc.array(fc.nat(), { maxLength: 4 }),
        async (bytes, length, cuts) => {
          await decode(Buffer.from(bytes), length, cuts);
        },
      ),
      { numRuns: Math.max(50, Math.floor(RUNS / 3)) },
    );
  });
});
