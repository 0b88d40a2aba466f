import type { WorldBoundingBox } from '../../datasets/metaimage-header';
import type { PredictionsKind } from '../../policy/egress-kinds/egress-kind.types';
import { EgressRejection, PREDICTIONS_REJECTION_CODES } from './egress-rejection';
import { MAX_LINE_CHARS, MAX_NUMBER_CHARS, PREDICTIONS_HEADER, PredictionsChecker, checkPredictions } from './predictions';

const KIND: PredictionsKind = {
  kind: 'predictions',
  format: 'predictions-csv',
  maxBytes: 16 * 1024 * 1024,
  maxRows: 100_000,
  maxCandidatesPerScan: 500,
  coordinateQuantumMm: 0.5,
  probabilityDecimals: 3,
  review: 'none',
};

const SCAN_A = '1.3.6.1.4.1.14519.5.2.1.6279.6001.100225287222365663678666836860';
const SCAN_B = '1.3.6.1.4.1.14519.5.2.1.6279.6001.979083010707182900091062408058';
/** A series of another split (train): must be refused exactly like one that does not exist. */
const TRAIN_SCAN = '1.3.6.1.4.1.14519.5.2.1.6279.6001.105756658031515062000744821260';

/** LUNA16-like boxes of voxel centres: 512×512×121 at 0.75×0.75×2.5 mm, and a small one. */
const SCANS: ReadonlyMap<string, WorldBoundingBox> = new Map([
  [SCAN_A, { min: [-195, -195, -378], max: [188.25, 188.25, -78] }],
  [SCAN_B, { min: [-100, -100, -100], max: [100, 100, 100] }],
]);

function csv(rows: string[], eol = '\n', trailing = true): Buffer {
  return Buffer.from([PREDICTIONS_HEADER, ...rows].join(eol) + (trailing ? eol : ''), 'utf8');
}

function rejectionOf(fn: () => unknown): EgressRejection {
  try {
    fn();
  } catch (err) {
    if (err instanceof EgressRejection) return err;
    throw err;
  }
  throw new Error('expected an EgressRejection');
}

/** Asserts code, line and field, and that no submitted value leaks into the message. */
function expectRejected(
  bytes: Buffer,
  expected: { code: string; line: number | undefined; field?: string },
  secrets: string[] = [],
  kind: PredictionsKind = KIND,
): EgressRejection {
  const r = rejectionOf(() => checkPredictions(bytes, kind, SCANS));
  expect(r.code).toBe(expected.code);
  expect(r.line).toBe(expected.line);
  if ('field' in expected) expect(r.field).toBe(expected.field);
  for (const secret of secrets) expect(r.message).not.toContain(secret);
  if (expected.line !== undefined) expect(r.message).toMatch(new RegExp(`^line ${expected.line}: `));
  return r;
}

const GOOD_ROW = `${SCAN_A},-10.5,20,-100,0.5`;

