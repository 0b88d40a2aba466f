import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EgressKindError, compileEgressKinds, loadEgressKinds } from './egress-kinds';

const SHIPPED_DIR = join(__dirname, '..', '..', '..', 'policies', 'egress');

const PREDICTIONS = {
  kind: 'predictions',
  format: 'predictions-csv',
  maxBytes: 16777216,
  maxRows: 100000,
  maxCandidatesPerScan: 500,
  coordinateQuantumMm: 0.5,
  probabilityDecimals: 3,
  review: 'none',
};
const METRICS = {
  kind: 'metrics',
  format: 'metrics-json',
  maxBytes: 65536,
  metrics: ['froc', 'auc', 'sensitivity', 'specificity', 'precision', 'recall', 'f1', 'loss', 'val_loss', 'accuracy', 'dice'],
  maxSeriesLength: 200,
  significantDigits: 3,
  minCohort: 10,
  maxCohort: 1000000,
  exponentRange: [-12, 12],
  review: 'none',
};
const MODEL = { kind: 'model', format: 'opaque', maxBytes: 536870912, review: 'two-person' };

function errorOf(files: Map<string, string>): EgressKindError {
  try {
    compileEgressKinds(files);
  } catch (err) {
    if (err instanceof EgressKindError) return err;
    throw err;
  }
  throw new Error('expected an EgressKindError');
}

/** One file among valid ones, so a failure is shown to fail the whole set. */
function withFile(file: string, content: unknown): Map<string, string> {
  return new Map([
    ['predictions.json', JSON.stringify(PREDICTIONS)],
    ['metrics.json', JSON.stringify(METRICS)],
    ['model.json', JSON.stringify(MODEL)],
    [file, typeof content === 'string' ? content : JSON.stringify(content)],
  ]);
}

describe('loadEgressKinds', () => {
  it('loads the shipped kind files with the documented values', () => {
    const kinds = loadEgressKinds(SHIPPED_DIR);
    expect([...kinds.keys()].sort()).toEqual(['metrics', 'model', 'predictions', 'submissions']);
    expect(kinds.get('predictions')).toEqual(PREDICTIONS);
    expect(kinds.get('submissions')).toEqual({
      ...PREDICTIONS,
      kind: 'submissions',
      format: 'predictions-score',
      metric: 'luna16-froc',
      labels: { dataset: 'lung-demo', annotations: 'labels/test_annotations.csv' },
      publicFraction: 0.5,
      ladderStep: 0.01,
      selections: 2,
    });
    expect(kinds.get('metrics')).toEqual(METRICS);
    expect(kinds.get('model')).toEqual(MODEL);
  });

  it('refuses a submissions kind with labels outside its dataset or a Ladder without a step', () => {
    const base = {
      ...PREDICTIONS,
      kind: 'submissions',
      format: 'predictions-score',
      metric: 'luna16-froc',
      publicFraction: 0.5,
      selections: 2,
    };
    const compile = (extra: object) => () => compileEgressKinds(new Map([['submissions.json', JSON.stringify({ ...base, ...extra })]]));
    expect(compile({ labels: { dataset: 'd', annotations: '../other/labels.csv' }, ladderStep: 0.01 })).toThrow(/labels\.annotations/);
    expect(compile({ labels: { dataset: 'd', annotations: 'labels/a.csv' }, ladderStep: 0 })).toThrow(/ladderStep/);
    expect(compile({ labels: { dataset: 'd', annotations: 'labels/a.csv' }, ladderStep: 0.01, publicFraction: 1 })).toThrow(
      /publicFraction/,
    );
    expect(compile({ labels: { dataset: 'd', annotations: 'labels/a.csv' }, ladderStep: 0.01 })).not.toThrow();
  });

  it('returns frozen definitions', () => {
    const metrics = loadEgressKinds(SHIPPED_DIR).get('metrics');
    expect(Object.isFrozen(metrics)).toBe(true);
    if (metrics?.format !== 'metrics-json') throw new Error('metrics kind expected');
    expect(Object.isFrozen(metrics.metrics)).toBe(true);
    expect(Object.isFrozen(metrics.exponentRange)).toBe(true);
  });

  describe('on a directory', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'cage-egress-kinds-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('ignores files that are not *.json, and directories', () => {
      writeFileSync(join(dir, 'model.json'), JSON.stringify(MODEL));
      writeFileSync(join(dir, 'README.md'), '# notes');
      mkdirSync(join(dir, 'old.json'));
      expect([...loadEgressKinds(dir).keys()]).toEqual(['model']);
    });

    it('refuses the whole set when one file is invalid, naming that file', () => {
      writeFileSync(join(dir, 'model.json'), JSON.stringify(MODEL));
      writeFileSync(join(dir, 'predictions.json'), JSON.stringify({ ...PREDICTIONS, maxRows: -1 }));
      expect(() => loadEgressKinds(dir)).toThrow(EgressKindError);
      expect(() => loadEgressKinds(dir)).toThrow(/^predictions\.json: maxRows: /);
    });

    it('refuses a file that is not UTF-8, or starts with a BOM', () => {
      writeFileSync(
        join(dir, 'model.json'),
        Buffer.concat([
          Buffer.from('{"kind": "model", "format": "opaque", "maxBytes": 1, "review": "'),
          Buffer.from([0xff]),
          Buffer.from('"}'),
        ]),
      );
      expect(() => loadEgressKinds(dir)).toThrow(/^model\.json: not valid UTF-8/);
      writeFileSync(join(dir, 'model.json'), `\uFEFF${JSON.stringify(MODEL)}`);
      expect(() => loadEgressKinds(dir)).toThrow(/^model\.json: invalid JSON at line 1/);
    });

    it('refuses a directory with no kind files, and a missing directory', () => {
      expect(() => loadEgressKinds(dir)).toThrow(/no egress kind files/);
      expect(() => loadEgressKinds(join(dir, 'absent'))).toThrow(/cannot read the egress kind directory/);
    });
  });
});

