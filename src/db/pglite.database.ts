import { mkdirSync } from 'node:fs';
import { PGlite, protocol } from '@electric-sql/pglite';
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
  /** Statements prepared in the session (queryPrepared): their text and types. */
  private readonly prepared = new Map<string, Prepared>();

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

  /**
   * Through the wire protocol, as PGlite's own query() does, but with a named statement: Parse
   * and Describe once, then Bind, Execute and Sync in one call into the WebAssembly (query()
   * makes six, parsing and planning each time: measured 0.74 → 0.20 ms for a one-row insert).
   * Parameters and rows go through PGlite's own serializers and parsers for their types. Held
   * under both of PGlite's locks, so it never runs between the statements of a transaction.
   */
  async queryPrepared<T>(name: string, sql: string, params: unknown[]): Promise<QueryResult<T>> {
    if (this.isClosed) throw new DatabaseUnavailableError('closed');
    const db = this.db;
    return db._runExclusiveTransaction(() =>
      db._runExclusiveQuery(async () => {
        // Queued behind close(): refused, as query() would be.
        if (this.isClosed) throw new DatabaseUnavailableError('closed');
        const statement = await this.prepare(name, sql);
        const values = params.map((v, i) => {
          if (v === null || v === undefined) return null;
          const serialize = db.serializers[statement.params[i] ?? 0];
          if (serialize !== undefined) return serialize(v);
          if (typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
          throw new Error(`statement ${name}: no serializer for parameter $${i + 1} (type ${statement.params[i]})`);
        });
        const { messages } = await db.execProtocol(
          Buffer.concat([protocol.serialize.bind({ statement: name, values }), protocol.serialize.execute({}), protocol.serialize.sync()]),
          {},
        );
        const rows: Record<string, unknown>[] = [];
        let rowCount = 0;
        for (const m of messages as unknown as WireMessage[]) {
          if (m.name === 'dataRow') {
            const row: Record<string, unknown> = {};
            statement.fields.forEach((f, i) => {
              const text = m.fields?.[i] ?? null;
              const parse = db.parsers[f.dataTypeID];
              row[f.name] = text === null ? null : parse === undefined ? text : parse(text, f.dataTypeID);
            });
            rows.push(row);
          } else if (m.name === 'commandComplete') rowCount = Number(/(\d+)$/.exec(m.text ?? '')?.[1] ?? 0);
        }
        return { rows: rows as T[], rowCount: rowCount || rows.length };
      }),
    );
  }

  private async prepare(name: string, sql: string): Promise<Prepared> {
    const known = this.prepared.get(name);
    if (known !== undefined) {
      if (known.sql !== sql) throw new Error(`statement ${name} is prepared with another text`);
      return known;
    }
    const { messages } = await this.db.execProtocol(
      Buffer.concat([
        protocol.serialize.parse({ name, text: sql, types: [] }),
        protocol.serialize.describe({ type: 'S', name }),
        protocol.serialize.sync(),
      ]),
      {},
    );
    const list = messages as unknown as WireMessage[];
    const statement: Prepared = {
      sql,
      params: list.find((m) => m.name === 'parameterDescription')?.dataTypeIDs ?? [],
      fields: (list.find((m) => m.name === 'rowDescription') as { fields?: Prepared['fields'] } | undefined)?.fields ?? [],
    };
    this.prepared.set(name, statement);
    return statement;
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

interface Prepared {
  sql: string;
  /** Parameter type oids, as the server inferred them. */
  params: number[];
  fields: { name: string; dataTypeID: number }[];
}

/** The backend messages queryPrepared reads (pg-protocol's shapes). */
interface WireMessage {
  name: string;
  fields?: (string | null)[];
  text?: string;
  dataTypeIDs?: number[];
}
