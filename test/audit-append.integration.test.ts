import { randomBytes } from 'node:crypto';
import { type AuditLeaf } from '../src/audit/audit-leaf';
import { AuditWriter } from '../src/audit/audit-writer.service';
import { MerkleStore } from '../src/audit/merkle-store.repository';
import { referenceRoot } from '../src/audit/merkle/reference';
import { verifyInclusion } from '../src/audit/merkle/rfc6962';
import { type Database } from '../src/db/database';
import { migrate } from '../src/db/migrator';
import { PostgresDatabase } from '../src/db/postgres.database';
import { DB_KINDS, type DbKind, openTestDatabase, POSTGRES_URL } from './support/backends';

/**
 * The audit writer's one-statement commit (leaves and Merkle nodes together, guarded by the log's
 * size) against a real database: it must never give an index twice nor let the tree disagree with
 * the log when another writer (a replica) appends in between, and it must take no transaction in
 * the common case.
 */

function leaf(i: number, who: string): AuditLeaf {
  return {
    v: 1,
    time: new Date(1_700_000_000_000 + i).toISOString(),
    requestId: `${who}-${i}`,
    principal: `job:${who}`,
    team: 't',
    listener: 'sandbox',
    action: 'read',
    decision: 'allow',
    status: 200,
    resource: { type: 'object', dataset: 'd', keyHex: '61' },
    range: null,
    policies: [],
    policySet: null,
    bytes: i,
    sha256: null,
    detail: null,
  };
}

/** Counts what the writer asks of the database. */
function counted(db: Database): { db: Database; transactions: () => number; statements: () => number } {
  let transactions = 0;
  let statements = 0;
  const transaction = db.transaction.bind(db);
  const query = db.query.bind(db);
  db.transaction = (fn) => {
    transactions += 1;
    return transaction(fn);
  };
  const queryPrepared = db.queryPrepared.bind(db);
  db.query = (sql, params) => {
    statements += 1;
    return query(sql, params);
  };
  db.queryPrepared = (name, sql, params) => {
    statements += 1;
    return queryPrepared(name, sql, params);
  };
  return { db, transactions: () => transactions, statements: () => statements };
}

/** The log and its tree agree: contiguous indexes, the tree's size and root recomputed from the leaves, proofs verify. */
async function expectTreeMatchesLog(db: Database, expected: number): Promise<void> {
  const { rows } = await db.query<{ idx: string | number; h: string }>(
    "SELECT idx, encode(leaf_hash, 'hex') AS h FROM audit_leaves ORDER BY idx",
  );
  expect(rows.map((r) => Number(r.idx))).toEqual(Array.from({ length: expected }, (_, i) => i));
  const hashes = rows.map((r) => Buffer.from(r.h, 'hex'));
  const tree = new MerkleStore(db);
  expect(await tree.size()).toBe(expected);
  const root = await tree.root(expected);
  expect(root.equals(referenceRoot(hashes))).toBe(true);
  for (const index of [0, Math.floor(expected / 2), expected - 1]) {
    const p = await tree.inclusion(index, expected);
    expect(verifyInclusion(hashes[index], index, expected, p.proof, root)).toBe(true);
  }
}