describe('checkPredictions rejections (one per reason code)', () => {
  const covered = new Set<string>();
  const reject = (
    bytes: Buffer,
    expected: { code: string; line: number | undefined; field?: string },
    secrets: string[] = [],
    kind = KIND,
  ) => {
    covered.add(expected.code);
    return expectRejected(bytes, expected, secrets, kind);
  };

  it('too_large: more bytes than maxBytes', () => {
    reject(csv([GOOD_ROW, GOOD_ROW]), { code: 'too_large', line: undefined }, [], { ...KIND, maxBytes: 100 });
  });

  it('empty: no bytes at all', () => {
    reject(Buffer.alloc(0), { code: 'empty', line: undefined });
  });

  it('byte_order_mark: a UTF-8 BOM before the header', () => {
    reject(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), csv([GOOD_ROW])]), { code: 'byte_order_mark', line: 1 });
  });

  it('invalid_utf8: bytes that are not UTF-8', () => {
    const bytes = Buffer.concat([csv([]), Buffer.from([0xff, 0xfe]), Buffer.from(',1,2,3,0.5\n')]);
    reject(bytes, { code: 'invalid_utf8', line: undefined });
  });

  it('control_character: a tab, NUL or stray CR inside a line', () => {
    reject(csv([GOOD_ROW, `${SCAN_A},\t12.75,20,-100,0.5`]), { code: 'control_character', line: 3 }, ['12.75']);
    reject(csv([`${SCAN_A},12.75\0,20,-100,0.5`]), { code: 'control_character', line: 2 }, ['12.75']);
    reject(csv([`${SCAN_A},12.75\r,20,-100,0.5`]), { code: 'control_character', line: 2 }, ['12.75']);
  });

  it('inconsistent_line_endings: CRLF and LF mixed, either way round', () => {
    const crlfThenLf = Buffer.from(`${PREDICTIONS_HEADER}\r\n${GOOD_ROW}\r\n${SCAN_A},1,2,-100,0.25\n`);
    reject(crlfThenLf, { code: 'inconsistent_line_endings', line: 3 }, ['0.25']);
    const lfThenCrlf = Buffer.from(`${PREDICTIONS_HEADER}\n${GOOD_ROW}\r\n`);
    reject(lfThenCrlf, { code: 'inconsistent_line_endings', line: 2 });
    const trailingCr = Buffer.from(`${PREDICTIONS_HEADER}\r\n${GOOD_ROW}\r`);
    reject(trailingCr, { code: 'inconsistent_line_endings', line: 2 });
  });

  it('blank_line: an empty line in the middle, or a second trailing newline', () => {
    reject(csv([GOOD_ROW, '', GOOD_ROW]), { code: 'blank_line', line: 3 });
    reject(Buffer.from(`${PREDICTIONS_HEADER}\n${GOOD_ROW}\n\n`), { code: 'blank_line', line: 3 });
    reject(Buffer.from(`${PREDICTIONS_HEADER}\r\n${GOOD_ROW}\r\n\r\n`), { code: 'blank_line', line: 3 });
  });

  it('comment_line: a line starting with #', () => {
    reject(csv([GOOD_ROW, '# model v7 secret 31415']), { code: 'comment_line', line: 3 }, ['31415', 'secret']);
    reject(Buffer.from(`# header comment\n${PREDICTIONS_HEADER}\n`), { code: 'comment_line', line: 1 }, ['header comment']);
  });

  it('quoted_field: any double quote', () => {
    reject(csv([`"${SCAN_A}",1,2,-100,0.5`]), { code: 'quoted_field', line: 2 }, [SCAN_A]);
    reject(Buffer.from(`"seriesuid",coordX,coordY,coordZ,probability\n${GOOD_ROW}\n`), { code: 'quoted_field', line: 1 });
  });

  it('bad_header: anything but the exact header line', () => {
    for (const header of [
      'seriesuid,coordX,coordY,coordZ,probability,extra',
      'SeriesUID,coordX,coordY,coordZ,probability',
      'seriesuid, coordX,coordY,coordZ,probability',
      'seriesuid,coordX,coordY,coordZ,probability ',
      'coordX,seriesuid,coordY,coordZ,probability',
      GOOD_ROW,
    ]) {
      reject(Buffer.from(`${header}\n${GOOD_ROW}\n`), { code: 'bad_header', line: 1 }, [SCAN_A, 'extra']);
    }
  });

  it('field_count: fewer or more than 5 fields', () => {
    reject(csv([GOOD_ROW, `${SCAN_A},1,2,-100`]), { code: 'field_count', line: 3 });
    reject(csv([`${SCAN_A},1,2,-100,0.5,77.77`]), { code: 'field_count', line: 2 }, ['77.77']);
    reject(csv([`${SCAN_A},1,2,-100,0,5`]), { code: 'field_count', line: 2 });
  });

  it('too_many_rows: more data rows than maxRows (header not counted)', () => {
    const kind = { ...KIND, maxRows: 2 };
    expect(checkPredictions(csv([GOOD_ROW, `${SCAN_B},1,2,3,0.5`]), kind, SCANS).rows).toBe(2);
    reject(csv([GOOD_ROW, `${SCAN_B},1,2,3,0.5`, `${SCAN_B},4,5,6,0.5`]), { code: 'too_many_rows', line: 4 }, [], kind);
  });

  it('unknown_series: not a scan this job may predict on, and the same answer for a train-split series', () => {
    const absent = reject(csv([GOOD_ROW, 'secret-series-77,1,2,3,0.5']), { code: 'unknown_series', line: 3, field: 'seriesuid' }, [
      'secret-series-77',
    ]);
    const train = reject(csv([GOOD_ROW, `${TRAIN_SCAN},1,2,3,0.5`]), { code: 'unknown_series', line: 3, field: 'seriesuid' }, [TRAIN_SCAN]);
    // No split oracle: a series that exists elsewhere is indistinguishable from one that does not.
    expect(train.message).toBe(absent.message);
    reject(csv([`${SCAN_A} ,1,2,-100,0.5`]), { code: 'unknown_series', line: 2, field: 'seriesuid' }, [SCAN_A]);
  });

  it('too_many_candidates: more than maxCandidatesPerScan rows for one scan, counted per scan', () => {
    const kind = { ...KIND, maxCandidatesPerScan: 2 };
    const rows = [`${SCAN_A},1,1,-100,0.5`, `${SCAN_B},1,1,1,0.5`, `${SCAN_B},2,2,2,0.5`, `${SCAN_A},2,2,-100,0.5`];
    expect(checkPredictions(csv(rows), kind, SCANS).rows).toBe(4);
    reject(csv([...rows, `${SCAN_A},3,3,-100,0.5`]), { code: 'too_many_candidates', line: 6, field: 'seriesuid' }, [SCAN_A], kind);
  });

  it('malformed_number: exponents, hex, NaN, Infinity, leading + or zeros, bare points, spaces, too many digits', () => {
    const long = `1.${'1'.repeat(MAX_NUMBER_CHARS - 1)}`;
    expect(long.length).toBe(MAX_NUMBER_CHARS + 1);
    const spellings = [
      '1e2',
      '1E2',
      '0x1A',
      'NaN',
      'Infinity',
      '-Infinity',
      '+12',
      '012',
      '-012',
      '1.',
      '.5',
      '-.5',
      '',
      '-',
      ' 12',
      '12 ',
      '1.2.3',
      '١٢',
      '12_0',
      long,
    ];
    for (const bad of spellings) {
      reject(
        csv([GOOD_ROW, `${SCAN_A},${bad},20,-100,0.5`]),
        { code: 'malformed_number', line: 3, field: 'coordX' },
        bad.trim().length < 3 ? [] : [bad.trim()],
      );
    }
    reject(csv([`${SCAN_A},1,2,-1e2,0.5`]), { code: 'malformed_number', line: 2, field: 'coordZ' }, ['-1e2']);
    reject(csv([`${SCAN_A},1,2,-100,5e-1`]), { code: 'malformed_number', line: 2, field: 'probability' }, ['5e-1']);
  });

  it('out_of_bounds: a coordinate outside its scan’s box, padded by at most half a quantum', () => {
    reject(csv([`${SCAN_A},98765.4321,20,-100,0.5`]), { code: 'out_of_bounds', line: 2, field: 'coordX' }, ['98765.4321', SCAN_A]);
    reject(csv([`${SCAN_A},1,-195.25,-100,0.5`]), { code: 'out_of_bounds', line: 2, field: 'coordY' }, ['195.25']);
    reject(csv([`${SCAN_A},188.75,0,-100,0.5`]), { code: 'out_of_bounds', line: 2, field: 'coordX' }, ['188.75']);
    // In range for SCAN_A, not for SCAN_B: the box is the row's own scan's.
    reject(csv([`${SCAN_B},0,0,-300.5,0.5`]), { code: 'out_of_bounds', line: 2, field: 'coordZ' }, ['300.5']);
    // Padding: values that round onto the box's own grid points are inside.
    const edge = checkPredictions(csv([`${SCAN_A},-195.2,188.7,-378.24,0.5`]), KIND, SCANS);
    expect(edge.canonical.toString()).toBe(`${PREDICTIONS_HEADER}\n${SCAN_A},-195.0,188.5,-378.0,0.500\n`);
  });

  it('probability_out_of_range: below 0 or above 1 as written', () => {
    reject(csv([`${SCAN_A},1,2,-100,1.0004`]), { code: 'probability_out_of_range', line: 2, field: 'probability' }, ['1.0004']);
    reject(csv([`${SCAN_A},1,2,-100,-0.0001`]), { code: 'probability_out_of_range', line: 2, field: 'probability' }, ['0.0001']);
    reject(csv([`${SCAN_A},1,2,-100,2`]), { code: 'probability_out_of_range', line: 2, field: 'probability' });
    for (const ok of ['0', '-0', '-0.000', '1', '1.000', '0.0000001']) {
      expect(checkPredictions(csv([`${SCAN_A},1,2,-100,${ok}`]), KIND, SCANS).rows).toBe(1);
    }
  });

  it('no_rows: a header and nothing else', () => {
    reject(csv([]), { code: 'no_rows', line: undefined });
    reject(Buffer.from(PREDICTIONS_HEADER), { code: 'no_rows', line: undefined });
  });

  it('line_too_long: a line longer than MAX_LINE_CHARS, refused before its line ending arrives', () => {
    reject(csv([GOOD_ROW, `${SCAN_A},1,2,-100,0.5${'0'.repeat(MAX_LINE_CHARS)}`]), { code: 'line_too_long', line: 3 }, []);
    // Streamed: the refusal comes with the chunk that makes the line too long, no line ending needed.
    const checker = new PredictionsChecker(KIND, SCANS);
    checker.push(Buffer.from(`${PREDICTIONS_HEADER}\n${SCAN_A}`));
    expect(rejectionOf(() => checker.push(Buffer.alloc(MAX_LINE_CHARS, 0x30))).code).toBe('line_too_long');
  });

  it('covers every predictions reason code', () => {
    expect([...covered].sort()).toEqual([...PREDICTIONS_REJECTION_CODES].sort());
  });
});

