import { type Split } from '../datasets/dataset.repository';
import { type ListingPage } from '../datasets/listing-page';

export interface ListQuery {
  prefix: string;
  /** Continue after this key (exclusive). */
  cursor: string | undefined;
  limit: number;
  /** Roll keys up to the first delimiter after the prefix (S3's CommonPrefixes). */
  delimiter?: string;
}

export interface ListedPage {
  objects: { key: string; size: number; etag: string; lastModified: string | null }[];
  /** With a delimiter: the rolled-up prefixes, each ending in the delimiter. */
  commonPrefixes: string[];
  nextCursor: string | null;
}

/**
 * Sorts after every key that starts with a prefix: U+10FFFF is F4 8F BF BF in UTF-8, above any
 * byte a valid UTF-8 key can have at that position. A cursor ending in it skips a rolled-up prefix.
 */
export const AFTER_PREFIX = '\u{10FFFF}';

/** One object as a listing source has it (dataset-relative key). */
export type IndexedObject = ListingPage['objects'][number];

/**
 * Where a dataset's listing reads its keys: at most `max` dataset-relative keys that start with
 * `prefix` and sort strictly after `startAfter`, in UTF-8 byte order (S3's), and whether more
 * follow. The dataset's index in the database (its manifest, or the objects its last index run
 * saw), or the store for a dataset never indexed.
 */
export type KeySource = (prefix: string, startAfter: string | undefined, max: number) => Promise<ListingPage>;

/** The most keys one source call returns: later calls of one page grow to it from the page's limit. */
const MAX_BATCH = 1000;
/** Keys one request examines at most; the page then ends short, with a cursor to go on. */
const MAX_SCANNED = 20_000;

/**
 * One page across the allowed splits, in key order, reading O(page) keys from the source: the
 * first call asks for the limit (and one more), and a call after keys that were skipped (another
 * split's, rolled up under a delimiter) asks for twice as many, up to MAX_BATCH.
 *
 * The cursor is the last key examined (not necessarily returned: keys of a nested split are
 * skipped), so no key is seen twice or lost. With a delimiter, the keys under one common prefix
 * count once, and the listing jumps past them (the cursor becomes the prefix followed by
 * AFTER_PREFIX).
 */
export async function pageOfSplits(
  allowed: Split[],
  splitOf: (key: string) => Split | undefined,
  q: ListQuery,
  source: KeySource,
): Promise<ListedPage> {
  const out: ListedPage['objects'] = [];
  const prefixes: string[] = [];
  const full = () => out.length + prefixes.length >= q.limit;
  let after = q.cursor;
  let rolled: string | undefined;
  let scanned = 0;
  let batch = Math.min(q.limit + 1, MAX_BATCH);
  for (const s of [...allowed].sort((a, b) => (a.prefix < b.prefix ? -1 : 1))) {
    const effective = s.prefix.startsWith(q.prefix) ? s.prefix : q.prefix.startsWith(s.prefix) ? q.prefix : undefined;
    if (effective === undefined) continue;
    if (after !== undefined && after >= effective && !after.startsWith(effective)) continue; // split already done
    // A cursor equal to the prefix is a key already seen (a `train/` folder marker): go on after it.
    let startAfter = after !== undefined && after >= effective ? after : undefined;
    for (;;) {
      const page = await source(effective, startAfter, batch);
      for (const o of page.objects) {
        const key = o.key;
        if (rolled !== undefined && key.startsWith(rolled)) continue;
        after = key;
        // A key belongs to the longest split prefix it starts with; never list another split's key.
        if (splitOf(key) !== s) continue;
        const common = commonPrefixOf(key, q.prefix, q.delimiter);
        if (common === undefined) {
          out.push({ key, size: o.size, etag: o.etag, lastModified: o.lastModified?.toISOString() ?? null });
        } else {
          if (!prefixes.includes(common)) prefixes.push(common);
          rolled = common;
          after = common + AFTER_PREFIX;
        }
        if (full()) return { objects: out, commonPrefixes: prefixes, nextCursor: after };
      }
      // A page may end short of the limit: a request scans a bounded number of keys, and the cursor goes on from there.
      scanned += page.objects.length;
      if (scanned >= MAX_SCANNED && page.truncated && after !== undefined)
        return { objects: out, commonPrefixes: prefixes, nextCursor: after };
      if (!page.truncated || page.objects.length === 0) break;
      startAfter = after;
      batch = Math.min(batch * 2, MAX_BATCH);
    }
  }
  return { objects: out, commonPrefixes: prefixes, nextCursor: null };
}

/** S3's rule: the key up to and including the first delimiter after the prefix. */
export function commonPrefixOf(key: string, prefix: string, delimiter: string | undefined): string | undefined {
  if (delimiter === undefined || delimiter === '') return undefined;
  const at = key.indexOf(delimiter, prefix.length);
  return at < 0 ? undefined : key.slice(0, at + delimiter.length);
}
