import { PgliteDatabase } from '../db/pglite.database';
import { migrate } from '../db/migrator';
import { type AuditLeaf, canonicalJson, leafHash } from './audit-leaf';
import { AuditUnavailableError, AuditWriter } from './audit-writer.service';

function leaf(i: number): AuditLeaf {
  return {
    v: 1,
    time: new Date(1_700_000_000_000 + i).toISOString(),
    requestId: `r${i}`,
    principal: 'job:j',
    team: 't',
    listener: 'sandbox',
    action: 'read',
    decision: 'allow',
    status: 200,
    resource: { type: 'object', dataset: 'd', keyHex: '61' },
    range: null,
    policies: ['grant:g'],
    policySet: 'ab',
    bytes: i,
    sha256: null,
    detail: null,
  };
}

describe('canonical leaves', () => {
  it('sorts keys at every depth and drops whitespace; the hash is RFC 6962 SHA-256(0x00 ‖ leaf)', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"y":2,"z":1}]},"b":1}');
    expect(leafHash('').toString('hex')).toBe('6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
  });

  it('should not encode NaN, Infinity or undefined', () => {
    expect(() => canonicalJson({ a: NaN })).toThrow();
    expect(() => canonicalJson([undefined])).toThrow();
  });
});

describe('AuditWriter (group commit on PGlite)', () => {
  let db: PgliteDatabase;
  beforeEach(async () => {
    db = await PgliteDatabase.open(undefined);
    await migrate(db);
  });
  afterEach(async () => {
    await db.close();
  });

  it('commits concurrent appends in few transactions with contiguous indexes, in order', async () => {
    let transactions = 0;
    const tx = db.transaction.bind(db);
    db.transaction = (fn) => {
      transactions += 1;
      return tx(fn);
    };
    const writer = new AuditWriter(db, { maxBatch: 512, maxDelayMs: 0 });
    const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => writer.append(leaf(i))));
    expect(results.map((r) => r.index)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(transactions).toBeLessThan(20);
    const { rows } = await db.query<{ leaf: string; hash: string }>(
      "SELECT leaf, encode(leaf_hash, 'hex') AS hash FROM audit_leaves WHERE idx = 7",
    );
    expect(rows[0].leaf).toBe(canonicalJson(leaf(7)));
    expect(rows[0].hash).toBe(leafHash(canonicalJson(leaf(7))).toString('hex'));
  });

  it('should not resolve an append whose commit failed; the next batch still commits', async () => {
    const writer = new AuditWriter(db, { maxBatch: 512, maxDelayMs: 0 });
    await db.query('ALTER TABLE audit_leaves ADD CONSTRAINT refuse CHECK (false) NOT VALID');
    await expect(writer.append(leaf(1))).rejects.toBeInstanceOf(AuditUnavailableError);
    await db.query('ALTER TABLE audit_leaves DROP CONSTRAINT refuse');
    await expect(writer.append(leaf(2))).resolves.toMatchObject({ index: 0 });
  });

  it('flushes pending leaves on close and refuses new ones after', async () => {
    const writer = new AuditWriter(db, { maxBatch: 512, maxDelayMs: 50 });
    const pending = writer.append(leaf(1));
    await writer.close();
    await expect(pending).resolves.toMatchObject({ index: 0 });
    await expect(writer.append(leaf(2))).rejects.toBeInstanceOf(AuditUnavailableError);
  });
});
