import { type Database, type Queryable } from '../db/database';

/** A signed checkpoint as kept: tree size, root, the signed note text. */
export interface StoredCheckpoint {
  size: number;
  root: Buffer;
  note: string;
  createdAt: string;
}

/** Signed checkpoints of the audit tree, one per size. */
export class CheckpointRepository {
  constructor(private readonly db: Database) {}

  /** Newest first; with `maxSize`, only those covering at most that many leaves. */
  async list(limit: number, maxSize?: number, q: Queryable = this.db): Promise<StoredCheckpoint[]> {
    const { rows } = await q.query<{ size: string | number; root: string; note: string; created_at: string | Date }>(
      `SELECT size, encode(root, 'hex') AS root, note, created_at FROM audit_checkpoints ${maxSize === undefined ? '' : 'WHERE size <= $2'} ORDER BY size DESC LIMIT $1`,
      maxSize === undefined ? [limit] : [limit, maxSize],
    );
    return rows.map((r) => ({
      size: Number(r.size),
      root: Buffer.from(r.root, 'hex'),
      note: r.note,
      createdAt: new Date(r.created_at).toISOString(),
    }));
  }

  /** Checkpoints not yet copied to the checkpoint bucket, oldest first. */
  async uncopied(limit: number): Promise<{ size: number; note: string }[]> {
    const { rows } = await this.db.query<{ size: string | number; note: string }>(
      'SELECT size, note FROM audit_checkpoints WHERE copied_at IS NULL ORDER BY size LIMIT $1',
      [limit],
    );
    return rows.map((r) => ({ size: Number(r.size), note: r.note }));
  }

  async markCopied(size: number, at: Date): Promise<void> {
    await this.db.query('UPDATE audit_checkpoints SET copied_at = $2 WHERE size = $1', [size, at.toISOString()]);
  }

  /** Keeps a checkpoint; one of the same size already kept wins. */
  async insert(q: Queryable, c: { size: number; root: Buffer; note: string; createdAt: Date }): Promise<void> {
    await q.query('INSERT INTO audit_checkpoints (size, root, note, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (size) DO NOTHING', [
      c.size,
      c.root,
      c.note,
      c.createdAt.toISOString(),
    ]);
  }
}
