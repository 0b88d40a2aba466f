import { type Database } from '../db/database';
import { TtlCache } from '../clock/ttl-cache';
import { listingPage, type ListingPage } from './listing-page';

/** One cleansed object as the ingest wrote it. */
export interface ManifestEntry {
  dataset: string;
  /** Dataset-relative key. */
  key: string;
  sha256: string;
  size: number;
  etag: string;
  ingestId: string;
  /** HMAC of the source path (the path itself may carry identifiers, so it is not kept). */
  sourceLookup: string;
  /** HMAC of the source's address (directory or s3:// URL). */
  sourceId: string;
  /** Size and modification time or ETag of the source when it was cleansed. */
  sourceFingerprint: string;
}

/** True when the store's object is the one the manifest describes (same size and ETag). */
export function isListed(
  entry: Pick<ManifestEntry, 'size' | 'etag'> | undefined,
  object: { size: number; etag: string },
): entry is ManifestEntry {
  return entry !== undefined && entry.size === object.size && entry.etag === object.etag;
}

interface Row {
  dataset_id: string;
  key: string;
  sha256: string;
  size: string | number;
  etag: string;
  ingest_id: string;
  source_lookup: string;
  source_id: string;
  source_fingerprint: string;
}

const CACHE_MS = 1000;
const MAX_CACHED = 50_000;

/**
 * The manifest of an ingested dataset: exactly what the ingest produced. The data plane serves
 * an object of such a dataset only if it is here with the size and ETag the store reports, so
 * anything put into the bucket behind the gateway's back is never served.
 */
export class ManifestRepository {
  private readonly cache = new TtlCache<string, ManifestEntry | undefined>(CACHE_MS, MAX_CACHED);

  constructor(private readonly db: Database) {}

  async get(dataset: string, key: string): Promise<ManifestEntry | undefined> {
    return this.cache.through(`${dataset}\u0000${key}`, async () => {
      const { rows } = await this.db.query<Row>('SELECT * FROM manifest_entries WHERE dataset_id = $1 AND key = $2', [dataset, key]);
      return rows[0] === undefined ? undefined : fromRow(rows[0]);
    });
  }

  /** Entries for a page of keys (listings), by key. */
  async getMany(dataset: string, keys: string[]): Promise<Map<string, ManifestEntry>> {
    if (keys.length === 0) return new Map();
    const { rows } = await this.db.query<Row>('SELECT * FROM manifest_entries WHERE dataset_id = $1 AND key = ANY($2::text[])', [
      dataset,
      keys,
    ]);
    return new Map(rows.map((r) => [r.key, fromRow(r)]));
  }

  /** A listing page of the manifest (see KeySource): keys in UTF-8 byte order, one index range scan. */
  async page(dataset: string, prefix: string, startAfter: string | undefined, max: number): Promise<ListingPage> {
    return listingPage(this.db, { table: 'manifest_entries', modifiedColumn: 'created_at', dataset, prefix, startAfter, max });
  }

  async bySource(dataset: string, sourceLookup: string): Promise<ManifestEntry[]> {
    const { rows } = await this.db.query<Row>('SELECT * FROM manifest_entries WHERE dataset_id = $1 AND source_lookup = $2 ORDER BY key', [
      dataset,
      sourceLookup,
    ]);
    return rows.map(fromRow);
  }

  async bySourceId(dataset: string, sourceId: string): Promise<ManifestEntry[]> {
    const { rows } = await this.db.query<Row>('SELECT * FROM manifest_entries WHERE dataset_id = $1 AND source_id = $2 ORDER BY key', [
      dataset,
      sourceId,
    ]);
    return rows.map(fromRow);
  }

  /** Withdraws an entry: the object is no longer served (the caller removes it from the store). */
  async remove(dataset: string, key: string): Promise<void> {
    await this.db.query('DELETE FROM manifest_entries WHERE dataset_id = $1 AND key = $2', [dataset, key]);
    this.cache.delete(`${dataset}\u0000${key}`);
  }

  async all(dataset: string): Promise<ManifestEntry[]> {
    const { rows } = await this.db.query<Row>('SELECT * FROM manifest_entries WHERE dataset_id = $1 ORDER BY key', [dataset]);
    return rows.map(fromRow);
  }

  async upsert(e: ManifestEntry, at: Date): Promise<void> {
    await this.db.query(
      `INSERT INTO manifest_entries (dataset_id, key, sha256, size, etag, ingest_id, source_lookup, source_id, source_fingerprint, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (dataset_id, key) DO UPDATE SET sha256 = EXCLUDED.sha256, size = EXCLUDED.size, etag = EXCLUDED.etag, ingest_id = EXCLUDED.ingest_id,
         source_lookup = EXCLUDED.source_lookup, source_id = EXCLUDED.source_id, source_fingerprint = EXCLUDED.source_fingerprint, created_at = EXCLUDED.created_at`,
      [e.dataset, e.key, e.sha256, e.size, e.etag, e.ingestId, e.sourceLookup, e.sourceId, e.sourceFingerprint, at.toISOString()],
    );
    this.cache.delete(`${e.dataset}\u0000${e.key}`);
  }
}

function fromRow(r: Row): ManifestEntry {
  return {
    dataset: r.dataset_id,
    key: r.key,
    sha256: r.sha256,
    size: Number(r.size),
    etag: r.etag,
    ingestId: r.ingest_id,
    sourceLookup: r.source_lookup,
    sourceId: r.source_id,
    sourceFingerprint: r.source_fingerprint,
  };
}
