import { DependencyUnavailableError } from '../ops/http-answer';
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
