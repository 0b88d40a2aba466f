import { type Database } from '../db/database';
import { type AuditLeaf } from './audit-leaf';

export interface AuditQuery {
  from?: Date;
  to?: Date;
  principal?: string;
  team?: string;
  action?: string;
  decision?: string;
  /** Return leaves with index strictly greater than this (cursor). */
  after?: number;
  limit: number;
}

export interface StoredLeaf {
  index: number;
  hash: string;
  leaf: AuditLeaf;
}

/** Reads of the audit log. Writes go only through AuditWriter. */
export class AuditRepository {
  constructor(private readonly db: Database) {}

  async find(q: AuditQuery): Promise<StoredLeaf[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, v: unknown) => {
      params.push(v);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (q.from !== undefined) add('time >= ?', q.from.toISOString());
    if (q.to !== undefined) add('time < ?', q.to.toISOString());
    if (q.principal !== undefined) add('principal = ?', q.principal);
    if (q.team !== undefined) add('team = ?', q.team);
    if (q.action !== undefined) add('action = ?', q.action);
    if (q.decision !== undefined) add('decision = ?', q.decision);
    if (q.after !== undefined) add('idx > ?', q.after);
    params.push(q.limit);
    const { rows } = await this.db.query<{ idx: string | number; leaf: string; hash: string }>(
      `SELECT idx, leaf, encode(leaf_hash, 'hex') AS hash FROM audit_leaves
       ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY idx LIMIT $${params.length}`,
      params,
    );
    return rows.map((r) => ({ index: Number(r.idx), hash: r.hash, leaf: JSON.parse(r.leaf) as AuditLeaf }));
  }

  /** Leaves [from, to) as stored: index, leaf hash (hex), and the leaf's exact bytes. */
  async rawRange(from: number, to: number): Promise<{ idx: number; hash: string; leaf: string }[]> {
    const { rows } = await this.db.query<{ idx: string | number; hash: string; leaf: string }>(
      "SELECT idx, encode(leaf_hash, 'hex') AS hash, leaf FROM audit_leaves WHERE idx >= $1 AND idx < $2 ORDER BY idx",
      [from, to],
    );
    return rows.map((r) => ({ idx: Number(r.idx), hash: r.hash, leaf: r.leaf }));
  }

  async size(): Promise<number> {
    const { rows } = await this.db.query<{ n: string | number }>('SELECT COALESCE(MAX(idx) + 1, 0) AS n FROM audit_leaves');
    return Number(rows[0]?.n ?? 0);
  }
}
