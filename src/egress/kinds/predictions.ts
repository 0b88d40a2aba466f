import type { WorldBoundingBox } from '../../datasets/metaimage-header';
import { type ExactDecimal, decimalFromNumber, formatScaled, normalizeDecimal, parseDecimal, roundToMultiple } from './decimal';
import type { CheckedArtifact, PredictionsKind } from './egress-kind.types';
import { EgressRejection } from './egress-rejection';
import { roundBitsUp } from './information-bits';
import { decodeTextSubmission } from './text-submission';

/** The one accepted header line, byte for byte; also the canonical header. */
export const PREDICTIONS_HEADER = 'seriesuid,coordX,coordY,coordZ,probability';

const COORDINATE_FIELDS = ['coordX', 'coordY', 'coordZ'] as const;
const PLAIN_DECIMAL_RE = /^-?(?:0|[1-9]\d*)(?:\.\d+)?$/;
/** Longest number token accepted: far more digits than any coordinate or probability needs,
 * few enough that exact BigInt rounding stays cheap. */
export const MAX_NUMBER_CHARS = 32;
const CONTROL_RE = /[\x00-\x1f\x7f]/;

/** A scan's coordinate grid: quantum steps lo..hi per axis, and the bits a row on it costs. */
interface ScanGrid {
  lo: [bigint, bigint, bigint];
  hi: [bigint, bigint, bigint];
  coordinateBits: number;
  submittedRows: number;
}

interface Row {
  uid: string;
  x: bigint;
  y: bigint;
  z: bigint;
  p: bigint;
}

function reject(code: ConstructorParameters<typeof EgressRejection>[0], line: number | undefined, detail: string, field?: string): never {
  throw new EgressRejection(code, detail, { line, field });
}

/** The quantum as an exact decimal; its fraction digits are the canonical coordinate decimals. */
function quantumOf(kind: PredictionsKind): ExactDecimal {
  const q = normalizeDecimal(decimalFromNumber(kind.coordinateQuantumMm));
  if (q.negative || q.units === 0n) throw new RangeError('coordinateQuantumMm must be > 0');
  return q;
}

function gridOf(box: WorldBoundingBox, quantum: ExactDecimal): ScanGrid {
  const lo: [bigint, bigint, bigint] = [0n, 0n, 0n];
  const hi: [bigint, bigint, bigint] = [0n, 0n, 0n];
  let coordinateBits = 0;
  for (let a = 0; a < 3; a++) {
    if (!Number.isFinite(box.min[a]) || !Number.isFinite(box.max[a]) || box.min[a] > box.max[a]) {
      throw new RangeError('scan bounding box is not a finite, ordered box');
    }
    lo[a] = roundToMultiple(decimalFromNumber(box.min[a]), quantum);
    hi[a] = roundToMultiple(decimalFromNumber(box.max[a]), quantum);
    coordinateBits += Math.log2(Number(hi[a] - lo[a] + 1n));
  }
  return { lo, hi, coordinateBits, submittedRows: 0 };
}

function plainDecimal(text: string, line: number, field: string): ExactDecimal {
  if (text.length > MAX_NUMBER_CHARS || !PLAIN_DECIMAL_RE.test(text)) {
    reject('malformed_number', line, `${field} is not a plain decimal number (digits, optional "-" and ".", no exponent, at most ${MAX_NUMBER_CHARS} characters)`, field);
  }
  return parseDecimal(text);
}

function compareRows(a: Row, b: Row): number {
  if (a.uid !== b.uid) return a.uid < b.uid ? -1 : 1;
  for (const k of ['x', 'y', 'z', 'p'] as const) {
    if (a[k] !== b[k]) return a[k] < b[k] ? -1 : 1;
  }
  return 0;
}

/**
 * Checks a LUNA16 results CSV against `kind` and the test-split scans the team may predict on,
 * and rewrites it into canonical form (see policies/egress/README.md for every rule). Security
 * rules: a series outside `scans` is `unknown_series` whether or not it exists elsewhere (no
 * split oracle); canonical form removes low-order digits, order, spelling and line endings as
 * channels; bits bound what the canonical file can carry.
 */
