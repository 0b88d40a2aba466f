import { type Readable } from 'node:stream';
import { parse } from 'csv-parse';

export interface CsvRule {
  /** The columns that survive, by header name; every other column is dropped. */
  columns: string[];
  /** Of those, the ones holding series or patient identifiers: replaced by their pseudonyms. */
  pseudonymize: string[];
}

export class CsvRefusal extends Error {}

export interface CleansedCsv {
  bytes: Buffer;
  rows: number;
  droppedColumns: string[];
}

const BATCH = 500;

function field(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/**
 * A label CSV, cleansed: header row required, only `rule.columns` kept (in the file's order),
 * identifiers mapped through `pseudonyms` (resolved a batch of rows at a time), `\n` line ends,
 * RFC 4180 quoting. Parsed as a stream by csv-parse; a malformed file is refused whole.
 */
export async function cleanseCsv(
  source: Readable,
  rule: CsvRule,
  pseudonyms: (originals: string[]) => Promise<Map<string, string>>,
): Promise<CleansedCsv> {
  const parser = source.pipe(parse({ bom: true, relax_column_count: false, skip_empty_lines: true }));
  source.on('error', (err) => parser.destroy(err));
  const out: string[] = [];
  let keep: number[] | undefined;
  let mapped: Set<number> = new Set();
  let droppedColumns: string[] = [];
  let rows = 0;
  let batch: string[][] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const ids = batch.flatMap((r) => [...mapped].map((i) => r[i])).filter((v) => v !== '');
    const map = ids.length === 0 ? new Map<string, string>() : await pseudonyms(ids);
    for (const r of batch) out.push(keep!.map((i) => field(mapped.has(i) && r[i] !== '' ? (map.get(r[i]) ?? '') : r[i])).join(','));
    rows += batch.length;
    batch = [];
  };
  try {
    for await (const record of parser) {
      const r = record as string[];
      if (keep === undefined) {
        const missing = rule.columns.filter((c) => !r.includes(c));
        if (missing.length > 0) throw new CsvRefusal(`the configured column(s) ${missing.join(', ')} are not in the header`);
        keep = r.map((_, i) => i).filter((i) => rule.columns.includes(r[i]));
        mapped = new Set(keep.filter((i) => rule.pseudonymize.includes(r[i])));
        droppedColumns = r.filter((c) => !rule.columns.includes(c));
        out.push(keep.map((i) => field(r[i])).join(','));
        continue;
      }
      batch.push(r);
      if (batch.length >= BATCH) await flush();
    }
  } catch (err) {
    if (err instanceof CsvRefusal) throw err;
    // csv-parse's messages may quote a cell: only the line number is kept.
    const line = (err as { lines?: number }).lines;
    throw new CsvRefusal(`not a well-formed CSV${line === undefined ? '' : ` (line ${line})`}`);
  }
  if (keep === undefined) throw new CsvRefusal('the CSV is empty (no header row)');
  await flush();
  return { bytes: Buffer.from(out.join('\n') + '\n', 'utf8'), rows, droppedColumns };
}
