import { type Database } from '../db/database';

export type IngestState = 'running' | 'done' | 'partial' | 'cancelled' | 'failed' | 'interrupted';

export interface IngestSummary {
  /** Per attribute or key: how many times it was removed, emptied, replaced or shifted. */
  stripped: Record<string, number>;
  /** Files not copied, with why (at most 1000 listed; `refusedTotal` counts them all). */
  refused: { path: string; reason: string }[];
  refusedTotal: number;
  /** Objects withdrawn (from the manifest, then the bucket): earlier outputs of this source that it no longer yields. */
  withdrawn: number;
  /** SHA-256 over the dataset's manifest after the run (`key sha256 size` lines, key order). */
  manifestSha256: string | null;
  manifestEntries: number;
}

export interface IngestRun {
  id: string;
  dataset: string;
  source: string;
  target: string;
  state: IngestState;
  filesTotal: number;
  filesDone: number;
  filesWritten: number;
  filesSkipped: number;
  filesRefused: number;
  bytesWritten: number;
  summary: IngestSummary | null;
  startedAt: string;
  startedBy: string;
  finishedAt: string | null;
  error: string | null;
}

interface Row {
  id: string;
  dataset_id: string;
  source: string;
  target: string;
  state: IngestState;
  files_total: string | number;
  files_done: string | number;
  files_written: string | number;
  files_skipped: string | number;
  files_refused: string | number;
  bytes_written: string | number;
  summary: string | null;
  started_at: string | Date;
  started_by: string;
  finished_at: string | Date | null;
  error: string | null;
}

/** Ingest runs and their progress, as the CLI's progress bar and the run report read them. */
export class IngestRunRepository {
  constructor(
    private readonly db: Database,
    /** The replica that carries out the runs this process starts (db/replica.ts); stamped on each. */
    private readonly owner: string | null = null,
  ) {}

  async insert(r: IngestRun): Promise<void> {
    await this.db.query(
      'INSERT INTO ingest_runs (id, dataset_id, source, target, state, started_at, started_by, owner) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [r.id, r.dataset, r.source, r.target, r.state, r.startedAt, r.startedBy, this.owner],
    );
  }

  async update(r: IngestRun): Promise<void> {
    await this.db.query(
      `UPDATE ingest_runs SET state = $2, files_total = $3, files_done = $4, files_written = $5, files_skipped = $6, files_refused = $7,
         bytes_written = $8, summary = $9, finished_at = $10, error = $11 WHERE id = $1`,
      [
        r.id,
        r.state,
        r.filesTotal,
        r.filesDone,
        r.filesWritten,
        r.filesSkipped,
        r.filesRefused,
        r.bytesWritten,
        r.summary === null ? null : JSON.stringify(r.summary),
        r.finishedAt,
        r.error,
      ],
    );
  }

  async get(id: string): Promise<IngestRun | undefined> {
    const { rows } = await this.db.query<Row>('SELECT * FROM ingest_runs WHERE id = $1', [id]);
    return rows[0] === undefined ? undefined : fromRow(rows[0]);
  }

  async forDataset(dataset: string): Promise<IngestRun[]> {
    const { rows } = await this.db.query<Row>('SELECT * FROM ingest_runs WHERE dataset_id = $1 ORDER BY started_at DESC, id', [dataset]);
    return rows.map(fromRow);
  }

  /**
   * At start-up: runs left `running` by a replica that is gone are marked `interrupted` (a re-run
   * resumes them); a live replica's runs are its own.
   */
  async markInterrupted(at: Date, isAlive: (owner: string | null) => Promise<boolean>): Promise<number> {
    const { rows } = await this.db.query<{ id: string; owner: string | null }>("SELECT id, owner FROM ingest_runs WHERE state = 'running'");
    let marked = 0;
    for (const run of rows) {
      if (await isAlive(run.owner)) continue;
      const r = await this.db.query(
        "UPDATE ingest_runs SET state = 'interrupted', finished_at = $2, error = 'the gateway stopped during the run' WHERE id = $1 AND state = 'running'",
        [run.id, at.toISOString()],
      );
      marked += r.rowCount;
    }
    return marked;
  }
}

function fromRow(r: Row): IngestRun {
  return {
    id: r.id,
    dataset: r.dataset_id,
    source: r.source,
    target: r.target,
    state: r.state,
    filesTotal: Number(r.files_total),
    filesDone: Number(r.files_done),
    filesWritten: Number(r.files_written),
    filesSkipped: Number(r.files_skipped),
    filesRefused: Number(r.files_refused),
    bytesWritten: Number(r.bytes_written),
    summary: r.summary === null ? null : (JSON.parse(r.summary) as IngestSummary),
    startedAt: new Date(r.started_at).toISOString(),
    startedBy: r.started_by,
    finishedAt: r.finished_at === null ? null : new Date(r.finished_at).toISOString(),
    error: r.error,
  };
}
