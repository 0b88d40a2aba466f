import { parse } from 'csv-parse/sync';
import { type Candidate, type Finding, MetricInputError } from './froc';

/**
 * LUNA16's CSV files as the metric reads them: annotations (and excluded findings) with
 * `seriesuid,coordX,coordY,coordZ,diameter_mm`, predictions with
 * `seriesuid,coordX,coordY,coordZ,probability`; other columns are ignored, the named ones must
 * be there. Numbers are decimal, optionally with an exponent (what Python and pandas write);
 * anything else is refused with its line, never guessed.
 */

const NUMBER_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const SERIES_RE = /^[0-9A-Za-z._-]{1,128}$/;

export function parseFindingsCsv(text: string, what = 'annotations'): Finding[] {
  return rows(text, what, ['seriesuid', 'coordX', 'coordY', 'coordZ', 'diameter_mm']).map(([line, r]) => ({
    seriesuid: series(r.seriesuid, line, what),
    x: number(r.coordX, line, 'coordX', what),
    y: number(r.coordY, line, 'coordY', what),
    z: number(r.coordZ, line, 'coordZ', what),
    diameterMm: number(r.diameter_mm, line, 'diameter_mm', what),
  }));
}

export function parseCandidatesCsv(text: string, what = 'predictions'): Candidate[] {
  return rows(text, what, ['seriesuid', 'coordX', 'coordY', 'coordZ', 'probability']).map(([line, r]) => ({
    seriesuid: series(r.seriesuid, line, what),
    x: number(r.coordX, line, 'coordX', what),
    y: number(r.coordY, line, 'coordY', what),
    z: number(r.coordZ, line, 'coordZ', what),
    probability: number(r.probability, line, 'probability', what),
  }));
}

/** A scan list: one seriesuid a line, or a CSV with a `seriesuid` column. */
export function parseSeriesList(text: string, what = 'scans'): Set<string> {
  const first = text.split(/\r?\n/, 1)[0].trim();
  if (
    first
      .split(',')
      .map((c) => c.trim())
      .includes('seriesuid')
  )
    return new Set(rows(text, what, ['seriesuid']).map(([line, r]) => series(r.seriesuid, line, what)));
  return new Set(
    text
      .split(/\r?\n/)
      .map((l, i) => [i + 1, l.trim()] as const)
      .filter(([, l]) => l !== '')
      .map(([line, l]) => series(l, line, what)),
  );
}

function rows(text: string, what: string, required: string[]): [number, Record<string, string>][] {
  let records: string[][];
  try {
    records = parse(text, { bom: true, skip_empty_lines: true, trim: true, relax_column_count: false });
  } catch (err) {
    const line = (err as { lines?: number }).lines;
    throw new MetricInputError(`${what}: not a well-formed CSV file${line === undefined ? '' : ` (line ${line})`}`);
  }
  const [header, ...body] = records;
  if (header === undefined) throw new MetricInputError(`${what}: the file is empty`);
  const missing = required.filter((c) => !header.includes(c));
  if (missing.length > 0) throw new MetricInputError(`${what}: the header lacks ${missing.join(', ')}`);
  return body.map((cells, i) => [i + 2, Object.fromEntries(header.map((h, k) => [h, cells[k]]))]);
}

function number(text: string | undefined, line: number, field: string, what: string): number {
  const n = text !== undefined && NUMBER_RE.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(n)) throw new MetricInputError(`${what}: line ${line}: ${field} is not a finite decimal number`);
  return n;
}

function series(text: string | undefined, line: number, what: string): string {
  if (text === undefined || !SERIES_RE.test(text))
    throw new MetricInputError(`${what}: line ${line}: seriesuid must be 1 to 128 letters, digits, ".", "_" or "-"`);
  return text;
}
