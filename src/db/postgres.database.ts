import { Client, Pool, type PoolClient } from 'pg';
import { type HeldLock, type LockKey, LockSpace } from './advisory-locks';
import { Database, DatabaseUnavailableError, isUnavailable, type QueryResult, type Queryable } from './database';

/** PostgreSQL through a pg pool; `schema` (tests) pins every connection's search_path. */
export class PostgresDatabase extends Database {
  readonly kind = 'postgres' as const;
  private isClosed = false;

  private readonly lockSessions = new Set<Client>();

  private constructor(
    private readonly pool: Pool,
    private readonly connection: { url: string; schema: string | undefined },
  ) {
    super();
  }

  static async open(url: string, schema?: string, poolSize = 10): Promise<PostgresDatabase> {
    const pool = new Pool({
      connectionString: url,
      max: poolSize,
      connectionTimeoutMillis: 5000,
      // A statement that hangs must not hold a request (and its audit leaf) forever.
      options: `-c statement_timeout=15000${schema === undefined ? '' : ` -c search_path=${schema}`}`,
    });
    // A pool error (server restart, terminated backend) must not crash the process; the next
    // query fails and the caller fails closed.
    pool.on('error', () => undefined);
    if (schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`bad schema name ${schema}`);
    try {
      // Processes opening one schema together would race in the catalog (CREATE SCHEMA IF NOT
      // EXISTS is not safe concurrently): under the migration lock.
      if (schema !== undefined)
        await pool.query(`BEGIN; SELECT pg_advisory_xact_lock(${LockSpace.migrations}); CREATE SCHEMA IF NOT EXISTS ${schema}; COMMIT`);
      await pool.query('SELECT 1');
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw translate(err);
    }
    return new PostgresDatabase(pool, { url, schema });
  }

  get closed(): boolean {
    return this.isClosed;
  }

  async query<T>(sql: string, params: unknown[] = []): Promise<QueryResult<T>> {
    if (this.isClosed) throw new DatabaseUnavailableError('closed');
    try {
      const r = await this.pool.query(sql, params);
      return { rows: r.rows as T[], rowCount: r.rowCount ?? r.rows.length };
    } catch (err) {
      throw translate(err);
    }
  }

  async queryPrepared<T>(name: string, sql: string, params: unknown[]): Promise<QueryResult<T>> {
    if (this.isClosed) throw new DatabaseUnavailableError('closed');
    try {
      // pg prepares a named statement once per connection of the pool.
      const r = await this.pool.query({ name, text: sql, values: params });
      return { rows: r.rows as T[], rowCount: r.rowCount ?? r.rows.length };
    } catch (err) {
      throw translate(err);
    }
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    if (this.isClosed) throw new DatabaseUnavailableError('closed');
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw translate(err);
    }
    // A checked-out client has no listener of the pool's: a session terminated under it
    // (pg_terminate_backend, a server restart) would emit an unhandled 'error' and take the
    // process down. The error fails the transaction instead, and the connection is discarded.
    let broken: Error | undefined;
    const onError = (err: Error) => (broken = err);
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const result = await fn({
        query: async <R>(sql: string, params: unknown[] = []) => {
          const r = await client.query(sql, params);
          return { rows: r.rows as R[], rowCount: r.rowCount ?? r.rows.length };
        },
      });
      await client.query('COMMIT');
      return result;
    } catch (err) {
      if (broken === undefined) await client.query('ROLLBACK').catch((e: Error) => (broken = e));
      throw translate(err);
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  async exec(sql: string): Promise<void> {
    if (this.isClosed) throw new DatabaseUnavailableError('closed');
    try {
      await this.pool.query(sql);
    } catch (err) {
      throw translate(err);
    }
  }

  /**
   * A connection of its own, outside the pool (a held lock must not take a pooled connection,
   * and waiting for one is not bound by the statement timeout). If that connection drops, the
   * lock is gone with it: the holder learns of it from `onLost`.
   */
  async sessionLock(key: LockKey, opts: { wait: boolean; onLost?: () => void }): Promise<HeldLock | undefined> {
    if (this.isClosed) throw new DatabaseUnavailableError('closed');
    const client = new Client({
      connectionString: this.connection.url,
      connectionTimeoutMillis: 5000,
      options: this.connection.schema === undefined ? undefined : `-c search_path=${this.connection.schema}`,
    });
    let released = false;
    client.on('error', () => {
      if (!released) opts.onLost?.();
    });
    try {
      await client.connect();
      const fn = opts.wait ? 'pg_advisory_lock' : 'pg_try_advisory_lock';
      const { rows } = await client.query<{ locked: boolean | null }>(`SELECT ${fn}($1, hashtext($2)) AS locked`, [key.space, key.name]);
      if (!opts.wait && rows[0]?.locked !== true) {
        await client.end();
        return undefined;
      }
    } catch (err) {
      await client.end().catch(() => undefined);
      throw translate(err);
    }
    this.lockSessions.add(client);
    return {
      release: async () => {
        if (released) return;
        released = true;
        this.lockSessions.delete(client);
        // Ending the session releases the lock.
        await client.end().catch(() => undefined);
      },
    };
  }

  async lockHeldElsewhere(key: LockKey): Promise<boolean> {
    // A transaction lock taken and released at once: refused only if another session holds it.
    const free = await this.transaction(async (tx) => {
      const { rows } = await tx.query<{ free: boolean }>('SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS free', [
        key.space,
        key.name,
      ]);
      return rows[0]?.free === true;
    });
    return !free;
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const client of this.lockSessions) await client.end().catch(() => undefined);
    this.lockSessions.clear();
    await this.pool.end();
  }
}

function translate(err: unknown): unknown {
  return isUnavailable(err) ? new DatabaseUnavailableError((err as Error).message, { cause: err }) : err;
}
