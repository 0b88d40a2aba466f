import type { WorldBoundingBox } from '../../datasets/metaimage-header';
import { type ExactDecimal, decimalFromNumber, formatScaled, normalizeDecimal, roundPlainToMultiple, roundToMultiple } from './decimal';
import type { CheckedArtifact, PredictionsKind } from '../../policy/egress-kinds/egress-kind.types';
import { EgressOverBudget, EgressRejection, type EgressRejectionCode } from './egress-rejection';
import { roundBitsUp } from './information-bits';
import { UTF8_BOM } from './text-submission';

/** The one accepted header line, byte for byte; also the canonical header. */
export const PREDICTIONS_HEADER = 'seriesuid,coordX,coordY,coordZ,probability';

const COORDINATE_FIELDS = ['coordX', 'coordY', 'coordZ'] as const;
const PLAIN_DECIMAL_RE = /^-?(?:0|[1-9]\d*)(?:\.\d+)?$/;
/** Longest number token accepted: far more digits than any coordinate or probability needs,
 * few enough that exact BigInt rounding stays cheap. */
export const MAX_NUMBER_CHARS = 32;
// Matching control characters is the point of this pattern.
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\x00-\x1f\x7f]/;

/** A scan's coordinate grid: quantum steps lo..hi per axis, and the bits a row on it costs. */
interface ScanGrid {
  lo: [number, number, number];
  hi: [number, number, number];
  coordinateBits: number;
  /** This scan's rows as submitted, then sorted and merged. */
  rows: Row[];
}

interface Row {
  /** Quantum steps and probability steps: safe integers. */
  x: number;
  y: number;
  z: number;
  p: number;
}

function reject(code: EgressRejectionCode, line: number | undefined, detail: string, field?: string): never {
  throw new EgressRejection(code, detail, { line, field });
}

/** The quantum as an exact decimal; its fraction digits are the canonical coordinate decimals. */
function quantumOf(kind: PredictionsKind): ExactDecimal {
  const q = normalizeDecimal(decimalFromNumber(kind.coordinateQuantumMm));
  if (q.negative || q.units === 0n) throw new RangeError('coordinateQuantumMm must be > 0');
  return q;
}

function gridOf(box: WorldBoundingBox, quantum: ExactDecimal): ScanGrid {
  const lo: [number, number, number] = [0, 0, 0];
  const hi: [number, number, number] = [0, 0, 0];
  let coordinateBits = 0;
  for (let a = 0; a < 3; a++) {
    if (!Number.isFinite(box.min[a]) || !Number.isFinite(box.max[a]) || box.min[a] > box.max[a]) {
      throw new RangeError('scan bounding box is not a finite, ordered box');
    }
    lo[a] = Number(roundToMultiple(decimalFromNumber(box.min[a]), quantum));
    hi[a] = Number(roundToMultiple(decimalFromNumber(box.max[a]), quantum));
    // Printed values are steps × quantum units: keep them exact integers.
    const limit = Number.MAX_SAFE_INTEGER / Number(quantum.units);
    if (Math.abs(lo[a]) > limit || Math.abs(hi[a]) > limit) throw new RangeError('scan bounding box is too large for the quantum');
    coordinateBits += Math.log2(hi[a] - lo[a] + 1);
  }
  return { lo, hi, coordinateBits, rows: [] };
}

function plainDecimal(text: string, line: number, field: string): string {
  if (text.length > MAX_NUMBER_CHARS || !PLAIN_DECIMAL_RE.test(text)) {
    reject(
      'malformed_number',
      line,
      `${field} is not a plain decimal number (digits, optional "-" and ".", no exponent, at most ${MAX_NUMBER_CHARS} characters)`,
      field,
    );
  }
  return text;
}

/** Exact [0, 1] test on a plain decimal as written: "-0", "-0.000" are 0; "1.0001" is out. */
function probabilityInRange(text: string): boolean {
  if (text.charCodeAt(0) === 45) return /^-0(?:\.0+)?$/.test(text);
  return text.charCodeAt(0) === 48 || /^1(?:\.0+)?$/.test(text);
}

/** Within one scan: coordX, coordY, coordZ, then probability, numerically. */
function compareRows(a: Row, b: Row): number {
  return a.x - b.x || a.y - b.y || a.z - b.z || a.p - b.p;
}

/** Sorts in place and drops rows equal to their predecessor. */
function sortUnique(rows: Row[]): Row[] {
  rows.sort(compareRows);
  let n = 0;
  for (const row of rows) {
    if (n === 0 || compareRows(rows[n - 1], row) !== 0) rows[n++] = row;
  }
  rows.length = n;
  return rows;
}

