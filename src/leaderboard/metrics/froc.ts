/**
 * LUNA16's FROC score for nodule detection (Setio et al., 2017), as the challenge's evaluation
 * script computes it:
 *
 * - a scan's candidates are its 100 most probable, as the script keeps them: those
 *   strictly more probable than its 101st (ties at the cut all go, so a cut never depends on
 *   row order);
 * - a candidate hits an annotated nodule when its distance to the nodule's centre is less than
 *   the nodule's radius (diameter / 2);
 * - a nodule hit by several candidates is one true positive, at the highest of their
 *   probabilities; a candidate inside two nodules counts for both;
 * - a candidate inside an excluded finding (and no nodule) is ignored; an excluded finding with
 *   a negative diameter is taken as 10 mm across, as the script does;
 * - every other candidate is a false positive; nodules no candidate hits are misses;
 * - the FROC curve: for each probability threshold, from the highest, (false positives per scan,
 *   detected nodules / all nodules), from (0, 0), candidates of equal probability entering
 *   together; the sensitivity at 1/8, 1/4, 1/2, 1, 2, 4 and 8 false positives per scan is read
 *   off it by linear interpolation (at a rate the curve reaches several times, its highest
 *   sensitivity there; past its end, its last), and the CPM is their mean.
 *
 * Differences, on purpose: the script reads each operating point at the nearest of 10,001
 * evenly spaced rates between 1/8 and 8 (so 1/4 is read at 0.2502…, 1 at 0.99991…); this reads
 * it at the rate itself. On a sloped part of the curve the two agree to its slope × 0.0004
 * FP/scan; where rate × scans is exactly a false-positive count at which the curve steps up, the
 * script reads just below the step and this at its top. A nodule with a negative diameter is
 * refused here (the script takes it as 10 mm, a rule meant for excluded findings). Checked
 * against the script on 420 random cases: equal to 1e-16 at the exact rates.
 *
 * Pure and deterministic: no input order, number spelling or floating-point summation order
 * changes a result (counts are integers; each sensitivity is one division).
 */

export const FROC_FP_RATES = [0.125, 0.25, 0.5, 1, 2, 4, 8] as const;

/** A scan's candidates beyond its most probable this many are not scored (the LUNA16 script's cut). */
export const MAX_CANDIDATES_PER_SCAN = 100;

/** An excluded finding with a negative diameter is this wide (the LUNA16 script's rule). */
export const EXCLUDED_DEFAULT_DIAMETER_MM = 10;

export interface Finding {
  seriesuid: string;
  x: number;
  y: number;
  z: number;
  diameterMm: number;
}

export interface Candidate {
  seriesuid: string;
  x: number;
  y: number;
  z: number;
  probability: number;
}

export interface FrocInput {
  /** The scans scored: the false-positive rate's denominator (scans with no nodules count). */
  scans: ReadonlySet<string>;
  nodules: readonly Finding[];
  excluded?: readonly Finding[];
  /** Candidates on scans outside `scans` are not scored. */
  candidates: readonly Candidate[];
}

export interface FrocResult {
  /** Sensitivity at each of FROC_FP_RATES. */
  sensitivities: number[];
  /** The mean of the seven sensitivities (competition performance metric). */
  cpm: number;
  nodules: number;
  detected: number;
  falsePositives: number;
  scans: number;
}

/** Input the metric cannot score (no scans, no nodules, a value that is not a finite number). */
export class MetricInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetricInputError';
  }
}

interface Point {
  probability: number;
  /** +1 per detected nodule, +1 per false positive, at this probability. */
  tp: number;
  fp: number;
}

