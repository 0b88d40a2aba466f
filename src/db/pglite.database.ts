import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { Database, DatabaseUnavailableError, type QueryResult, type Queryable } from './database';

/** Embedded PostgreSQL (WebAssembly) with its files under the data dir. */
export class PgliteDatabase extends Database {
  readonly kind = 'pglite' as const;
  private isClosed = false;

  private constructor(private readonly db: PGlite) {
    super();
  }

  /** dir undefined: in memory (tests that need no persistence). */
  static async open(dir: string | undefined): Promise<PgliteDatabase> {
    if (dir !== undefined) mkdirSync(dir, { recursive: true });
    const db = new PGlite(dir);
    await db.waitReady;
    return new PgliteDatabase(db);
  }

  get closed(): boolean {
    return this.isClosed;
  }

  async query<T>(sql: string, params: unknown[] = []): Promise<QueryResult<T>> {
    if (this.isClosed) throw new DatabaseUnavailableError('closed');
    const r = await this.db.query<T>(sql, params);
    return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    if (this.isClosed) throw new DatabaseUnavailableError('closed');
    return this.db.transaction(async (tx) =>
      fn({
        query: async <R>(sql: string, params: unknown[] = []) => {
          const r = await tx.query<R>(sql, params);
          return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
        },
      }),
    );
  }

  async exec(sql: string): Promise<void> {
    if (this.isClosed) throw new DatabaseUnavailableError('closed');
    await this.db.exec(sql);
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    await this.db.close();
  }
}