export function checkPredictions(bytes: Buffer, kind: PredictionsKind, scans: ReadonlyMap<string, WorldBoundingBox>): CheckedArtifact {
  const quantum = quantumOf(kind);
  const probabilityQuantum: ExactDecimal = { negative: false, units: 1n, scale: kind.probabilityDecimals };
  const text = decodeTextSubmission(bytes, kind.maxBytes);

  const firstNewline = text.indexOf('\n');
  const crlf = firstNewline > 0 && text.charCodeAt(firstNewline - 1) === 0x0d;
  const parts = text.split('\n');
  const terminated = parts.length - 1;
  if (parts[parts.length - 1] === '') parts.pop(); // the one optional final line ending

  const grids = new Map<string, ScanGrid>();
  const rows: Row[] = [];
  for (let i = 0; i < parts.length; i++) {
    const lineNo = i + 1;
    let line = parts[i];
    if (crlf && i < terminated) {
      if (!line.endsWith('\r')) reject('inconsistent_line_endings', lineNo, 'line ends with LF, but the file uses CRLF (from line 1)');
      line = line.slice(0, -1);
    }
    if (line.endsWith('\r')) reject('inconsistent_line_endings', lineNo, crlf ? 'line ends with a stray CR' : 'line ends with CRLF, but the file uses LF (from line 1)');
    if (CONTROL_RE.test(line)) reject('control_character', lineNo, 'line contains a control character (tab, CR, NUL, …)');
    if (line === '') reject('blank_line', lineNo, 'blank lines are not allowed');
    if (line.charCodeAt(0) === 0x23) reject('comment_line', lineNo, 'comment lines are not allowed');
    if (line.includes('"')) reject('quoted_field', lineNo, 'quoting is not allowed');
    if (i === 0) {
      if (line !== PREDICTIONS_HEADER) reject('bad_header', lineNo, `the first line must be exactly "${PREDICTIONS_HEADER}"`);
      continue;
    }

    if (i > kind.maxRows) reject('too_many_rows', lineNo, `more than the kind's limit of ${kind.maxRows} rows`);
    const fields = line.split(',');
    if (fields.length !== 5) reject('field_count', lineNo, 'a row must have exactly 5 comma-separated fields');
    const [uid, ...numbers] = fields;

    let grid = grids.get(uid);
    if (grid === undefined) {
      const box = scans.get(uid);
      if (box === undefined) reject('unknown_series', lineNo, 'seriesuid is not a scan this job may predict on', 'seriesuid');
      grid = gridOf(box, quantum);
      grids.set(uid, grid);
    }
    if (++grid.submittedRows > kind.maxCandidatesPerScan) {
      reject('too_many_candidates', lineNo, `more than the kind's limit of ${kind.maxCandidatesPerScan} candidates for one scan`, 'seriesuid');
    }

    const steps: bigint[] = [];
    for (let a = 0; a < 3; a++) {
      const field = COORDINATE_FIELDS[a];
      const s = roundToMultiple(plainDecimal(numbers[a], lineNo, field), quantum);
      if (s < grid.lo[a] || s > grid.hi[a]) reject('out_of_bounds', lineNo, `${field} is outside the scan's bounding box`, field);
      steps.push(s);
    }
    const probability = plainDecimal(numbers[3], lineNo, 'probability');
    // Exact test on the value as written: negative (but not -0) or above 1 is refused.
    if (probability.negative || probability.units > 10n ** BigInt(probability.scale)) {
      reject('probability_out_of_range', lineNo, 'probability is outside [0, 1]', 'probability');
    }
    rows.push({ uid, x: steps[0], y: steps[1], z: steps[2], p: roundToMultiple(probability, probabilityQuantum) });
  }
  if (rows.length === 0) reject('no_rows', undefined, 'the file has no data rows');

  // Canonical order; rows equal after rounding are merged (a set of candidates, not a list).
  rows.sort(compareRows);
  const unique: Row[] = [];
  for (const row of rows) {
    if (unique.length === 0 || compareRows(unique[unique.length - 1], row) !== 0) unique.push(row);
  }

  const coordinate = (s: bigint): string => formatScaled(s * quantum.units, quantum.scale);
  const out: string[] = [PREDICTIONS_HEADER];
  const rowsPerScan = new Map<string, number>();
  for (const r of unique) {
    out.push(`${r.uid},${coordinate(r.x)},${coordinate(r.y)},${coordinate(r.z)},${formatScaled(r.p, kind.probabilityDecimals)}`);
    rowsPerScan.set(r.uid, (rowsPerScan.get(r.uid) ?? 0) + 1);
  }
  out.push('');

  // Row count (1..maxRows), then per row: seriesuid (one of the scans), three coordinates on
  // that scan's grid, probability (10^d + 1 values).
  let bits = Math.log2(kind.maxRows) + unique.length * (Math.log2(scans.size) + Math.log2(10 ** kind.probabilityDecimals + 1));
  for (const [uid, count] of rowsPerScan) bits += count * (grids.get(uid)?.coordinateBits ?? 0);

  return {
    canonical: Buffer.from(out.join('\n'), 'utf8'),
    bits: roundBitsUp(bits),
    rows: unique.length,
    summary: { rows: unique.length, scans: rowsPerScan.size },
  };
}
