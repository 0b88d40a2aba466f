import { Logger } from '@nestjs/common';
import { LockSpace } from '../db/advisory-locks';
import { type Database } from '../db/database';
import { type CageMetrics } from '../metrics/metrics.registry';
import { type AuditLeaf, canonicalJson, leafHash } from './audit-leaf';
import { type MerkleStore, type TreeRows } from './merkle-store.repository';
import { DependencyUnavailableError } from '../ops/http-answer';

export class AuditUnavailableError extends DependencyUnavailableError {
  constructor(cause: unknown) {
    super('audit store cannot accept leaves', { cause });
  }
}

export interface AppendedLeaf {
  index: number;
  hash: Buffer;
}

interface Pending {
  leaf: AuditLeaf;
  bytes: string;
  hash: Buffer;
  resolve: (r: AppendedLeaf) => void;
  reject: (e: Error) => void;
}

// Any fixed number: serializes appends across gateway replicas sharing one PostgreSQL.

/**
 * Group-commit appender. A leaf is appended to a queue; whenever no transaction is running the
 * queue (up to maxBatch leaves) is written in one transaction, under an advisory lock that makes
 * PostgreSQL the single serialization point for indexes. append() resolves only once the leaf is
 * committed, so callers can serve or release strictly after their leaf is durable; if the commit
 * fails, every leaf of that batch is rejected and the callers fail closed.
 */
export class AuditWriter {
  private readonly logger = new Logger('AuditWriter');
  private queue: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private closed = false;
  private readonly listeners: ((leaf: AuditLeaf, index: number, hash: Buffer) => void)[] = [];
  /**
   * The log's end as this writer last committed it: its size (the next batch's first index, if
   * no one else appended) and its last leaf's hash (so a log restored shorter and grown back to
   * the same size under it is not taken for the same log).
   */
  private end: { size: number; lastHash: Buffer } | undefined;

  constructor(
    private readonly db: Database,
    private readonly opts: { maxBatch: number; maxDelayMs: number },
    /** Extended in the same transaction as the leaves, so the tree never lags the log. */
    private readonly tree?: Pick<MerkleStore, 'extend' | 'rowsFromEdge' | 'forgetEdge'>,
    /** Batch sizes and commit latency of committed batches. */
    private readonly metrics?: CageMetrics,
  ) {}

  /** Called for every committed leaf (SIEM mirror, metrics); must not throw. */
  onCommitted(listener: (leaf: AuditLeaf, index: number, hash: Buffer) => void): void {
    this.listeners.push(listener);
  }

  append(leaf: AuditLeaf): Promise<AppendedLeaf> {
    if (this.closed) return Promise.reject(new AuditUnavailableError('audit writer is closed'));
    const bytes = canonicalJson(leaf);
    const hash = leafHash(Buffer.from(bytes, 'utf8'));
    return new Promise<AppendedLeaf>((resolve, reject) => {
      this.queue.push({ leaf, bytes, hash, resolve, reject });
      this.schedule();
    });
  }

  /** Waits until every leaf appended so far is committed or rejected. */
  async flush(): Promise<void> {
    while (this.flushing !== undefined || this.queue.length > 0) {
      this.schedule();
      await this.flushing;
    }
  }

  /** Refuses new leaves, then flushes what is pending (shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private schedule(): void {
    if (this.flushing !== undefined || this.queue.length === 0) return;
    // The batch is cut one event-loop turn later, so appends from requests already in flight join
    // it. PGlite runs a transaction without yielding to the event loop, so cutting at once would
    // commit batches of one under load.
    this.flushing = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.runBatches())
      .finally(() => {
        this.flushing = undefined;
        // Leaves that arrived during the last commit are written by the next one.
        if (this.queue.length > 0) this.schedule();
      });
  }

  private async runBatches(): Promise<void> {
    if (this.opts.maxDelayMs > 0 && this.queue.length < this.opts.maxBatch) {
      await new Promise((r) => setTimeout(r, this.opts.maxDelayMs));
    }
    const batch = this.queue.splice(0, this.opts.maxBatch);
    const started = process.hrtime.bigint();
    try {
      const hashes = batch.map((p) => p.hash);
      const first = (await this.appendAtEnd(batch, hashes)) ?? (await this.appendLocked(batch, hashes));
      this.end = { size: first + batch.length, lastHash: batch[batch.length - 1].hash };
      this.metrics?.auditBatchSize.observe(batch.length);
      this.metrics?.auditCommitDuration.observe(Number(process.hrtime.bigint() - started) / 1e9);
      batch.forEach((p, i) => {
        const index = first + i;
        for (const l of this.listeners) {
          try {
            l(p.leaf, index, p.hash);
          } catch (err) {
            this.logger.error(`audit listener failed: ${(err as Error).message}`);
          }
        }
        p.resolve({ index, hash: p.hash });
      });
    } catch (err) {
      this.declined();
      this.logger.error(`audit append of ${batch.length} leaves failed: ${(err as Error).message}`);
      const failure = new AuditUnavailableError(err);
      for (const p of batch) p.reject(failure);
    }
  }

  /**
   * The common case in one statement: the log still ends where this writer left it, so the
   * indexes and the tree's new nodes are known here, and the leaves and the nodes go in together,
   * guarded by the log's size (read in the statement, on PostgreSQL under the append lock). Answers
   * the first index, or undefined when the log moved (another replica appended, or the tree's
   * edge is not kept): the guard then inserted nothing, or the primary key refused an index
   * another replica took first, and the caller takes the locked path.
   */
  private async appendAtEnd(batch: Pending[], hashes: Buffer[]): Promise<number | undefined> {
    if (this.end === undefined) return undefined;
    const start = this.end.size;
    const nodes = this.tree === undefined ? NO_NODES : this.tree.rowsFromEdge(start, hashes);
    if (nodes === undefined) return this.declined();
    const params: unknown[] = [
      start,
      ...leafColumns(batch),
      nodes.levels,
      nodes.idxs,
      nodes.hashes,
      start === 0 ? null : this.end.lastHash.toString('hex'),
    ];
    if (this.db.kind !== 'pglite') params.push(LockSpace.auditAppend);
    try {
      const { rows } = await this.db.queryPrepared<{ n: string | number }>(
        'cage_audit_append_at_end',
        this.db.kind === 'pglite' ? APPEND_AT_END : APPEND_AT_END_LOCKED,
        params,
      );
      if (Number(rows[0]?.n ?? 0) !== batch.length) return this.declined();
    } catch (err) {
      if ((err as { code?: unknown }).code === UNIQUE_VIOLATION) return this.declined();
      throw err;
    }
    nodes.committed();
    return start;
  }

