/**
 * What a refusal tells the outside, and what that costs. A refused artifact is shown to its
 * team's contestants as a row with a reason code, a line and a field: feedback the job chose by
 * what it sent, so it is a channel out of the cage like any released artifact. Every refusal is
 * therefore charged a fixed number of bits — log2 of how many distinct feedbacks the kind can
 * give — whatever it actually said, and counts against the kind's daily submission cap.
 * See docs/disclosure.md for the whole inventory of channels.
 */
import type { EgressKind, EgressKinds } from '../../policy/egress-kinds/egress-kind.types';
import { METRICS_REJECTION_CODES, OPAQUE_REJECTION_CODES, PREDICTIONS_REJECTION_CODES, type EgressRejectionCode } from './egress-rejection';
import { roundBitsUp } from './information-bits';

/** Refusals decided by policy rather than by the kind's checker (a kind without a permit, an unsigned upload). */
export const POLICY_REFUSAL_CODE = 'policy_denied';
export type RefusalCode = EgressRejectionCode | typeof POLICY_REFUSAL_CODE;

/**
 * The one message a contestant sees per code. Fixed text, so the message adds nothing to what
 * the code already says; the job itself gets the checker's fuller message (inside the cage).
 */
export const REFUSAL_MESSAGES: Readonly<Record<RefusalCode, string>> = {
  too_large: "larger than the kind's byte limit",
  empty: 'the artifact is empty',
  byte_order_mark: 'the artifact starts with a byte-order mark',
  invalid_utf8: 'the artifact is not valid UTF-8',
  control_character: 'a line contains a control character (tab, CR, NUL, …)',
  line_too_long: 'a line is longer than the kind allows',
  inconsistent_line_endings: 'line endings mix CRLF and LF',
  blank_line: 'blank lines are not allowed',
  comment_line: 'comment lines are not allowed',
  quoted_field: 'quoting is not allowed',
  bad_header: 'the first line is not the exact header',
  field_count: 'a row does not have exactly 5 fields',
  too_many_rows: "more rows than the kind's limit",
  unknown_series: 'the series is unknown',
  too_many_candidates: "more candidates for one scan than the kind's limit",
  malformed_number: 'a number is not a plain decimal',
  out_of_bounds: "a coordinate is outside the scan's bounding box",
  probability_out_of_range: 'a probability is outside [0, 1]',
  no_rows: 'the file has no data rows',
  invalid_json: 'not valid JSON',
  duplicate_key: 'an object has the same key twice',
  wrong_type: 'a value has the wrong type',
  unknown_field: 'a field is not allowed',
  missing_field: 'a required field is missing',
  unknown_metric: 'a metric name is not on the allow-list',
  no_metrics: '"metrics" is empty',
  series_empty: 'a series has no values',
  series_too_long: "a series is longer than the kind's limit",
  not_an_integer: '"n" is not an integer',
  cohort_too_small: "the cohort is below the kind's minimum",
  cohort_too_large: "the cohort is above the kind's maximum",
  out_of_range: "a value's magnitude is outside the kind's range",
  policy_denied: 'policy does not let this artifact leave',
};

/**
 * Every status a contestant can see on an attempt's row. `failed` rows (the gateway could not
 * log or store a release) are not shown to contestants at all: the job did not choose them.
 */
export const VISIBLE_STATUSES = ['releasing', 'released', 'pending_review', 'rejected'] as const;

/** Rows are shown to contestants at the end of the publication slot they were made in (CAGE_EGRESS_PUBLISH_SECONDS, 60 s by default). */
export const DEFAULT_PUBLISH_SECONDS = 60;

export function slotsPerDay(publishSeconds: number): number {
  return Math.ceil(86_400 / publishSeconds);
}

/** The distinct feedbacks a refusal of `kind` can show: codes × lines (or none) × fields (or none). */
export function refusalFeedbackSpace(kind: EgressKind): { codes: number; lines: number; fields: number } {
  switch (kind.format) {
    case 'predictions-csv':
    case 'predictions-score':
      // A refusal names a line up to maxRows + 2 (the header, maxRows rows, the row over the
      // limit); fields are the five columns.
      return { codes: PREDICTIONS_REJECTION_CODES.length + 1, lines: kind.maxRows + 3, fields: 6 };
    case 'metrics-json':
      // A document of maxBytes bytes has at most maxBytes + 1 lines; fields are n, metrics and
      // metrics.<name> for each allowed name.
      return { codes: METRICS_REJECTION_CODES.length + 1, lines: kind.maxBytes + 2, fields: kind.metrics.length + 3 };
    case 'opaque':
      return { codes: OPAQUE_REJECTION_CODES.length + 1, lines: 1, fields: 1 };
  }
}

/** Bits one refusal of `kind` is charged: log2 of its feedback space, rounded up. */
export function refusalBits(kind: EgressKind): number {
  const s = refusalFeedbackSpace(kind);
  return roundBitsUp(Math.log2(s.codes) + Math.log2(s.lines) + Math.log2(s.fields));
}

/**
 * Bits every attempt is charged on top of its content or refusal: which kind it was, which
 * status it shows, in which publication slot of the day it appeared (the job chose when to
 * submit), and one bit for "one more attempt" (so a day's attempts, however many, form a prefix
 * code: at most 2^(B+1) distinct days cost B bits).
 */
export function attemptBits(kinds: EgressKinds, slots = slotsPerDay(DEFAULT_PUBLISH_SECONDS)): number {
  return roundBitsUp(Math.log2(kinds.size * VISIBLE_STATUSES.length * slots) + 1);
}
