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
  abstract get closed(): boolean;
}

export class DatabaseClosedError extends Error {
  constructor() {
    super('database is closed');
  }
}