export function froc(input: FrocInput): FrocResult {
  if (input.scans.size === 0) throw new MetricInputError('no scans to score');
  const nodules = input.nodules.filter((n) => input.scans.has(n.seriesuid));
  if (nodules.length === 0) throw new MetricInputError('the scored scans have no annotated nodules');
  for (const f of [...nodules, ...(input.excluded ?? [])]) finite(f, [f.x, f.y, f.z, f.diameterMm], 'annotation');
  for (const n of nodules) if (n.diameterMm <= 0) throw new MetricInputError(`a nodule of ${n.seriesuid} has no positive diameter`);

  const bySeries = new Map<string, { nodules: Finding[]; excluded: Finding[]; candidates: Candidate[] }>();
  const slot = (s: string) => {
    let v = bySeries.get(s);
    if (v === undefined) bySeries.set(s, (v = { nodules: [], excluded: [], candidates: [] }));
    return v;
  };
  for (const n of nodules) slot(n.seriesuid).nodules.push(n);
  for (const e of input.excluded ?? []) if (input.scans.has(e.seriesuid)) slot(e.seriesuid).excluded.push(e);
  for (const c of input.candidates) {
    if (!input.scans.has(c.seriesuid)) continue;
    finite(c, [c.x, c.y, c.z, c.probability], 'candidate');
    slot(c.seriesuid).candidates.push(c);
  }

  // Each detected nodule at its best candidate's probability; each false positive at its own.
  const hits: number[] = [];
  const falsePositives: number[] = [];
  for (const s of bySeries.values()) {
    s.candidates = mostProbable(s.candidates, MAX_CANDIDATES_PER_SCAN);
    const onAFinding = new Array<boolean>(s.candidates.length).fill(false);
    for (const n of s.nodules) {
      let best: number | undefined;
      s.candidates.forEach((c, i) => {
        if (!within(c, n, n.diameterMm)) return;
        onAFinding[i] = true;
        if (best === undefined || c.probability > best) best = c.probability;
      });
      if (best !== undefined) hits.push(best);
    }
    for (const e of s.excluded) {
      const diameter = e.diameterMm < 0 ? EXCLUDED_DEFAULT_DIAMETER_MM : e.diameterMm;
      s.candidates.forEach((c, i) => {
        if (within(c, e, diameter)) onAFinding[i] = true;
      });
    }
    s.candidates.forEach((c, i) => {
      if (!onAFinding[i]) falsePositives.push(c.probability);
    });
  }

  const curve = frocCurve(hits, falsePositives);
  const scans = input.scans.size;
  const sensitivities = FROC_FP_RATES.map((rate) => sensitivityAt(curve, rate * scans) / nodules.length);
  return {
    sensitivities,
    cpm: sensitivities.reduce((a, b) => a + b, 0) / sensitivities.length,
    nodules: nodules.length,
    detected: hits.length,
    falsePositives: falsePositives.length,
    scans,
  };
}

/** The candidates strictly more probable than the (max+1)-th most probable (all, when there are at most max). */
function mostProbable(candidates: Candidate[], max: number): Candidate[] {
  if (candidates.length <= max) return candidates;
  const cut = candidates.map((c) => c.probability).sort((a, b) => b - a)[max];
  return candidates.filter((c) => c.probability > cut);
}

function finite(what: { seriesuid: string }, values: number[], kind: string): void {
  if (!values.every(Number.isFinite)) throw new MetricInputError(`a ${kind} of ${what.seriesuid} has a value that is not a finite number`);
}

/** Strictly inside the sphere of the finding's diameter, as the script's `dist < radius²`. */
function within(c: Candidate, f: Finding, diameterMm: number): boolean {
  const dx = c.x - f.x;
  const dy = c.y - f.y;
  const dz = c.z - f.z;
  const r = diameterMm / 2;
  return dx * dx + dy * dy + dz * dz < r * r;
}

/**
 * The curve's points in counts: (false positives, detected nodules) at each distinct
 * probability from the highest, after (0, 0). Integers, so no summation order matters.
 */
function frocCurve(hits: number[], falsePositives: number[]): { fp: number; tp: number }[] {
  const at = new Map<number, Point>();
  const point = (p: number) => {
    let v = at.get(p);
    if (v === undefined) at.set(p, (v = { probability: p, tp: 0, fp: 0 }));
    return v;
  };
  for (const p of hits) point(p).tp++;
  for (const p of falsePositives) point(p).fp++;
  const curve = [{ fp: 0, tp: 0 }];
  let fp = 0;
  let tp = 0;
  for (const p of [...at.values()].sort((a, b) => b.probability - a.probability)) {
    fp += p.fp;
    tp += p.tp;
    curve.push({ fp, tp });
  }
  return curve;
}

/**
 * Detected nodules at `fpCount` false positives, interpolated linearly on the curve: at a count
 * the curve reaches several times, the highest; past the curve's end, its last value.
 */
function sensitivityAt(curve: { fp: number; tp: number }[], fpCount: number): number {
  let j = 0;
  for (let i = 0; i < curve.length; i++) if (curve[i].fp <= fpCount) j = i;
  const a = curve[j];
  if (a.fp === fpCount || j === curve.length - 1) return a.tp;
  const b = curve[j + 1];
  return a.tp + ((b.tp - a.tp) * (fpCount - a.fp)) / (b.fp - a.fp);
}
