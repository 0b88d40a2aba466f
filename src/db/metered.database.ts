import { type CageMetrics } from '../metrics/metrics.registry';
import { type HeldLock, type LockKey } from './advisory-locks';
import { Database, DatabaseUnavailableError, type QueryResult, type Queryable } from './database';

/**
 * A database that counts its failures (`cage_database_errors_total`) and otherwise is the one it
 * wraps: PGlite and PostgreSQL stay unaware of metrics. A transaction is one call: a statement
 * failing inside it is counted once, where the transaction fails; an error the transaction's own
 * code throws (a rule, not SQL) is not a database error and is not counted.
 */
export class MeteredDatabase extends Database {
  constructor(
    private readonly inner: Database,
    private readonly metrics: CageMetrics,
  ) {
    super();
  }

  get kind(): Database['kind'] {
    return this.inner.kind;
  }

  get closed(): boolean {
    return this.inner.closed;
  }

  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<T>> {
    return this.counted(this.inner.query<T>(sql, params));
  }

  queryPrepared<T = Record<string, unknown>>(name: string, sql: string, params: unknown[]): Promise<QueryResult<T>> {
    return this.counted(this.inner.queryPrepared<T>(name, sql, params));
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.counted(this.inner.transaction(fn));
  }

  exec(sql: string): Promise<void> {
    return this.counted(this.inner.exec(sql));
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  sessionLock(key: LockKey, opts: { wait: boolean; onLost?: () => void }): Promise<HeldLock | undefined> {
    return this.counted(this.inner.sessionLock(key, opts));
  }

  lockHeldElsewhere(key: LockKey): Promise<boolean> {
    return this.counted(this.inner.lockHeldElsewhere(key));
  }

  private async counted<T>(p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (err) {
      if (err instanceof DatabaseUnavailableError) this.metrics.databaseError('unavailable');
      else if (hasSqlState(err)) this.metrics.databaseError('statement');
      throw err;
    }
  }
}

/** PostgreSQL's (and PGlite's) errors carry a five-character SQLSTATE; errors of our own code do not. */
function hasSqlState(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}
