import { type Database } from '../src/db/database';
import { DB_KINDS, type DbKind, openTestDatabase } from './support/backends';

/**
 * Database.queryPrepared (the audit writer's hot statement): the same parameters and results as
 * query(), errors with their SQLSTATE, and on PGlite never run between the statements of a
 * transaction in progress.
 */
describe.each(DB_KINDS)('prepared statements on %s', (kind: DbKind) => {
  let db: Database;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ db, drop } = await openTestDatabase(kind));
    await db.exec('CREATE TABLE prep (id bigint PRIMARY KEY, names text[], at timestamptz, n int, flag boolean, note text)');
  });
  afterAll(async () => {
    await drop();
  });

  const INSERT =
    'INSERT INTO prep (id, names, at, n, flag, note) SELECT $1, $2::text[], $3, $4, $5, $6 RETURNING id, names, at, n, flag, note';

  it('binds and answers exactly as query() does, call after call', async () => {
    const awkward = ['plain', 'with "quotes"', 'back\\slash', 'comma,brace}{', '', 'NULL', 'é \u{1F600}'];
    const viaPrepared = await db.queryPrepared('test_prep_insert', INSERT, [1, awkward, '2026-12-02T01:02:03.456Z', 7, true, null]);
    const viaQuery = await db.query(INSERT, [2, awkward, '2026-12-02T01:02:03.456Z', 7, true, null]);
    expect(viaPrepared.rowCount).toBe(1);
    expect({ ...viaPrepared.rows[0], id: undefined }).toEqual({ ...viaQuery.rows[0], id: undefined });
    expect(viaPrepared.rows[0]).toMatchObject({ names: awkward, n: 7, flag: true, note: null });
    // Again, with other values: the statement is bound anew, not replayed.
    const again = await db.queryPrepared<{ names: string[] }>('test_prep_insert', INSERT, [3, ['x', null], new Date(0), -1, false, 'y']);
    expect(again.rows[0].names).toEqual(['x', null]);
    const select = await db.queryPrepared<{ c: unknown }>('test_prep_count', 'SELECT count(*) AS c FROM prep WHERE id >= $1', [1]);
    const plain = await db.query<{ c: unknown }>('SELECT count(*) AS c FROM prep WHERE id >= $1', [1]);
    expect(select.rows).toEqual(plain.rows);
  });

  it('should not hide a failure: the SQLSTATE comes back, and the statement still works after', async () => {
    await expect(db.queryPrepared('test_prep_insert', INSERT, [1, [], null, 0, false, null])).rejects.toMatchObject({ code: '23505' });
    await expect(db.queryPrepared('test_prep_insert', INSERT, [10, [], null, 0, false, null])).resolves.toMatchObject({ rowCount: 1 });
  });

  it('should not run inside another caller’s transaction', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    const tx = db
      .transaction(async (t) => {
        await t.query("INSERT INTO prep (id, note) VALUES (100, 'tx')");
        entered();
        await held;
        throw new Error('rolled back on purpose');
      })
      .catch((err: Error) => err.message);
    await inside;
    // Issued while the transaction is open between its statements; it must not join it.
    const prepared = db.queryPrepared('test_prep_insert', INSERT, [101, [], null, 0, false, 'outside']);
    await new Promise((r) => setTimeout(r, 50));
    release();
    expect(await tx).toContain('rolled back on purpose');
    await prepared;
    const { rows } = await db.query<{ id: string | number }>('SELECT id FROM prep WHERE id IN (100, 101) ORDER BY id');
    expect(rows.map((r) => Number(r.id))).toEqual([101]);
  });

  it('should not let one name stand for two statements', async () => {
    await expect(db.queryPrepared('test_prep_insert', 'SELECT 1', [])).rejects.toThrow();
  });
});