describe.each(DB_KINDS)('audit appends on %s', (kind: DbKind) => {
  let db: Database;
  let drop: () => Promise<void>;
  /** A second connection to the same log (PostgreSQL: another pool, as a replica has). */
  let other: Database;
  let dropOther: () => Promise<void>;

  beforeEach(async () => {
    ({ db, drop } = await openTestDatabase(kind));
    await migrate(db);
    if (kind === 'postgres') {
      const schema = (await db.query<{ s: string }>('SELECT current_schema() AS s')).rows[0].s;
      const second = await PostgresDatabase.open(POSTGRES_URL!, schema);
      other = second;
      dropOther = () => second.close();
    } else {
      other = db;
      dropOther = () => Promise.resolve();
    }
  });
  afterEach(async () => {
    await dropOther();
    await drop();
  });

  it('commits a batch in one statement, without a transaction, once the writer knows where the log ends', async () => {
    const c = counted(db);
    const writer = new AuditWriter(c.db, { maxBatch: 512, maxDelayMs: 0 }, new MerkleStore(c.db));
    await Promise.all(Array.from({ length: 50 }, (_, i) => writer.append(leaf(i, 'a'))));
    const transactionsAfterFirst = c.transactions();
    expect(transactionsAfterFirst).toBe(1);
    const statementsBefore = c.statements();
    for (let i = 0; i < 20; i++) await writer.append(leaf(100 + i, 'a'));
    expect(c.transactions()).toBe(transactionsAfterFirst);
    expect(c.statements() - statementsBefore).toBe(20);
    await writer.close();
    await expectTreeMatchesLog(db, 70);
  });

  it('should not give an index twice nor let the tree lag when another writer appends in between', async () => {
    const a = new AuditWriter(db, { maxBatch: 64, maxDelayMs: 0 }, new MerkleStore(db));
    const b = new AuditWriter(other, { maxBatch: 64, maxDelayMs: 0 }, new MerkleStore(other));
    let total = 0;
    // Strictly alternating: every batch of one finds the log moved by the other.
    for (let round = 0; round < 6; round++) {
      const first = await a.append(leaf(round, 'a'));
      const second = await b.append(leaf(round, 'b'));
      expect([first.index, second.index]).toEqual([total, total + 1]);
      total += 2;
    }
    // Then both at once, many in flight.
    const results = await Promise.all([
      ...Array.from({ length: 300 }, (_, i) => a.append(leaf(1000 + i, 'a'))),
      ...Array.from({ length: 300 }, (_, i) => b.append(leaf(1000 + i, 'b'))),
    ]);
    total += 600;
    expect(new Set(results.map((r) => r.index)).size).toBe(600);
    // Each writer's next batch still lands at the end, on the fast path or not.
    expect((await a.append(leaf(9000, 'a'))).index).toBe(total);
    expect((await b.append(leaf(9000, 'b'))).index).toBe(total + 1);
    await a.close();
    await b.close();
    await expectTreeMatchesLog(db, total + 2);
  });

  it('should not leave a gap when the log is shorter than the writer thinks (restored under it)', async () => {
    const writer = new AuditWriter(db, { maxBatch: 512, maxDelayMs: 0 }, new MerkleStore(db));
    for (let i = 0; i < 5; i++) await writer.append(leaf(i, 'a'));
    // The last two leaves and every node covering them go, as a restore of an older backup would.
    await db.query('DELETE FROM audit_leaves WHERE idx >= 3');
    await db.query('DELETE FROM audit_nodes WHERE (idx + 1) * (2 ^ level)::bigint > 3');
    await expect(writer.append(leaf(5, 'a'))).resolves.toMatchObject({ index: 3 });
    await writer.close();
    await expectTreeMatchesLog(db, 4);
  });

  it('should not take a log restored under it and grown back to the same size for its own', async () => {
    const a = new AuditWriter(db, { maxBatch: 512, maxDelayMs: 0 }, new MerkleStore(db));
    for (let i = 0; i < 5; i++) await a.append(leaf(i, 'a'));
    await db.query('DELETE FROM audit_leaves WHERE idx >= 3');
    await db.query('DELETE FROM audit_nodes WHERE (idx + 1) * (2 ^ level)::bigint > 3');
    // Another writer fills the log back to five leaves, other ones.
    const b = new AuditWriter(other, { maxBatch: 512, maxDelayMs: 0 }, new MerkleStore(other));
    for (let i = 0; i < 2; i++) await b.append(leaf(100 + i, 'b'));
    await expect(a.append(leaf(5, 'a'))).resolves.toMatchObject({ index: 5 });
    await a.close();
    await b.close();
    await expectTreeMatchesLog(db, 6);
  });

  it('should not keep a rolled-back batch in the writer’s idea of the log', async () => {
    const writer = new AuditWriter(db, { maxBatch: 512, maxDelayMs: 0 }, new MerkleStore(db));
    for (let i = 0; i < 5; i++) await writer.append(leaf(i, 'a'));
    const name = `refuse_${randomBytes(4).toString('hex')}`;
    await db.query(`ALTER TABLE audit_nodes ADD CONSTRAINT ${name} CHECK (false) NOT VALID`);
    await expect(writer.append(leaf(5, 'a'))).rejects.toThrow(/audit store cannot accept leaves/);
    await db.query(`ALTER TABLE audit_nodes DROP CONSTRAINT ${name}`);
    // Nothing of the failed batch stayed: neither its leaf (one statement) nor its nodes.
    expect(Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM audit_leaves')).rows[0].n)).toBe(5);
    await expect(writer.append(leaf(6, 'a'))).resolves.toMatchObject({ index: 5 });
    await writer.close();
    await expectTreeMatchesLog(db, 6);
  });
});
