import { Logger } from '@nestjs/common';
import { LockSpace } from '../db/advisory-locks';
import { type Database, type Queryable } from '../db/database';
import { type CageMetrics } from '../metrics/metrics.registry';
import { type AuditLeaf, canonicalJson, leafHash } from './audit-leaf';
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

  constructor(
    private readonly db: Database,
    private readonly opts: { maxBatch: number; maxDelayMs: number },
    /** Extended in the same transaction as the leaves, so the tree never lags the log. */
    private readonly tree?: { extend(tx: Queryable, start: number, hashes: Buffer[]): Promise<() => void> },
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
      let committed: (() => void) | undefined;
      const first = await this.db.transaction(async (tx) => {
        // PGlite is one session whose transactions run one at a time: the lock would change nothing there.
        if (this.db.kind !== 'pglite') await tx.query('SELECT pg_advisory_xact_lock($1)', [LockSpace.auditAppend]);
        const { rows } = await tx.query<{ next: string | number }>('SELECT COALESCE(MAX(idx) + 1, 0) AS next FROM audit_leaves');
        const base = Number(rows[0]?.next ?? 0);
        await tx.query(
          `INSERT INTO audit_leaves (idx, leaf, leaf_hash, time, request_id, principal, team, action, decision)
           SELECT $1::bigint + u.ord - 1, u.leaf, decode(u.hash, 'hex'), u.time, u.rid, u.principal, u.team, u.action, u.decision
           FROM unnest($2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
             WITH ORDINALITY AS u(leaf, hash, time, rid, principal, team, action, decision, ord)`,
          [
            base,
            batch.map((p) => p.bytes),
            batch.map((p) => p.hash.toString('hex')),
            batch.map((p) => p.leaf.time),
            batch.map((p) => p.leaf.requestId),
            batch.map((p) => p.leaf.principal),
            batch.map((p) => p.leaf.team),
            batch.map((p) => p.leaf.action),
            batch.map((p) => p.leaf.decision),
          ],
        );
        committed = await this.tree?.extend(
          tx,
          base,
          batch.map((p) => p.hash),
        );
        return base;
      });
      committed?.();
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
      this.logger.error(`audit append of ${batch.length} leaves failed: ${(err as Error).message}`);
      const failure = new AuditUnavailableError(err);
      for (const p of batch) p.reject(failure);
    }
  }
}