/**
 * Longest line accepted, in characters: a 64-character DICOM UID, four numbers of at most
 * MAX_NUMBER_CHARS and four commas fit with room to spare. A longer line is refused as soon as
 * it is seen, so a body without line endings is not buffered.
 */
export const MAX_LINE_CHARS = 256;

/**
 * Checks a LUNA16 results CSV against `kind` and the test-split scans the team may predict on,
 * and rewrites it into canonical form (see policies/egress/README.md for every rule). Security
 * rules: a series outside `scans` is `unknown_series` whether or not it exists elsewhere (no
 * split oracle); canonical form removes low-order digits, order, spelling and line endings as
 * channels; bits bound what the canonical file can carry.
 */
export function checkPredictions(bytes: Buffer, kind: PredictionsKind, scans: ReadonlyMap<string, WorldBoundingBox>): CheckedArtifact {
  const checker = new PredictionsChecker(kind, scans);
  checker.push(bytes);
  return checker.end();
}

/**
 * The same checks, fed as the body streams in: each line is checked when its line ending
 * arrives, and the first broken rule throws at once, so a refused body stops being read there.
 * Memory is bounded by the kind's row limit and MAX_LINE_CHARS, never by what a client sends.
 */
export class PredictionsChecker {
  private readonly quantum: ExactDecimal;
  private readonly probabilityQuantum: ExactDecimal;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  private readonly grids = new Map<string, ScanGrid>();
  private readonly head: number[] = [];
  private bytes = 0;
  /** Text after the last line ending seen. */
  private pending = '';
  /** 0-based index of the next line. */
  private index = 0;
  /** Decided by the first line ending: CRLF or LF throughout. */
  private crlf: boolean | undefined;
  /** Bits of the rows as submitted so far: an upper bound of the canonical file's (merging only removes rows). */
  private bitsSoFar: number;
  private readonly perRowBits: number;

  /** `maxBits`: the reading stops with EgressOverBudget as soon as the rows read carry more. */
  constructor(
    private readonly kind: PredictionsKind,
    private readonly scans: ReadonlyMap<string, WorldBoundingBox>,
    private readonly maxBits = Infinity,
  ) {
    this.quantum = quantumOf(kind);
    this.probabilityQuantum = { negative: false, units: 1n, scale: kind.probabilityDecimals };
    this.bitsSoFar = Math.log2(kind.maxRows);
    this.perRowBits = Math.log2(scans.size) + Math.log2(10 ** kind.probabilityDecimals + 1);
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.bytes += chunk.length;
    if (this.bytes > this.kind.maxBytes)
      throw new EgressRejection('too_large', `artifact is larger than the kind's limit of ${this.kind.maxBytes} bytes`);
    for (let i = 0; this.head.length < UTF8_BOM.length && i < chunk.length; i++) this.head.push(chunk[i]);
    if (this.head.length === UTF8_BOM.length && UTF8_BOM.every((b, i) => this.head[i] === b)) {
      throw new EgressRejection('byte_order_mark', 'artifact starts with a byte-order mark', { line: 1 });
    }
    this.lines(this.decode(chunk, true));
  }

  end(): CheckedArtifact {
    if (this.bytes === 0) throw new EgressRejection('empty', 'artifact is empty');
    this.lines(this.decode(undefined, false));
    if (this.pending !== '') this.line(this.pending, false);
    if (this.grids.size === 0) reject('no_rows', undefined, 'the file has no data rows');
    return this.canonical();
  }

  private decode(chunk: Buffer | undefined, stream: boolean): string {
    try {
      return this.decoder.decode(chunk, { stream });
    } catch {
      throw new EgressRejection('invalid_utf8', 'artifact is not valid UTF-8');
    }
  }

