/**
 * Why an artifact was refused. Codes are stable API (documented in policies/egress/README.md).
 * A rejection message never echoes submitted content — no values, no series ids, no metric
 * names that are not on the allow-list — only line numbers, field names and the kind's own
 * limits: rejections are logged and shown outside the sandbox, so an echo would be an egress
 * channel around every check.
 */

export const PREDICTIONS_REJECTION_CODES = [
  'too_large',
  'empty',
  'byte_order_mark',
  'invalid_utf8',
  'control_character',
  'line_too_long',
  'inconsistent_line_endings',
  'blank_line',
  'comment_line',
  'quoted_field',
  'bad_header',
  'field_count',
  'too_many_rows',
  'unknown_series',
  'too_many_candidates',
  'malformed_number',
  'out_of_bounds',
  'probability_out_of_range',
  'no_rows',
] as const;

export const METRICS_REJECTION_CODES = [
  'too_large',
  'empty',
  'byte_order_mark',
  'invalid_utf8',
  'invalid_json',
  'duplicate_key',
  'wrong_type',
  'unknown_field',
  'missing_field',
  'unknown_metric',
  'no_metrics',
  'series_empty',
  'series_too_long',
  'not_an_integer',
  'cohort_too_small',
  'cohort_too_large',
  'out_of_range',
] as const;

export const OPAQUE_REJECTION_CODES = ['too_large', 'empty'] as const;

export type EgressRejectionCode =
  (typeof PREDICTIONS_REJECTION_CODES)[number] | (typeof METRICS_REJECTION_CODES)[number] | (typeof OPAQUE_REJECTION_CODES)[number];

export interface RejectionPlace {
  /** 1-based line of the submission, when the problem has one. */
  line?: number;
  /** Column (predictions) or JSON path (metrics) named by the kind, never by the submission. */
  field?: string;
}

export class EgressRejection extends Error {
  readonly code: EgressRejectionCode;
  readonly line?: number;
  readonly field?: string;

  /** `detail` must be fixed text: never interpolate anything taken from the submission. */
  constructor(code: EgressRejectionCode, detail: string, place: RejectionPlace = {}) {
    super(place.line === undefined ? detail : `line ${place.line}: ${detail}`);
    this.name = 'EgressRejection';
    this.code = code;
    if (place.line !== undefined) this.line = place.line;
    if (place.field !== undefined) this.field = place.field;
  }
}

/**
 * Thrown by a checker when what it has read already carries more bits than the team has left
 * today: not a refusal the team sees (no row, no reasons), an attempt over its limits.
 */
export class EgressOverBudget extends Error {
  constructor() {
    super('the artifact carries more bits than remain today');
    this.name = 'EgressOverBudget';
  }
}
