import { LockSpace } from '../db/advisory-locks';
import { type Database, type Queryable } from '../db/database';
import {
  consistencyProof,
  inclusionProof,
  newCompleteNodes,
  nodeKey,
  type NodeId,
  type NodeMap,
  nodesForConsistency,
  nodesForInclusion,
  nodesForRoot,
  nodesNeededToExtend,
  rightEdge,
  rootAt,
} from './merkle/rfc6962';

const CATCH_UP_BATCH = 1000;

/** audit_nodes rows (level, index as text, hash as hex) a batch of leaves adds, and what to call once they are committed. */
export interface TreeRows {
  levels: number[];
  idxs: string[];
  hashes: string[];
  committed: () => void;
}

/**
 * The Merkle tree over the audit leaves, persisted as complete aligned subtrees. Extended in the
 * same transaction that appends the leaves (so the tree and the log never disagree), read with
 * one query per tree head or proof.
 */
export class MerkleStore {
  /**
   * The tree's right edge as this process last wrote it (`rightEdge(size)`), so an append reads
   * no node: used only while the log still ends where this process left it (the writer checks
   * the log's size under the append lock; another replica's append, or a catch-up, moves it).
   */
  private edge: { size: number; nodes: NodeMap } | undefined;

  constructor(private readonly db: Database) {}

  /**
   * Adds the nodes that leaves [start, start + hashes.length) complete. Runs inside the append
   * transaction; returns what to call once that transaction has committed (the new right edge is
   * kept only then: a rolled-back append leaves the tree where it was).
   */
  async extend(tx: Queryable, start: number, hashes: Buffer[]): Promise<() => void> {
    const rows =
      this.rowsFromEdge(start, hashes) ?? this.rows(start, hashes, await this.fetch(tx, nodesNeededToExtend(start, hashes.length)));
    await tx.query(
      `INSERT INTO audit_nodes (level, idx, hash) SELECT l, i, decode(h, 'hex') FROM unnest($1::int[], $2::bigint[], $3::text[]) AS u(l, i, h)`,
      [rows.levels, rows.idxs, rows.hashes],
    );
    return rows.committed;
  }

  /**
   * The rows leaves [start, …) add to the tree, computed from the kept right edge without reading
   * anything: undefined unless the edge ends at `start`. The caller inserts them into audit_nodes
   * in the statement that appends the leaves (the writer's one-statement commit), then calls
   * `committed`.
   */
  rowsFromEdge(start: number, hashes: Buffer[]): TreeRows | undefined {
    const kept = this.edge;
    return kept !== undefined && kept.size === start ? this.rows(start, hashes, kept.nodes) : undefined;
  }

  /** Forgets the kept edge: the next extension reads what it needs (an append failed or raced). */
  forgetEdge(): void {
    this.edge = undefined;
  }

  private rows(start: number, hashes: Buffer[], stored: NodeMap): TreeRows {
    const created = newCompleteNodes(start, hashes, stored);
    const levels: number[] = [];
    const idxs: string[] = [];
    const values: string[] = [];
    hashes.forEach((h, i) => {
      levels.push(0);
      idxs.push(String(start + i));
      values.push(h.toString('hex'));
    });
    for (const [key, h] of created) {
      const [level, idx] = key.split(':');
      levels.push(Number(level));
      idxs.push(idx ?? '0');
      values.push(h.toString('hex'));
    }
    const end = start + hashes.length;
    const next = new Map<string, Buffer>();
    for (const id of rightEdge(end)) {
      const key = nodeKey(id.level, id.index);
      const h = id.level === 0 && id.index >= start ? hashes[id.index - start] : (created.get(key) ?? stored.get(key));
      // An edge node read from nowhere: read next time.
      if (h === undefined) return { levels, idxs, hashes: values, committed: () => (this.edge = undefined) };
      next.set(key, h);
    }
    return { levels, idxs, hashes: values, committed: () => (this.edge = { size: end, nodes: next }) };
  }

  /**
   * Leaves appended before the tree existed (or while it lagged) get their nodes now. Each step
   * runs under the append lock, as the writer does: other replicas append (leaves and nodes in
   * one transaction) while this one starts, and must not be caught up twice.
   */
  async catchUp(): Promise<number> {
    this.edge = undefined;
    let added = 0;
    for (;;) {
      const step = await this.db.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1)', [LockSpace.auditAppend]);
        const done = await this.leavesInTree(tx);
        const { rows } = await tx.query<{ idx: string | number; h: string }>(
          "SELECT idx, encode(leaf_hash, 'hex') AS h FROM audit_leaves WHERE idx >= $1 ORDER BY idx LIMIT $2",
          [done, CATCH_UP_BATCH],
        );
        if (rows.length > 0)
          await this.extend(
            tx,
            done,
            rows.map((r) => Buffer.from(r.h, 'hex')),
          );
        return rows.length;
      });
      if (step === 0) return added;
      added += step;
    }
  }

  /** `q`: a transaction to read in (the checkpointer signs under the key ring's lock). */
  async size(q: Queryable = this.db): Promise<number> {
    return this.leavesInTree(q);
  }

  async root(size: number, q: Queryable = this.db): Promise<Buffer> {
    return rootAt(size, await this.fetch(q, nodesForRoot(size)));
  }

  async inclusion(index: number, size: number): Promise<{ proof: Buffer[]; leafHash: Buffer; root: Buffer }> {
    const nodes = await this.fetch(this.db, [...nodesForInclusion(index, size), ...nodesForRoot(size), { level: 0, index }]);
    return { proof: inclusionProof(index, size, nodes), leafHash: nodes.get(nodeKey(0, index))!, root: rootAt(size, nodes) };
  }

  async consistency(from: number, to: number): Promise<{ proof: Buffer[]; fromRoot: Buffer; toRoot: Buffer }> {
    const nodes = await this.fetch(this.db, [...nodesForConsistency(from, to), ...nodesForRoot(from), ...nodesForRoot(to)]);
    return { proof: consistencyProof(from, to, nodes), fromRoot: rootAt(from, nodes), toRoot: rootAt(to, nodes) };
  }

  /** Hashes of the leaves [from, to) as the tree holds them (the export's check on each line). */
  async leafHashes(from: number, to: number): Promise<Map<number, Buffer>> {
    const { rows } = await this.db.query<{ idx: string | number; h: string }>(
      "SELECT idx, encode(hash, 'hex') AS h FROM audit_nodes WHERE level = 0 AND idx >= $1 AND idx < $2 ORDER BY idx",
      [from, to],
    );
    return new Map(rows.map((r) => [Number(r.idx), Buffer.from(r.h, 'hex')]));
  }

  private async leavesInTree(q: Queryable): Promise<number> {
    const { rows } = await q.query<{ n: string | number }>('SELECT COALESCE(MAX(idx) + 1, 0) AS n FROM audit_nodes WHERE level = 0');
    return Number(rows[0]?.n ?? 0);
  }

  private async fetch(q: Queryable, ids: NodeId[]): Promise<NodeMap> {
    const map = new Map<string, Buffer>();
    if (ids.length === 0) return map;
    const { rows } = await q.query<{ level: number; idx: string | number; h: string }>(
      `SELECT n.level, n.idx, encode(n.hash, 'hex') AS h FROM audit_nodes n
       JOIN unnest($1::int[], $2::bigint[]) AS want(l, i) ON n.level = want.l AND n.idx = want.i`,
      [ids.map((n) => n.level), ids.map((n) => String(n.index))],
    );
    for (const r of rows) map.set(nodeKey(r.level, Number(r.idx)), Buffer.from(r.h, 'hex'));
    return map;
  }
}
