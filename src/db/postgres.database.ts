import { Pool, type PoolClient } from 'pg';
import { Database, DatabaseUnavailableError, isUnavailable, type QueryResult, type Queryable } from './database';

/** PostgreSQL through a pg pool; `schema` (tests) pins every connection's search_path. */
export class PostgresDatabase extends Database {
  readonly kind = 'postgres' as const;
  private isClosed = false;

  private constructor(private readonly pool: Pool) {
    super();
  }

  static async open(url: string, schema?: string): Promise<PostgresDatabase> {
    const pool = new Pool({
      connectionString: url,
      max: 10,
      connectionTimeoutMillis: 5000,
      // A statement that hangs must not hold a request (and its audit leaf) forever.
      options: `-c statement_timeout=15000${schema === undefined ? '' : ` -c search_path=${schema}`}`,
    });
    // A pool error (server restart, terminated backend) must not crash the process; the next
    // query fails and the caller fails closed.
    pool.on('error', () => undefined);
    if (schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`bad schema name ${schema}`);
    try {
      if (schema !== undefined) await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await pool.query('SELECT 1');
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw translate(err);
    }
    return new PostgresDatabase(pool);
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

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    if (this.isClosed) throw new DatabaseUnavailableError('closed');
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw translate(err);
    }
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
      await client.query('ROLLBACK').catch(() => undefined);
      throw translate(err);
    } finally {
      client.release();
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

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    await this.pool.end();
  }
}

function translate(err: unknown): unknown {
  return isUnavailable(err) ? new DatabaseUnavailableError((err as Error).message, { cause: err }) : err;
}