describe('checkPredictions canonical form', () => {
  const baseline = [`${SCAN_B},10,-20.5,-0.5,0.5`, `${SCAN_A},-10.5,20,-100,0.125`, `${SCAN_A},-10.5,20,-99.5,1`, `${SCAN_A},9.5,0,-100,0`];
  const expected =
    `${PREDICTIONS_HEADER}\n` +
    `${SCAN_A},-10.5,20.0,-100.0,0.125\n` +
    `${SCAN_A},-10.5,20.0,-99.5,1.000\n` +
    `${SCAN_A},9.5,0.0,-100.0,0.000\n` +
    `${SCAN_B},10.0,-20.5,-0.5,0.500\n`;

  it('rewrites to sorted rows, quantized coordinates, fixed decimals, LF and a trailing newline', () => {
    const out = checkPredictions(csv(baseline), KIND, SCANS);
    expect(out.canonical.toString('utf8')).toBe(expected);
    expect(out.rows).toBe(4);
    expect(out.summary).toEqual({ rows: 4, scans: 2 });
  });

  it('is byte-identical, with equal bits, whatever the covert variation', () => {
    const reference = checkPredictions(csv(baseline), KIND, SCANS);
    const variants: Buffer[] = [
      // low-order digits below the quantum / probability decimals
      csv([
        `${SCAN_B},10.2,-20.7,-0.26,0.5004`,
        `${SCAN_A},-10.74,20.24,-100.1,0.12549`,
        `${SCAN_A},-10.26,19.76,-99.3,0.9996`,
        `${SCAN_A},9.74,0.2,-99.76,0.0004`,
      ]),
      // row order
      csv([...baseline].reverse()),
      csv([baseline[2], baseline[0], baseline[3], baseline[1]]),
      // line endings and the trailing newline
      csv(baseline, '\r\n'),
      csv(baseline, '\r\n', false),
      csv(baseline, '\n', false),
      // number spelling: 0.50 / 0.5, 1.0 / 1, -0 / 0, trailing zeros
      csv([
        `${SCAN_B},10.0,-20.50,-0.500,0.50`,
        `${SCAN_A},-10.50,20.000,-100.0,0.1250`,
        `${SCAN_A},-10.5,20.0,-99.50,1.0`,
        `${SCAN_A},9.5,-0,-100,-0`,
      ]),
      csv([
        `${SCAN_B},10,-20.5,-0.5,0.500`,
        `${SCAN_A},-10.5,20,-100,0.125`,
        `${SCAN_A},-10.5,20,-99.5,1.000`,
        `${SCAN_A},9.5,-0.0,-100,0.000`,
      ]),
    ];
    for (const v of variants) {
      const out = checkPredictions(v, KIND, SCANS);
      expect(out.canonical.equals(reference.canonical)).toBe(true);
      expect(out.bits).toBe(reference.bits);
      expect(out.summary).toEqual(reference.summary);
    }
  });

  it('rounds halves away from zero, exactly on the written digits, and never prints -0', () => {
    const out = checkPredictions(csv([`${SCAN_B},0.25,-0.25,-0.2,0.0005`, `${SCAN_B},0.75,-0.75,0.2,0.00049`]), KIND, SCANS);
    expect(out.canonical.toString()).toBe(`${PREDICTIONS_HEADER}\n${SCAN_B},0.5,-0.5,0.0,0.001\n${SCAN_B},1.0,-1.0,0.0,0.000\n`);
    // 0.15 / 0.1 is 1.4999999999999998 in binary floating point; the exact rule gives 0.2.
    const tenth = checkPredictions(csv([`${SCAN_B},0.15,-0.15,0.05,0.5`]), { ...KIND, coordinateQuantumMm: 0.1 }, SCANS);
    expect(tenth.canonical.toString()).toBe(`${PREDICTIONS_HEADER}\n${SCAN_B},0.2,-0.2,0.1,0.500\n`);
  });

  it('derives the printed decimals from the quantum', () => {
    const row = [`${SCAN_B},1.3,-2.6,3.875,0.5`];
    expect(checkPredictions(csv(row), { ...KIND, coordinateQuantumMm: 0.25 }, SCANS).canonical.toString()).toBe(
      `${PREDICTIONS_HEADER}\n${SCAN_B},1.25,-2.50,4.00,0.500\n`,
    );
    expect(checkPredictions(csv(row), { ...KIND, coordinateQuantumMm: 1 }, SCANS).canonical.toString()).toBe(
      `${PREDICTIONS_HEADER}\n${SCAN_B},1,-3,4,0.500\n`,
    );
    expect(checkPredictions(csv(row), { ...KIND, coordinateQuantumMm: 2 }, SCANS).canonical.toString()).toBe(
      `${PREDICTIONS_HEADER}\n${SCAN_B},2,-2,4,0.500\n`,
    );
    expect(checkPredictions(csv(row), { ...KIND, probabilityDecimals: 0 }, SCANS).canonical.toString()).toBe(
      `${PREDICTIONS_HEADER}\n${SCAN_B},1.5,-2.5,4.0,1\n`,
    );
  });

  it('sorts coordinates numerically, not as text', () => {
    const out = checkPredictions(
      csv([`${SCAN_B},10,0,0,0.5`, `${SCAN_B},9,0,0,0.5`, `${SCAN_B},-1,0,0,0.5`, `${SCAN_B},-10,0,0,0.5`, `${SCAN_B},9,0,0,0.25`]),
      KIND,
      SCANS,
    );
    const xs = out.canonical
      .toString()
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(',').slice(1, 2).concat(l.split(',')[4]).join(' '));
    expect(xs).toEqual(['-10.0 0.500', '-1.0 0.500', '9.0 0.250', '9.0 0.500', '10.0 0.500']);
  });

  it('merges rows that are equal after rounding, and charges only the rows released', () => {
    const merged = checkPredictions(csv([`${SCAN_B},1.1,2,3,0.5`, `${SCAN_B},0.9,2.1,3,0.5001`, `${SCAN_B},1,2,3,0.5`]), KIND, SCANS);
    const single = checkPredictions(csv([`${SCAN_B},1,2,3,0.5`]), KIND, SCANS);
    expect(merged.canonical.equals(single.canonical)).toBe(true);
    expect(merged.rows).toBe(1);
    expect(merged.bits).toBe(single.bits);
    expect(merged.summary).toEqual({ rows: 1, scans: 1 });
  });
});

