import { DependencyUnavailableError } from '../ops/http-answer';
import { type HeldLock, type LockKey } from './advisory-locks';
/**
 * The one door to SQL. PGlite (embedded default) and PostgreSQL (production) sit behind the
 * same interface, run the same migrations and the same statements, so every rule is tested
 * on both.
 */
export interface QueryResult<T> {
  rows: T[];
  rowCount: number;
}

export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<T>>;
}

export abstract class Database implements Queryable {
  abstract readonly kind: 'pglite' | 'postgres';
  abstract query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<T>>;
  /**
   * A hot-path statement, prepared once per session under `name` and then only bound and run:
   * no parsing or planning per call (on PGlite that is most of a small insert's cost). Same
   * parameters and results as query(); one name, one statement text.
   */
  abstract queryPrepared<T = Record<string, unknown>>(name: string, sql: string, params: unknown[]): Promise<QueryResult<T>>;
  /** Runs fn in one transaction: committed if fn resolves, rolled back if it throws. */
  abstract transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Runs a script of several statements (migrations). */
  abstract exec(sql: string): Promise<void>;
  abstract close(): Promise<void>;
  /** Resolves when the database answers a trivial statement (readiness). */
  async ping(): Promise<void> {
    await this.query('SELECT 1');
  }
  abstract get closed(): boolean;
  /**
   * Takes an advisory lock in a session of its own, held until released or until this process
   * (its connection) goes: waits for it (`wait`), or answers undefined if another session holds it.
   * `onLost` is called if the session ends without a release (the lock is gone).
   */
  abstract sessionLock(key: LockKey, opts: { wait: boolean; onLost?: () => void }): Promise<HeldLock | undefined>;
  /** Whether a session holds the lock now (on PostgreSQL, this process's own lock sessions count; PGlite, one session, says false). */
  abstract lockHeldElsewhere(key: LockKey): Promise<boolean>;
  /** Runs fn holding the lock (waiting for it first), then releases it. */
  async withLock<T>(key: LockKey, fn: () => Promise<T>): Promise<T> {
    const held = (await this.sessionLock(key, { wait: true }))!;
    try {
      return await fn();
    } finally {
      await held.release();
    }
  }
}

/** The database cannot answer (closed, unreachable, connection lost): callers fail closed (503). */
export class DatabaseUnavailableError extends DependencyUnavailableError {
  constructor(reason: string, options?: { cause: unknown }) {
    super(`database unavailable: ${reason}`, options);
  }
}

/**
 * SQLSTATE classes that mean "the server cannot serve", not "the statement is wrong":
 * 08 connection exception, 53 insufficient resources, 57 operator intervention (shutdown,
 * terminated backend, statement timeout). Node-level socket errors carry no SQLSTATE.
 */
export function isUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return /^(08|53|57)/.test(code);
  return true;
}