describe('compileEgressKinds refuses invalid kind files, naming file and field', () => {
  const cases: [string, string, unknown, string | undefined, RegExp?][] = [
    ['bad JSON', 'predictions.json', '{"kind": "predictions",', undefined, /invalid JSON at line 1/],
    ['a trailing comma', 'model.json', '{"kind": "model", "format": "opaque", "maxBytes": 1, "review": "none",}', undefined],
    [
      'a duplicate key',
      'predictions.json',
      '{"kind": "predictions", "format": "predictions-csv", "maxBytes": 1, "maxRows": 1,\n"maxRows": 100, "maxCandidatesPerScan": 1, "coordinateQuantumMm": 1, "probabilityDecimals": 1, "review": "none"}',
      'maxRows',
      /line 2/,
    ],
    ['a top-level array', 'model.json', [MODEL], undefined],
    ['an unknown format', 'model.json', { ...MODEL, format: 'zip' }, 'format'],
    ['a missing format', 'model.json', { kind: 'model', maxBytes: 1, review: 'none' }, 'format'],
    ['an unknown field', 'predictions.json', { ...PREDICTIONS, maxColumns: 5 }, 'maxColumns', /maxColumns/],
    ['a field of another format', 'model.json', { ...MODEL, maxRows: 5 }, 'maxRows'],
    ['a missing field', 'predictions.json', { ...PREDICTIONS, review: undefined }, 'review'],
    ['an unknown review mode', 'model.json', { ...MODEL, review: 'one-person' }, 'review'],
    ['a negative cap', 'predictions.json', { ...PREDICTIONS, maxRows: -1 }, 'maxRows'],
    ['a zero cap', 'model.json', { ...MODEL, maxBytes: 0 }, 'maxBytes'],
    ['a fractional cap', 'predictions.json', { ...PREDICTIONS, maxCandidatesPerScan: 1.5 }, 'maxCandidatesPerScan'],
    [
      'a huge cap',
      'predictions.json',
      '{"kind": "predictions", "format": "predictions-csv", "maxBytes": 1e400, "maxRows": 1, "maxCandidatesPerScan": 1, "coordinateQuantumMm": 1, "probabilityDecimals": 1, "review": "none"}',
      'maxBytes',
    ],
    ['a string cap', 'predictions.json', { ...PREDICTIONS, maxBytes: '16777216' }, 'maxBytes'],
    ['quantum 0', 'predictions.json', { ...PREDICTIONS, coordinateQuantumMm: 0 }, 'coordinateQuantumMm'],
    ['a negative quantum', 'predictions.json', { ...PREDICTIONS, coordinateQuantumMm: -0.5 }, 'coordinateQuantumMm'],
    ['a quantum with 7 decimals', 'predictions.json', { ...PREDICTIONS, coordinateQuantumMm: 0.1234567 }, 'coordinateQuantumMm'],
    ['a quantum printed with an exponent', 'predictions.json', { ...PREDICTIONS, coordinateQuantumMm: 1e-7 }, 'coordinateQuantumMm'],
    ['too many probability decimals', 'predictions.json', { ...PREDICTIONS, probabilityDecimals: 7 }, 'probabilityDecimals'],
    ['negative probability decimals', 'predictions.json', { ...PREDICTIONS, probabilityDecimals: -1 }, 'probabilityDecimals'],
    ['a kind name not matching the file', 'predictions.json', { ...PREDICTIONS, kind: 'metrics' }, 'kind', /must be "predictions"/],
    ['a kind name with capitals', 'Predictions.json', { ...PREDICTIONS, kind: 'Predictions' }, 'kind'],
    ['a file not named *.json', 'predictions.yaml', PREDICTIONS, undefined, /<kind>\.json/],
    ['an empty metric list', 'metrics.json', { ...METRICS, metrics: [] }, 'metrics'],
    ['a metric listed twice', 'metrics.json', { ...METRICS, metrics: ['auc', 'loss', 'auc'] }, 'metrics.2'],
    ['a metric name that is not an identifier', 'metrics.json', { ...METRICS, metrics: ['auc', '__proto__'] }, 'metrics.1'],
    ['zero significant digits', 'metrics.json', { ...METRICS, significantDigits: 0 }, 'significantDigits'],
    ['16 significant digits', 'metrics.json', { ...METRICS, significantDigits: 16 }, 'significantDigits'],
    ['a negative minimum cohort', 'metrics.json', { ...METRICS, minCohort: -1 }, 'minCohort'],
    ['maxCohort below minCohort', 'metrics.json', { ...METRICS, minCohort: 10, maxCohort: 9 }, 'maxCohort'],
    ['a reversed exponent range', 'metrics.json', { ...METRICS, exponentRange: [3, -3] }, 'exponentRange'],
    ['an exponent range of 3 numbers', 'metrics.json', { ...METRICS, exponentRange: [-3, 0, 3] }, 'exponentRange'],
    ['an exponent beyond ±300', 'metrics.json', { ...METRICS, exponentRange: [-400, 3] }, 'exponentRange.0'],
    ['a series length of 0', 'metrics.json', { ...METRICS, maxSeriesLength: 0 }, 'maxSeriesLength'],
  ];

  it.each(cases.map(([name, file, content, field, extra]) => ({ name, file, content, field, extra })))(
    '$name',
    ({ file, content, field, extra }) => {
      const err = errorOf(withFile(file, content));
      expect(err.file).toBe(file);
      expect(err.field).toBe(field);
      expect(err.message.startsWith(`${file}: ${field === undefined ? '' : `${field}: `}`)).toBe(true);
      if (extra) expect(err.message).toMatch(extra);
    },
  );

  it('refuses a kind defined twice (same file name in two places)', () => {
    const err = errorOf(
      new Map([
        ['a/model.json', JSON.stringify(MODEL)],
        ['b/model.json', JSON.stringify({ ...MODEL, maxBytes: 1 })],
      ]),
    );
    expect(err.file).toBe('model.json');
    expect(err.field).toBe('kind');
    expect(err.message).toMatch(/defined twice/);
  });

  it('accepts other kinds of the shipped formats under their own names', () => {
    const kinds = compileEgressKinds(
      new Map([['val-predictions.json', JSON.stringify({ ...PREDICTIONS, kind: 'val-predictions', coordinateQuantumMm: 0.25 })]]),
    );
    expect(kinds.get('val-predictions')?.format).toBe('predictions-csv');
  });
});
