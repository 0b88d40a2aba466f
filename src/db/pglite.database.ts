import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { type HeldLock, type LockKey } from './advisory-locks';
import { Database, DatabaseUnavailableError, type QueryResult, type Queryable } from './database';

/** Embedded PostgreSQL (WebAssembly) with its files under the data dir. */
export class PgliteDatabase extends Database {
  readonly kind = 'pglite' as const;
  private isClosed = false;
  /**
   * PGlite is one session in one process, and one process opens a data directory: its advisory
   * locks are kept here, with a queue of waiters per key.
   */
  private readonly held = new Map<string, (() => void)[]>();

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

  async sessionLock(key: LockKey, opts: { wait: boolean }): Promise<HeldLock | undefined> {
    if (this.isClosed) throw new DatabaseUnavailableError('closed');
    const id = `${key.space}:${key.name}`;
    const waiters = this.held.get(id);
    if (waiters !== undefined) {
      if (!opts.wait) return undefined;
      await new Promise<void>((resolve) => waiters.push(resolve));
    } else this.held.set(id, []);
    let released = false;
    return {
      release: () => {
        if (released) return Promise.resolve();
        released = true;
        const next = this.held.get(id)?.shift();
        if (next === undefined) this.held.delete(id);
        else next();
        return Promise.resolve();
      },
    };
  }

  lockHeldElsewhere(): Promise<boolean> {
    // One session: a lock is either this process's own or free.
    return Promise.resolve(false);
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    await this.db.close();
  }
}
