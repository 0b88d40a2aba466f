import { type Database } from '../db/database';

/** One run of `cage dataset index`: what it has seen so far, and how it ended. */
export interface IndexRun {
  id: string;
  dataset: string;
  state: 'running' | 'done' | 'failed';
  objectsSeen: number;
  bytesSeen: number;
  seriesIndexed: number;
  startedAt: string;
  finishedAt: string | null;
  error: string | null;
}

interface Row {
  id: string;
  dataset_id: string;
  state: IndexRun['state'];
  objects_seen: string | number;
  bytes_seen: string | number;
  series_indexed: string | number;
  started_at: string | Date;
  finished_at: string | Date | null;
  error: string | null;
}

/** Index runs of datasets, with their progress. */
export class IndexRunRepository {
  constructor(private readonly db: Database) {}

  async insert(run: IndexRun, by: string): Promise<void> {
    await this.db.query('INSERT INTO index_runs (id, dataset_id, state, started_at, started_by) VALUES ($1, $2, $3, $4, $5)', [
      run.id,
      run.dataset,
      run.state,
      run.startedAt,
      by,
    ]);
  }

  async update(run: IndexRun): Promise<void> {
    await this.db.query(
      'UPDATE index_runs SET state = $2, objects_seen = $3, bytes_seen = $4, series_indexed = $5, finished_at = $6, error = $7 WHERE id = $1',
      [run.id, run.state, run.objectsSeen, run.bytesSeen, run.seriesIndexed, run.finishedAt, run.error],
    );
  }

  async latest(dataset: string): Promise<IndexRun | undefined> {
    const { rows } = await this.db.query<Row>(
      'SELECT id, dataset_id, state, objects_seen, bytes_seen, series_indexed, started_at, finished_at, error FROM index_runs WHERE dataset_id = $1 ORDER BY started_at DESC LIMIT 1',
      [dataset],
    );
    const r = rows[0];
    return r === undefined
      ? undefined
      : {
          id: r.id,
          dataset: r.dataset_id,
          state: r.state,
          objectsSeen: Number(r.objects_seen),
          bytesSeen: Number(r.bytes_seen),
          seriesIndexed: Number(r.series_indexed),
          startedAt: new Date(r.started_at).toISOString(),
          finishedAt: r.finished_at === null ? null : new Date(r.finished_at).toISOString(),
          error: r.error,
        };
  }
}
