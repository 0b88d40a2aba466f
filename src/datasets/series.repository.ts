import { type Database } from '../db/database';
import { type WorldBoundingBox } from './metaimage-header';

export interface SeriesEntry {
  dataset: string;
  split: string;
  seriesuid: string;
  box: WorldBoundingBox;
}

/** The series index: each scan's world bounding box, built when a dataset is seeded or indexed. */
export class SeriesRepository {
  constructor(private readonly db: Database) {}

  async upsert(entries: SeriesEntry[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      for (const e of entries) {
        await tx.query(
          `INSERT INTO series (dataset_id, split, seriesuid, min_x, min_y, min_z, max_x, max_y, max_z)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT (dataset_id, seriesuid) DO UPDATE SET split = EXCLUDED.split,
             min_x = EXCLUDED.min_x, min_y = EXCLUDED.min_y, min_z = EXCLUDED.min_z,
             max_x = EXCLUDED.max_x, max_y = EXCLUDED.max_y, max_z = EXCLUDED.max_z`,
          [e.dataset, e.split, e.seriesuid, ...e.box.min, ...e.box.max],
        );
      }
    });
  }

  /** Series of the given (dataset, split) pairs, by seriesuid. */
  async boxes(splits: { dataset: string; split: string }[]): Promise<Map<string, WorldBoundingBox>> {
    const out = new Map<string, WorldBoundingBox>();
    if (splits.length === 0) return out;
    const { rows } = await this.db.query<{
      seriesuid: string;
      min_x: number;
      min_y: number;
      min_z: number;
      max_x: number;
      max_y: number;
      max_z: number;
    }>(
      `SELECT seriesuid, min_x, min_y, min_z, max_x, max_y, max_z FROM series
       WHERE (dataset_id, split) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
      [splits.map((s) => s.dataset), splits.map((s) => s.split)],
    );
    for (const r of rows) out.set(r.seriesuid, { min: [r.min_x, r.min_y, r.min_z], max: [r.max_x, r.max_y, r.max_z] });
    return out;
  }
}