  private lines(text: string): void {
    let from = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', from)) {
      const piece = text.slice(from, nl);
      const line = this.pending === '' ? piece : this.pending + piece;
      this.pending = '';
      from = nl + 1;
      if (line.length > MAX_LINE_CHARS + 1) this.tooLong();
      this.crlf ??= line.endsWith('\r');
      this.line(line, true);
    }
    this.pending += text.slice(from);
    if (this.pending.length > MAX_LINE_CHARS + 1) this.tooLong();
  }

  private tooLong(): never {
    return reject('line_too_long', this.index + 1, `a line is longer than ${MAX_LINE_CHARS} characters`);
  }

  private line(raw: string, terminated: boolean): void {
    const i = this.index++;
    const lineNo = i + 1;
    let line = raw;
    if (this.crlf === true && terminated) {
      if (!line.endsWith('\r')) reject('inconsistent_line_endings', lineNo, 'line ends with LF, but the file uses CRLF (from line 1)');
      line = line.slice(0, -1);
    }
    if (line.endsWith('\r'))
      reject(
        'inconsistent_line_endings',
        lineNo,
        this.crlf === true ? 'line ends with a stray CR' : 'line ends with CRLF, but the file uses LF (from line 1)',
      );
    if (CONTROL_RE.test(line)) reject('control_character', lineNo, 'line contains a control character (tab, CR, NUL, …)');
    if (line === '') reject('blank_line', lineNo, 'blank lines are not allowed');
    if (line.charCodeAt(0) === 0x23) reject('comment_line', lineNo, 'comment lines are not allowed');
    if (line.includes('"')) reject('quoted_field', lineNo, 'quoting is not allowed');
    if (i === 0) {
      if (line !== PREDICTIONS_HEADER) reject('bad_header', lineNo, `the first line must be exactly "${PREDICTIONS_HEADER}"`);
      return;
    }
    this.row(line, lineNo, i);
  }

  private row(line: string, lineNo: number, i: number): void {
    const kind = this.kind;
    if (i > kind.maxRows) reject('too_many_rows', lineNo, `more than the kind's limit of ${kind.maxRows} rows`);
    const fields = line.split(',');
    if (fields.length !== 5) reject('field_count', lineNo, 'a row must have exactly 5 comma-separated fields');
    const uid = fields[0];

    let grid = this.grids.get(uid);
    if (grid === undefined) {
      const box = this.scans.get(uid);
      if (box === undefined) reject('unknown_series', lineNo, 'seriesuid is not a scan this job may predict on', 'seriesuid');
      grid = gridOf(box, this.quantum);
      this.grids.set(uid, grid);
    }
    if (grid.rows.length >= kind.maxCandidatesPerScan) {
      reject(
        'too_many_candidates',
        lineNo,
        `more than the kind's limit of ${kind.maxCandidatesPerScan} candidates for one scan`,
        'seriesuid',
      );
    }

    const g = grid;
    const step = (a: number): number => {
      const field = COORDINATE_FIELDS[a];
      const s = roundPlainToMultiple(plainDecimal(fields[a + 1], lineNo, field), this.quantum);
      if (s < g.lo[a] || s > g.hi[a]) reject('out_of_bounds', lineNo, `${field} is outside the scan's bounding box`, field);
      return s;
    };
    const x = step(0);
    const y = step(1);
    const z = step(2);
    const probability = plainDecimal(fields[4], lineNo, 'probability');
    if (!probabilityInRange(probability)) reject('probability_out_of_range', lineNo, 'probability is outside [0, 1]', 'probability');
    g.rows.push({ x, y, z, p: roundPlainToMultiple(probability, this.probabilityQuantum) });
    this.bitsSoFar += this.perRowBits + g.coordinateBits;
    if (this.bitsSoFar > this.maxBits) throw new EgressOverBudget();
  }

  /**
   * Canonical order: seriesuid (UTF-16 code unit order), then coordinates and probability
   * numerically. Rows equal after rounding are merged: a set of candidates, not a list.
   */
  private canonical(): CheckedArtifact {
    const { kind, quantum, scans } = this;
    const quantumUnits = Number(quantum.units);
    const coordinate = (s: number): string => formatScaled(s * quantumUnits, quantum.scale);
    const out: string[] = [PREDICTIONS_HEADER];
    // Row count (1..maxRows), then per row: seriesuid (one of the scans), three coordinates on
    // that scan's grid, probability (10^d + 1 values).
    let bits = Math.log2(kind.maxRows);
    const perRowBits = Math.log2(scans.size) + Math.log2(10 ** kind.probabilityDecimals + 1);
    let released = 0;
    for (const [uid, grid] of [...this.grids].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      for (const r of sortUnique(grid.rows)) {
        out.push(`${uid},${coordinate(r.x)},${coordinate(r.y)},${coordinate(r.z)},${formatScaled(r.p, kind.probabilityDecimals)}`);
      }
      released += grid.rows.length;
      bits += grid.rows.length * (perRowBits + grid.coordinateBits);
    }
    out.push('');

    return {
      canonical: Buffer.from(out.join('\n'), 'utf8'),
      bits: roundBitsUp(bits),
      rows: released,
      summary: { rows: released, scans: this.grids.size },
      series: [...this.grids.keys()],
    };
  }
}