  /** The log is not where this writer left it: forget its end and the tree's kept edge, so both are read again. */
  private declined(): undefined {
    this.end = undefined;
    this.tree?.forgetEdge();
    return undefined;
  }

  /** Any case: under the append lock, the log's size read, the tree's edge read if not kept, in one transaction. */
  private async appendLocked(batch: Pending[], hashes: Buffer[]): Promise<number> {
    let committed: (() => void) | undefined;
    const first = await this.db.transaction(async (tx) => {
      // PGlite is one session whose transactions run one at a time: the lock would change nothing there.
      if (this.db.kind !== 'pglite') await tx.query('SELECT pg_advisory_xact_lock($1)', [LockSpace.auditAppend]);
      const { rows } = await tx.query<{ next: string | number }>('SELECT COALESCE(MAX(idx) + 1, 0) AS next FROM audit_leaves');
      const base = Number(rows[0]?.next ?? 0);
      await tx.query(
        `INSERT INTO audit_leaves (${LEAF_COLUMNS})
         SELECT ${LEAF_VALUES} FROM unnest(${LEAF_ARRAYS}) WITH ORDINALITY AS ${LEAF_ROW}`,
        [base, ...leafColumns(batch)],
      );
      committed = await this.tree?.extend(tx, base, hashes);
      return base;
    });
    committed?.();
    return first;
  }
}

const UNIQUE_VIOLATION = '23505';
const NO_NODES: TreeRows = { levels: [], idxs: [], hashes: [], committed: () => undefined };

/** $1: the first index; $2–$9: the leaves' columns as arrays (leafColumns). */
const LEAF_COLUMNS = 'idx, leaf, leaf_hash, time, request_id, principal, team, action, decision';
const LEAF_VALUES = "$1::bigint + u.ord - 1, u.leaf, decode(u.hash, 'hex'), u.time, u.rid, u.principal, u.team, u.action, u.decision";
const LEAF_ARRAYS = '$2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[]';
const LEAF_ROW = 'u(leaf, hash, time, rid, principal, team, action, decision, ord)';

/**
 * One statement: the leaves and the tree's nodes ($10–$12) inserted only if the log holds exactly
 * $1 leaves and its last one hashes to $13 (null for an empty log); answers how many leaves went
 * in (all or none). Data-modifying CTEs share the statement's snapshot and commit together.
 */
function appendAtEnd(lock: string): string {
  // The size is a subquery of its own, so that MAX(idx) stays one step back along the primary key.
  return `WITH ${lock}at AS (
      SELECT (SELECT COALESCE(MAX(idx) + 1, 0) FROM audit_leaves) = $1::bigint
        AND (SELECT leaf_hash FROM audit_leaves WHERE idx = $1::bigint - 1) IS NOT DISTINCT FROM decode($13::text, 'hex') AS ok${lock === '' ? '' : ' FROM lock'}),
    leaves AS (
      INSERT INTO audit_leaves (${LEAF_COLUMNS})
      SELECT ${LEAF_VALUES} FROM at, unnest(${LEAF_ARRAYS}) WITH ORDINALITY AS ${LEAF_ROW} WHERE at.ok
      RETURNING 1),
    nodes AS (
      INSERT INTO audit_nodes (level, idx, hash)
      SELECT n.l, n.i, decode(n.h, 'hex') FROM at, unnest($10::int[], $11::bigint[], $12::text[]) AS n(l, i, h) WHERE at.ok
      RETURNING 1)
    SELECT (SELECT count(*) FROM leaves) AS n`;
}
const APPEND_AT_END = appendAtEnd('');
/**
 * On PostgreSQL the statement also takes the append lock ($14) before it reads the size: it waits
 * for a tree catch-up or a locked append in progress. Its snapshot is older than the lock, so a
 * leaf committed meanwhile is caught by the primary key, not the guard.
 */
const APPEND_AT_END_LOCKED = appendAtEnd('lock AS (SELECT pg_advisory_xact_lock($14::bigint)), ');

function leafColumns(batch: Pending[]): unknown[] {
  return [
    batch.map((p) => p.bytes),
    batch.map((p) => p.hash.toString('hex')),
    batch.map((p) => p.leaf.time),
    batch.map((p) => p.leaf.requestId),
    batch.map((p) => p.leaf.principal),
    batch.map((p) => p.leaf.team),
    batch.map((p) => p.leaf.action),
    batch.map((p) => p.leaf.decision),
  ];
}
