import Table from 'cli-table3';

/** The slice of a writable stream the CLI writes to; `process.stdout` and test buffers both fit. */
export interface CliStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export type Cell = string | number | boolean | null | undefined;

/** Human and machine output for one command run: `--json` prints the API's own JSON. */
export class Output {
  constructor(
    readonly stdout: CliStream,
    readonly stderr: CliStream,
    readonly json: boolean,
  ) {}

  /** Writes the server's JSON as is (pretty-printed), so scripts see exactly the API shape. */
  data(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  line(text: string): void {
    this.stdout.write(`${text}\n`);
  }

  /** Notes for people (warnings, hints) go to stderr, keeping stdout clean for pipes. */
  note(text: string): void {
    this.stderr.write(`${text}\n`);
  }

  table(head: string[], rows: Cell[][], empty: string): void {
    if (rows.length === 0) {
      this.line(empty);
      return;
    }
    const table = new Table({ head, style: { head: [], border: [] } });
    for (const row of rows) table.push(row.map(cell));
    this.line(table.toString());
  }

  /** A two-column "field: value" table for one object. */
  record(rows: [string, Cell][]): void {
    const table = new Table({ style: { head: [], border: [] } });
    for (const [k, v] of rows) table.push({ [k]: cell(v) });
    this.line(table.toString());
  }
}

function cell(v: Cell): string {
  if (v === null || v === undefined || v === '') return '-';
  return String(v);
}

/** `1536` → `1.5 KiB`; null (not indexed yet) → `-`. */
export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function count(n: number | null | undefined): string {
  return n === null || n === undefined ? '-' : n.toLocaleString('en-US');
}

/** ISO time without milliseconds, still ISO 8601 UTC: `2025-06-01T12:00:00Z`. */
export function time(iso: string | null | undefined): string {
  if (iso === null || iso === undefined) return '-';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
