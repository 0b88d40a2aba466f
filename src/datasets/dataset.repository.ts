import { TtlCache } from '../clock/ttl-cache';
import { type Database } from '../db/database';
import { type SplitKind } from '../policy/policy.types';

export interface Split {
  name: string;
  kind: SplitKind;
  /** Key prefix relative to the dataset's prefix, ending in `/`. */
  prefix: string;
}

export interface Dataset {
  id: string;
  bucket: string;
  /** Key prefix of the dataset in its bucket ('' or ending in `/`). */
  prefix: string;
  title: string;
  splits: Split[];
  /** When it was registered (set when read back from the database). */
  createdAt?: Date;
  /** Ingested: only objects in its manifest are served (set when read back from the database). */
  manifestEnforced?: boolean;
  /**
   * The index run whose object index the listings read (set when read back from the database);
   * undefined until one finishes: listings read the store.
   */
  objectIndexRun?: string;
}

const CACHE_MS = 1000;

/** Datasets and their splits. Reads are cached briefly: they change rarely and are on every request. */
export class DatasetRepository {
  private readonly cache = new TtlCache<'all', Map<string, Dataset>>(CACHE_MS, 1);

  constructor(private readonly db: Database) {}

  async all(): Promise<Dataset[]> {
    return [...(await this.load()).values()];
  }

  async get(id: string): Promise<Dataset | undefined> {
    return (await this.load()).get(id);
  }

  /** Inserts a dataset and its splits in one transaction; `check` runs inside it (and can refuse). */
  async insert(d: Dataset, at: Date, by: string, check?: () => Promise<void>): Promise<void> {
    validateLayout(d);
    await this.db.transaction(async (tx) => {
      await check?.();
      await tx.query('INSERT INTO datasets (id, bucket, prefix, title, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6)', [
        d.id,
        d.bucket,
        d.prefix,
        d.title,
        at.toISOString(),
        by,
      ]);
      for (const s of d.splits) {
        await tx.query('INSERT INTO splits (dataset_id, name, kind, prefix) VALUES ($1, $2, $3, $4)', [d.id, s.name, s.kind, s.prefix]);
      }
    });
    this.cache.clear();
  }

  /** From now on the dataset serves only what its manifest lists. There is no way back. */
  /** What the last index run counted, the series indexed, and who registered the dataset when. */
  async stats(
    id: string,
  ): Promise<
    | { objects: number | null; bytes: number | null; series: number; indexedAt: string | null; createdAt: string; createdBy: string }
    | undefined
  > {
    const { rows } = await this.db.query<{
      objects: string | number | null;
      bytes: string | number | null;
      indexed_at: string | Date | null;
      created_at: string | Date;
      created_by: string;
      series: string | number;
    }>(
      `SELECT objects, bytes, indexed_at, created_at, created_by, (SELECT COUNT(*) FROM series s WHERE s.dataset_id = d.id) AS series FROM datasets d WHERE id = $1`,
      [id],
    );
    const r = rows[0];
    return r === undefined
      ? undefined
      : {
          objects: r.objects === null ? null : Number(r.objects),
          bytes: r.bytes === null ? null : Number(r.bytes),
          series: Number(r.series),
          indexedAt: r.indexed_at === null ? null : new Date(r.indexed_at).toISOString(),
          createdAt: new Date(r.created_at).toISOString(),
          createdBy: r.created_by,
        };
  }

  /** Records what an index run counted. */
  /** Records what an index run counted and, for a registered dataset, that its object index is the run's. */
  async setIndexed(id: string, objects: number, bytes: number, at: string, objectIndexRun: string | null): Promise<void> {
    await this.db.query('UPDATE datasets SET objects = $2, bytes = $3, indexed_at = $4, object_index_run = $5 WHERE id = $1', [
      id,
      objects,
      bytes,
      at,
      objectIndexRun,
    ]);
    this.cache.clear();
  }

  async enforceManifest(id: string): Promise<void> {
    await this.db.query('UPDATE datasets SET manifest_enforced = true WHERE id = $1', [id]);
    this.cache.clear();
  }

  private load(): Promise<Map<string, Dataset>> {
    return this.cache.through('all', () => this.select());
  }

  private async select(): Promise<Map<string, Dataset>> {
    const [ds, ss] = await Promise.all([
      this.db.query<{
        id: string;
        bucket: string;
        prefix: string;
        title: string;
        created_at: Date | string;
        manifest_enforced: boolean;
        object_index_run: string | null;
      }>('SELECT id, bucket, prefix, title, created_at, manifest_enforced, object_index_run FROM datasets ORDER BY id'),
      this.db.query<{ dataset_id: string; name: string; kind: SplitKind; prefix: string }>(
        'SELECT dataset_id, name, kind, prefix FROM splits ORDER BY dataset_id, prefix',
      ),
    ]);
    const byId = new Map<string, Dataset>(
      ds.rows.map((r) => [
        r.id,
        {
          id: r.id,
          bucket: r.bucket,
          prefix: r.prefix,
          title: r.title,
          createdAt: new Date(r.created_at),
          manifestEnforced: r.manifest_enforced,
          objectIndexRun: r.object_index_run ?? undefined,
          splits: [],
        },
      ]),
    );
    for (const s of ss.rows) byId.get(s.dataset_id)?.splits.push({ name: s.name, kind: s.kind, prefix: s.prefix });
    return byId;
  }
}

/** The split a dataset-relative key falls in: the one whose prefix it starts with (longest wins). */
export function splitOf(dataset: Dataset, key: string): Split | undefined {
  let best: Split | undefined;
  for (const s of dataset.splits) {
    if (key.startsWith(s.prefix) && (best === undefined || s.prefix.length > best.prefix.length)) best = s;
  }
  return best;
}

export class DatasetLayoutError extends Error {}

const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * A dataset's layout must be unambiguous: slug ids (they are joined with `/` into policy entity
 * ids), a bucket prefix that is empty or ends in `/`, and split prefixes that end in `/` and do
 * not nest, so that every key belongs to at most one split for reads and listings alike.
 */
export function validateLayout(d: Dataset): void {
  if (!SLUG.test(d.id)) throw new DatasetLayoutError('dataset id must be a slug: a-z, 0-9 and -, at most 63');
  if (d.prefix !== '' && !d.prefix.endsWith('/')) throw new DatasetLayoutError('dataset prefix must be empty or end in /');
  if (d.splits.length === 0) throw new DatasetLayoutError('a dataset needs at least one split');
  for (const s of d.splits) {
    if (!SLUG.test(s.name)) throw new DatasetLayoutError(`split name ${JSON.stringify(s.name)} must be a slug`);
    if (s.prefix.length < 2 || !s.prefix.endsWith('/') || s.prefix.startsWith('/')) {
      throw new DatasetLayoutError(`split ${s.name}: prefix must be non-empty, relative and end in /`);
    }
    for (const t of d.splits) {
      if (t !== s && t.prefix.startsWith(s.prefix)) throw new DatasetLayoutError(`split ${t.name}'s prefix is inside split ${s.name}'s`);
      if (t !== s && t.name === s.name) throw new DatasetLayoutError(`split ${s.name} is named twice`);
    }
  }
}
