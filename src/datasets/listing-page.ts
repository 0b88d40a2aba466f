import { type Database } from '../db/database';

/** A page of a dataset's index: dataset-relative keys, and whether more follow. */
export interface ListingPage {
  objects: { key: string; size: number; etag: string; lastModified: Date | undefined }[];
  truncated: boolean;
}

/** Which page of which index: at most `max` keys of `dataset` that start with `prefix` and sort after `startAfter`. */
export interface ListingRequest {
  table: 'manifest_entries' | 'dataset_objects';
  modifiedColumn: 'created_at' | 'last_modified';
  dataset: string;
  prefix: string;
  startAfter: string | undefined;
  max: number;
}

/**
 * A listing page in UTF-8 byte order: one range scan of the (dataset_id, key COLLATE "C")
 * index, bounded above by the prefix's end, so a page costs O(page) whatever the dataset's size.
 */
export async function listingPage(db: Database, request: ListingRequest): Promise<ListingPage> {
  const { name, sql, params } = listingQuery(request);
  const { rows } = await db.queryPrepared<{ key: string; size: string | number; etag: string; modified: Date | string | null }>(
    name,
    sql,
    params,
  );
  return {
    objects: rows.slice(0, request.max).map((r) => ({
      key: r.key,
      size: Number(r.size),
      etag: r.etag,
      lastModified: r.modified === null ? undefined : new Date(r.modified),
    })),
    truncated: rows.length > request.max,
  };
}

/**
 * The statement of listingPage (its plan is what the tests check): max + 1 rows, to know whether
 * more follow. Four shapes per table (after a key or from the prefix, bounded or not), each
 * prepared once under its name.
 */
export function listingQuery({ table, modifiedColumn, dataset, prefix, startAfter, max }: ListingRequest): {
  name: string;
  sql: string;
  params: unknown[];
} {
  // Both bounds, whatever the cursor: keys at or above the prefix and after the cursor, below the prefix's end.
  const params: unknown[] = [dataset, prefix, max + 1];
  if (startAfter !== undefined) params.push(startAfter);
  const end = prefixEnd(prefix);
  if (end !== undefined) params.push(end);
  const after = startAfter === undefined ? '' : ' AND key COLLATE "C" > $4';
  const below = end === undefined ? '' : ` AND key COLLATE "C" < $${params.length}`;
  const sql = `SELECT key, size, etag, ${modifiedColumn} AS modified FROM ${table}
     WHERE dataset_id = $1 AND key COLLATE "C" >= $2${after}${below}
     ORDER BY key COLLATE "C" LIMIT $3`;
  return { name: `cage_list_${table}${startAfter === undefined ? '' : '_after'}${end === undefined ? '' : '_bounded'}`, sql, params };
}

/**
 * The least string above every string that starts with `prefix`, in UTF-8 byte (code point)
 * order: the prefix with its last code point raised by one (past the surrogates), or, when that
 * is U+10FFFF, the same done to what comes before it. Undefined: no bound (an empty prefix, or
 * one of U+10FFFF only).
 */
export function prefixEnd(prefix: string): string | undefined {
  const points = [...prefix];
  while (points.length > 0) {
    const last = points.pop()!.codePointAt(0)!;
    if (last < 0x10ffff) return points.join('') + String.fromCodePoint(last === 0xd7ff ? 0xe000 : last + 1);
  }
  return undefined;
}
