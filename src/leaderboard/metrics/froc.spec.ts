import fc from 'fast-check';
import { type Candidate, EXCLUDED_DEFAULT_DIAMETER_MM, type Finding, froc, MetricInputError } from './froc';
import { parseCandidatesCsv, parseFindingsCsv } from './luna16-csv';

/*
 * Issue 18, item 1: LUNA16's FROC, hand-computed. Each case names the curve it expects, in
 * counts: (false positives, detected nodules) from the highest probability down.
 */
const nodule = (seriesuid: string, x: number, diameterMm = 10): Finding => ({ seriesuid, x, y: 0, z: 0, diameterMm });
const cand = (seriesuid: string, x: number, probability: number): Candidate => ({ seriesuid, x, y: 0, z: 0, probability });
const scans = (...s: string[]) => new Set(s);

describe('LUNA16 FROC', () => {
  it('empty predictions: sensitivity 0 everywhere', () => {
    const r = froc({ scans: scans('a'), nodules: [nodule('a', 0)], candidates: [] });
    expect(r.sensitivities).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect(r.cpm).toBe(0);
    expect(r).toMatchObject({ nodules: 1, detected: 0, falsePositives: 0, scans: 1 });
  });

  it('every nodule hit, no false positive: sensitivity 1 everywhere', () => {
    const r = froc({
      scans: scans('a', 'b'),
      nodules: [nodule('a', 0), nodule('b', 100, 4)],
      candidates: [cand('a', 0, 0.9), cand('b', 101.9, 0.2)],
    });
    expect(r.sensitivities).toEqual([1, 1, 1, 1, 1, 1, 1]);
    expect(r.cpm).toBe(1);
  });

  it('several hits on one nodule count once, at the highest probability, and are not false positives', () => {
    // Nodules n1 (hit by .9 and .5), n2 missed; a false positive at .7. Curve: (0,1) at .9,
    // (1,1) at .7: 1 of 2 nodules at every rate. Were the .5 hit a false positive, or did it
    // count as the nodule's probability, the curve would differ.
    const r = froc({
      scans: scans('a'),
      nodules: [nodule('a', 0), nodule('a', 50)],
      candidates: [cand('a', 0, 0.9), cand('a', 1, 0.5), cand('a', 200, 0.7)],
    });
    expect(r).toMatchObject({ detected: 1, falsePositives: 1 });
    expect(r.sensitivities).toEqual([0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
  });

  it('a hit at a low probability still counts once the false positives above it are passed', () => {
    // One scan; n1 hit at .2, a false positive at .9: curve (1,0) at .9, (1,1) at .2.
    // At 1/8 FP: 0 + (0 - 0)… from (0,0) to (1,0): 0. At 1 FP and beyond: 1.
    const r = froc({ scans: scans('a'), nodules: [nodule('a', 0)], candidates: [cand('a', 0, 0.2), cand('a', 99, 0.9)] });
    expect(r.sensitivities).toEqual([0, 0, 0, 1, 1, 1, 1]);
    expect(r.cpm).toBeCloseTo(4 / 7, 15);
  });

  it('ties in probability enter together (a diagonal on the curve)', () => {
    // n1 at .9; n2 and a false positive both at .5: (0,1) then (1,2) at once.
    // At x FP (one scan): 1 + x for x < 1 → 1.125, 1.25, 1.5 of 2; then 2 of 2.
    const r = froc({
      scans: scans('a'),
      nodules: [nodule('a', 0), nodule('a', 50)],
      candidates: [cand('a', 0, 0.9), cand('a', 50, 0.5), cand('a', 300, 0.5)],
    });
    expect(r.sensitivities).toEqual([0.5625, 0.625, 0.75, 1, 1, 1, 1]);
    expect(r.cpm).toBeCloseTo(5.9375 / 7, 15);
  });

  it('a scan with no nodules counts in the false-positive rate and its candidates are false positives', () => {
    // a: n1 hit at .9; b: no nodules, a candidate at .95. Two scans: (1,0) at .95, (1,1) at .9.
    // Rates × 2 scans: 0.25 and 0.5 FP → 0; 1 FP and beyond → 1.
    const r = froc({ scans: scans('a', 'b'), nodules: [nodule('a', 0)], candidates: [cand('a', 0, 0.9), cand('b', 0, 0.95)] });
    expect(r.sensitivities).toEqual([0, 0, 1, 1, 1, 1, 1]);
    expect(r.falsePositives).toBe(1);
  });

  it('false-positive rates between operating points are interpolated linearly', () => {
    // Four scans, nodules n1..n4. Curve in counts: (0,1) .95, (1,1) .9, (1,2) .8, (3,2) .7,
    // (3,3) .6; n4 missed. FP counts read: 0.5 → 1, 1 → 2, 2 → 2, 4+ → 3 (of 4).
    const r = froc({
      scans: scans('a', 'b', 'c', 'd'),
      nodules: [nodule('a', 0), nodule('b', 0), nodule('c', 0), nodule('d', 0)],
      candidates: [cand('a', 0, 0.95), cand('c', 100, 0.9), cand('b', 0, 0.8), cand('d', 100, 0.7), cand('d', 200, 0.7), cand('c', 0, 0.6)],
    });
    expect(r.sensitivities).toEqual([0.25, 0.5, 0.5, 0.75, 0.75, 0.75, 0.75]);
    expect(r.cpm).toBeCloseTo(4.25 / 7, 15);
    // And strictly between two points: one scan, (0,0) → (4,2) on a diagonal (two tied
    // hits and four tied false positives): x FP → x / 2 detected, of 2 nodules.
    const d = froc({
      scans: scans('a'),
      nodules: [nodule('a', 0), nodule('a', 50)],
      candidates: [cand('a', 0, 0.5), cand('a', 50, 0.5), ...[100, 200, 300, 400].map((x) => cand('a', x, 0.5))],
    });
    expect(d.sensitivities).toEqual([0.03125, 0.0625, 0.125, 0.25, 0.5, 1, 1]);
  });

  it('a candidate on an excluded finding is ignored; a negative diameter means 10 mm', () => {
    const excluded = [{ seriesuid: 'a', x: 100, y: 0, z: 0, diameterMm: -1 }];
    const inside = froc({
      scans: scans('a'),
      nodules: [nodule('a', 0)],
      excluded,
      candidates: [cand('a', 0, 0.5), cand('a', 100 + EXCLUDED_DEFAULT_DIAMETER_MM / 2 - 0.1, 0.9)],
    });
    expect(inside).toMatchObject({ falsePositives: 0 });
    expect(inside.sensitivities).toEqual([1, 1, 1, 1, 1, 1, 1]);
    const outside = froc({
      scans: scans('a'),
      nodules: [nodule('a', 0)],
      excluded,
      candidates: [cand('a', 0, 0.5), cand('a', 100 + EXCLUDED_DEFAULT_DIAMETER_MM / 2 + 0.1, 0.9)],
    });
    expect(outside).toMatchObject({ falsePositives: 1 });
    expect(outside.sensitivities).toEqual([0, 0, 0, 1, 1, 1, 1]);
  });

  it('inside means strictly inside the radius; a candidate inside two nodules hits both', () => {
    const edge = froc({ scans: scans('a'), nodules: [nodule('a', 0, 10)], candidates: [cand('a', 5, 0.9)] });
    expect(edge).toMatchObject({ detected: 0, falsePositives: 1 });
    const both = froc({ scans: scans('a'), nodules: [nodule('a', 0, 10), nodule('a', 4, 10)], candidates: [cand('a', 2, 0.9)] });
    expect(both).toMatchObject({ detected: 2, falsePositives: 0 });
  });

  it("keeps a scan's 100 most probable candidates, as the LUNA16 script does (ties at the cut all go)", () => {
    // 19 scans with one nodule each, hit at .5; scan s0 has 200 false positives above it.
    // Cut to 100, the hits come at 100 FPs = 5 per scan: read at 8 only. Uncut (200 = 10 per
    // scan), never.
    const seriesNames = Array.from({ length: 20 }, (_, i) => `s${i}`);
    const nodules = seriesNames.slice(1).map((s) => nodule(s, 0));
    const hits = seriesNames.slice(1).map((s) => cand(s, 0, 0.5));
    const fps = Array.from({ length: 200 }, (_, i) => cand('s0', 100 + i, 0.9 + i / 5000));
    const cut = froc({ scans: new Set(seriesNames), nodules, candidates: [...fps, ...hits] });
    expect(cut.falsePositives).toBe(100);
    expect(cut.sensitivities).toEqual([0, 0, 0, 0, 0, 0, 1]);
    // All 200 tied at .9: the 101st is .9 too, nothing is strictly above it, all go.
    const tied = froc({ scans: new Set(seriesNames), nodules, candidates: [...fps.map((c) => ({ ...c, probability: 0.9 })), ...hits] });
    expect(tied.falsePositives).toBe(0);
    expect(tied.cpm).toBe(1);
  });

  it('scores only the scans given: other scans’ nodules and candidates do not count', () => {
    const r = froc({
      scans: scans('a'),
      nodules: [nodule('a', 0), nodule('z', 0)],
      candidates: [cand('a', 0, 0.9), cand('z', 999, 0.99)],
    });
    expect(r).toMatchObject({ nodules: 1, detected: 1, falsePositives: 0, scans: 1 });
  });

  it('refuses what it cannot score, clearly', () => {
    expect(() => froc({ scans: scans(), nodules: [nodule('a', 0)], candidates: [] })).toThrow(new MetricInputError('no scans to score'));
    expect(() => froc({ scans: scans('b'), nodules: [nodule('a', 0)], candidates: [] })).toThrow('no annotated nodules');
    expect(() => froc({ scans: scans('a'), nodules: [nodule('a', 0)], candidates: [cand('a', NaN, 0.5)] })).toThrow('not a finite number');
    expect(() => froc({ scans: scans('a'), nodules: [nodule('a', 0, 0)], candidates: [] })).toThrow('no positive diameter');
  });

  describe('properties', () => {
    const series = fc.constantFrom('s1', 's2', 's3');
    const coord = fc.integer({ min: -40, max: 40 }).map((v) => v / 2);
    const findings = fc.array(fc.record({ seriesuid: series, x: coord, y: coord, z: coord, diameterMm: fc.integer({ min: 2, max: 30 }) }), {
      minLength: 1,
      maxLength: 8,
    });
    const candidates = fc.array(
      fc.record({ seriesuid: series, x: coord, y: coord, z: coord, probability: fc.integer({ min: 0, max: 20 }).map((p) => p / 20) }),
      { maxLength: 40 },
    );
    const all = scans('s1', 's2', 's3');

    it('permuting rows never changes a score', () => {
      fc.assert(
        fc.property(findings, candidates, fc.infiniteStream(fc.nat()), (n, c, seeds) => {
          const shuffle = <T>(xs: readonly T[]) =>
            xs
              .map((x) => [seeds.next().value as number, x] as const)
              .sort((a, b) => a[0] - b[0])
              .map(([, x]) => x);
          expect(froc({ scans: all, nodules: shuffle(n), candidates: shuffle(c) })).toEqual(
            froc({ scans: all, nodules: n, candidates: c }),
          );
        }),
        { numRuns: 300 },
      );
    });

    it('rewriting number spellings never changes a score', () => {
      // The same values written another way: trailing zeros, a leading "+", an exponent, "-0".
      const spell = (v: number, how: number) =>
        [
          String(v),
          `${v.toFixed(6)}`,
          v < 0 ? String(v) : `+${v}`,
          v.toExponential(),
          v === 0 ? '-0' : `${v}0`.replace(/^(-?\d+)0$/, '$1.0'),
        ][how % 5];
      fc.assert(
        fc.property(findings, candidates, fc.infiniteStream(fc.nat()), (n, c, hows) => {
          const csv = (rows: string[][], header: string) => [header, ...rows.map((r) => r.join(','))].join('\n');
          const w = (v: number) => spell(v, hows.next().value as number);
          const labels = csv(
            n.map((f) => [f.seriesuid, w(f.x), w(f.y), w(f.z), w(f.diameterMm)]),
            'seriesuid,coordX,coordY,coordZ,diameter_mm',
          );
          const preds = csv(
            c.map((p) => [p.seriesuid, w(p.x), w(p.y), w(p.z), w(p.probability)]),
            'seriesuid,coordX,coordY,coordZ,probability',
          );
          expect(froc({ scans: all, nodules: parseFindingsCsv(labels), candidates: parseCandidatesCsv(preds) })).toEqual(
            froc({ scans: all, nodules: n, candidates: c }),
          );
        }),
        { numRuns: 300 },
      );
    });
  });
});
