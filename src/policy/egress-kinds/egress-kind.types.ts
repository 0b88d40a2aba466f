/**
 * Egress kinds: what may leave the sandbox, in which form, and how much information it can
 * carry. Definitions come from `policies/egress/<kind>.json` (see that folder's README.md);
 * whether a kind may leave at all, and after which review, is Cedar policy's decision.
 */

/** Review an artifact needs before release. Policy may ask for more, never for less. */
export type ReviewMode = 'none' | 'two-person';

/** LUNA16 results CSV: `seriesuid,coordX,coordY,coordZ,probability`. */
export interface PredictionsKind {
  readonly kind: string;
  readonly format: 'predictions-csv';
  /** Refused above this many bytes (the pipeline also caps the stream). */
  readonly maxBytes: number;
  /** Refused above this many data rows (header excluded), counted as submitted. */
  readonly maxRows: number;
  /** Refused above this many rows for one seriesuid, counted as submitted. */
  readonly maxCandidatesPerScan: number;
  /** Coordinates (world mm) are rounded to multiples of this; a plain decimal, ≤ 6 fraction digits. */
  readonly coordinateQuantumMm: number;
  /** Probability is rounded to, and printed with, this many decimals. */
  readonly probabilityDecimals: number;
  readonly review: ReviewMode;
}

/** `{"n": <cohort size>, "metrics": {name: number | number[]}}`. */
export interface MetricsKind {
  readonly kind: string;
  readonly format: 'metrics-json';
  readonly maxBytes: number;
  /** Allow-list of metric names. */
  readonly metrics: readonly string[];
  /** A series (e.g. a loss curve) has 1..maxSeriesLength values. */
  readonly maxSeriesLength: number;
  /** Values are rounded to this many significant digits (1..15). */
  readonly significantDigits: number;
  /** `n` below this is refused (SDC threshold rule). */
  readonly minCohort: number;
  readonly maxCohort: number;
  /** Inclusive range of the decimal exponent e of a non-zero rounded value m × 10^e, 1 ≤ |m| < 10. */
  readonly exponentRange: readonly [number, number];
  readonly review: ReviewMode;
}

/** Bytes nobody can check by eye (trained weights): size cap only, 8 bits charged per byte. */
export interface OpaqueKind {
  readonly kind: string;
  readonly format: 'opaque';
  readonly maxBytes: number;
  readonly review: ReviewMode;
}

/**
 * Predictions that never leave: checked with the predictions rules (`predictions-csv`), stored
 * inside, scored against hidden labels; only the competition's score is released (the
 * leaderboard, src/leaderboard). The kind file is the competition's scoring rules.
 */
export interface SubmissionsKind extends Omit<PredictionsKind, 'format'> {
  readonly format: 'predictions-score';
  /** A metric the gateway has built in (src/leaderboard/metrics), e.g. `luna16-froc`. */
  readonly metric: string;
  /** The hidden labels: objects of the dataset's bucket no job can read. */
  readonly labels: { readonly dataset: string; readonly annotations: string; readonly excluded?: string };
  /** Share of the test scans in the public part (shown during the competition); the rest is private. */
  readonly publicFraction: number;
  /** The Ladder's step: a shown score moves only when a submission beats it by more, and is rounded to it. */
  readonly ladderStep: number;
  /** Submissions a team may select for the final, private ranking. */
  readonly selections: number;
}

export type EgressKind = PredictionsKind | MetricsKind | OpaqueKind | SubmissionsKind;
export type EgressFormat = EgressKind['format'];

/** Kind name → validated definition. */
export type EgressKinds = ReadonlyMap<string, EgressKind>;

/**
 * An artifact that passed its kind's checks. Everything here is a function of the canonical
 * bytes alone (never of how the submission spelled them), so nothing that is logged or shown
 * can carry what canonicalization removed.
 */
export interface CheckedArtifact {
  /** The bytes that are released, if anything is. */
  canonical: Buffer;
  /** Upper bound on the information the canonical artifact carries, rounded up to 0.001 bit. */
  bits: number;
  /** Data rows (predictions), metrics present (metrics), 0 (opaque). */
  rows: number;
  summary: Record<string, number | string>;
  /** Predictions: the series the artifact names (each must still be predictable at release). */
  series?: readonly string[];
}