describe('checkPredictions information bits', () => {
  // Two scans (seriesuid: 1 bit). Quantum 1 mm: scan a spans 4 × 4 × 2 grid points (2+2+1 = 5
  // bits), scan b 8 × 1 × 1 (3 bits). maxRows 8: the row count costs 3 bits.
  const scans: ReadonlyMap<string, WorldBoundingBox> = new Map([
    ['a', { min: [0, 0, 0], max: [3, 3, 1] }],
    ['b', { min: [0, 0, 0], max: [7, 0, 0] }],
  ]);
  const kind: PredictionsKind = { ...KIND, maxRows: 8, coordinateQuantumMm: 1, probabilityDecimals: 1 };
  const rows = ['a,0,3,1,0.5', 'a,3,0,0,1', 'b,7,0,0,0'];

  it('charges Σ log2|domain|: 3 + 3 × (1 + log2 11) + 2 × 5 + 3 = 29.37829… → 29.379', () => {
    expect(checkPredictions(csv(rows), kind, scans).bits).toBe(29.379);
  });

  it('charges a whole number exactly: probability with 0 decimals has 2 values → 3 + 3 × 2 + 13 = 22', () => {
    expect(checkPredictions(csv(rows), { ...kind, probabilityDecimals: 0 }, scans).bits).toBe(22);
  });

  it('charges nothing for the seriesuid when there is a single scan', () => {
    const one = new Map([['b', scans.get('b')!]]);
    // 3 (row count) + 1 × (0 + log2 11 + 3) = 9.459… → 9.46
    expect(checkPredictions(csv(['b,7,0,0,0']), kind, one).bits).toBe(9.46);
  });
});

