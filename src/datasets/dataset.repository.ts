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
}

const CACHE_MS = 1000;

/** Datasets and their splits. Reads are cached briefly: they change rarely and are on every request. */
export class DatasetRepository {
  private cache: { at: number; byId: Map<string, Dataset> } | undefined;

  constructor(private readonly db: Database) {}

  async all(): Promise<Dataset[]> {
    return [...(await this.load()).values()];
  }

  async get(id: string): Promise<Dataset | undefined> {
    return (await this.load()).get(id);
  }

  async insert(d: Dataset, at: Date, by: string): Promise<void> {
    await this.db.transaction(async (tx) => {
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
    this.cache = undefined;
  }

  private async load(): Promise<Map<string, Dataset>> {
    if (this.cache !== undefined && Date.now() - this.cache.at < CACHE_MS) return this.cache.byId;
    const [ds, ss] = await Promise.all([
      this.db.query<{ id: string; bucket: string; prefix: string; title: string }>('SELECT id, bucket, prefix, title FROM datasets ORDER BY id'),
      this.db.query<{ dataset_id: string; name: string; kind: SplitKind; prefix: string }>(
        'SELECT dataset_id, name, kind, prefix FROM splits ORDER BY dataset_id, prefix',
      ),
    ]);
    const byId = new Map<string, Dataset>(ds.rows.map((r) => [r.id, { ...r, splits: [] }]));
    for (const s of ss.rows) byId.get(s.dataset_id)?.splits.push({ name: s.name, kind: s.kind, prefix: s.prefix });
    this.cache = { at: Date.now(), byId };
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
