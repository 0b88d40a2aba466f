import { type Database } from '../db/database';
import { listingPage, type ListingPage } from './listing-page';

/**
 * The object index of a registered (not ingested) dataset: every object `cage dataset index` saw
 * under its prefix, with size, ETag and modification time. Listings read it once the dataset has
 * been indexed; a run rewrites it page by page and, when it finishes, removes what it did not see.
 */
export class DatasetObjectRepository {
  constructor(private readonly db: Database) {}

  /** A listing page (see KeySource): keys in UTF-8 byte order, one index range scan. */
  async page(dataset: string, prefix: string, startAfter: string | undefined, max: number): Promise<ListingPage> {
    return listingPage(this.db, { table: 'dataset_objects', modifiedColumn: 'last_modified', dataset, prefix, startAfter, max });
  }

  /** Records a page of objects an index run saw (dataset-relative keys). */
  async record(
    dataset: string,
    run: string,
    objects: { key: string; size: number; etag: string; lastModified: Date | undefined }[],
  ): Promise<void> {
    if (objects.length === 0) return;
    await this.db.query(
      `INSERT INTO dataset_objects (dataset_id, key, size, etag, last_modified, index_run)
       SELECT $1, u.key, u.size, u.etag, u.modified, $2 FROM unnest($3::text[], $4::bigint[], $5::text[], $6::timestamptz[]) AS u(key, size, etag, modified)
       ON CONFLICT (dataset_id, key) DO UPDATE SET size = EXCLUDED.size, etag = EXCLUDED.etag, last_modified = EXCLUDED.last_modified, index_run = EXCLUDED.index_run`,
      [
        dataset,
        run,
        objects.map((o) => o.key),
        objects.map((o) => String(o.size)),
        objects.map((o) => o.etag),
        objects.map((o) => o.lastModified?.toISOString() ?? null),
      ],
    );
  }

  /** After a finished run: the objects it did not see are gone from the index. Answers how many. */
  async removeUnseen(dataset: string, run: string): Promise<number> {
    const { rowCount } = await this.db.query('DELETE FROM dataset_objects WHERE dataset_id = $1 AND index_run IS DISTINCT FROM $2', [
      dataset,
      run,
    ]);
    return rowCount;
  }
}