describe('checkPredictions at scale', () => {
  it('checks a 10,000-row file over 100 scans (linear work: one pass, one sort)', () => {
    const scans = new Map<string, WorldBoundingBox>();
    for (let s = 0; s < 100; s++)
      scans.set(`1.2.826.0.1.3680043.${String(s).padStart(4, '0')}`, { min: [-200, -200, -400], max: [200, 200, 0] });
    const uids = [...scans.keys()];
    const rows: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      const x = ((i * 7919) % 40000) / 100 - 200;
      rows.push(
        `${uids[(i * 31) % 100]},${x.toFixed(2)},${(((i * 104729) % 40000) / 100 - 200).toFixed(3)},${(-((i * 13) % 40000) / 100).toFixed(2)},${((i % 1000) / 1000).toFixed(4)}`,
      );
    }
    const out = checkPredictions(csv(rows), KIND, scans);
    expect(out.rows).toBeGreaterThan(9_900);
    expect(out.summary.scans).toBe(100);
    const lines = out.canonical.toString().split('\n');
    expect(lines[0]).toBe(PREDICTIONS_HEADER);
    expect(lines[lines.length - 1]).toBe('');
    const again = checkPredictions(csv([...rows].reverse(), '\r\n'), KIND, scans);
    expect(again.canonical.equals(out.canonical)).toBe(true);
  });
});

describe('PredictionsChecker fed in pieces', () => {
  const rows = [GOOD_ROW, `${SCAN_B},1.25,-3,7,0.25`, `${SCAN_A},0,0,-100,1`];
  const cases: [string, Buffer][] = [
    ['LF', csv(rows)],
    ['CRLF', csv(rows, '\r\n')],
    ['no final newline', csv(rows, '\n', false)],
    ['multi-byte UTF-8 split across chunks is refused as an unknown series, not as invalid UTF-8', csv([`scan-é,1,2,3,0.5`])],
  ];
  it.each(cases)('gives the same answer byte by byte as in one piece (%s)', (_name, bytes) => {
    const whole = (() => {
      try {
        return checkPredictions(bytes, KIND, SCANS).canonical.toString();
      } catch (err) {
        return (err as EgressRejection).code;
      }
    })();
    const checker = new PredictionsChecker(KIND, SCANS);
    const pieces = (() => {
      try {
        for (const b of bytes) checker.push(Buffer.from([b]));
        return checker.end().canonical.toString();
      } catch (err) {
        return (err as EgressRejection).code;
      }
    })();
    expect(pieces).toBe(whole);
  });

  it('refuses a blank first line at once, whatever follows (a 16 MiB body of line endings is not read past it)', () => {
    const checker = new PredictionsChecker(KIND, SCANS);
    expect(rejectionOf(() => checker.push(Buffer.alloc(64 * 1024, 0x0a))).code).toBe('blank_line');
  });
});
