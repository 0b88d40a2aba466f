import { LockSpace } from '../db/advisory-locks';
import { type Database, type Queryable } from '../db/database';

/**
 * Any fixed number: the advisory lock a rotation and every checkpoint take, so a checkpoint is
 * signed by the key that is active when it is made, on every replica (never by a key a
 * rotation has just retired).
 */
export const KEY_RING_LOCK = LockSpace.keyRing;

/** One row of the ring: a key and its validity window [notBefore, notAfter). */
export interface SigningKeyRow {
  kid: string;
  publicKey: Buffer;
  /** Rotated keys only: the PKCS#8 PEM sealed under the configured key's ring key. */
  privateSealed: string | null;
  notBefore: Date;
  /** null: the active key. */
  notAfter: Date | null;
  /** A retired key's tokens are accepted until then. */
  tokensUntil: Date | null;
  createdBy: string;
}

interface Row {
  kid: string;
  public_key: string;
  private_sealed: string | null;
  not_before: Date | string;
  not_after: Date | string | null;
  tokens_until: Date | string | null;
  created_by: string;
}

const COLUMNS = "kid, encode(public_key, 'hex') AS public_key, private_sealed, not_before, not_after, tokens_until, created_by";
const date = (v: Date | string | null) => (v === null ? null : new Date(v));

function toRow(r: Row): SigningKeyRow {
  return {
    kid: r.kid,
    publicKey: Buffer.from(r.public_key, 'hex'),
    privateSealed: r.private_sealed,
    notBefore: new Date(r.not_before),
    notAfter: date(r.not_after),
    tokensUntil: date(r.tokens_until),
    createdBy: r.created_by,
  };
}

/** The signing-key ring's table (migration 0010). */
export class SigningKeyRepository {
  constructor(readonly db: Database) {}

  /** Every key, oldest first. */
  async list(q: Queryable = this.db): Promise<SigningKeyRow[]> {
    const { rows } = await q.query<Row>(`SELECT ${COLUMNS} FROM signing_keys ORDER BY not_before, kid`);
    return rows.map(toRow);
  }

  /** Takes the ring's lock for the rest of the transaction and reads the active key. */
  async lockActive(tx: Queryable): Promise<SigningKeyRow | undefined> {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [KEY_RING_LOCK]);
    const { rows } = await tx.query<Row>(`SELECT ${COLUMNS} FROM signing_keys WHERE not_after IS NULL`);
    return rows[0] === undefined ? undefined : toRow(rows[0]);
  }

  /**
   * Inserts the first key of an empty ring; false if another replica got there first. A database
   * from before the ring has checkpoints this key signed: its window starts at the first of them.
   */
  async insertFirst(row: Omit<SigningKeyRow, 'notAfter' | 'tokensUntil'>): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      if ((await this.lockActive(tx)) !== undefined) return false;
      const { rows } = await tx.query<{ first: Date | string | null }>('SELECT min(created_at) AS first FROM audit_checkpoints');
      const first = rows[0]?.first == null ? undefined : new Date(rows[0].first);
      await insert(tx, { ...row, notBefore: first !== undefined && first < row.notBefore ? first : row.notBefore });
      return true;
    });
  }

  /**
   * Retires the active key (at `at`, its tokens accepted until `tokensUntil`) and makes `next`
   * active, if the active key is still `expected`; false if another rotation came first.
   */
  async replaceActive(expected: string, next: Omit<SigningKeyRow, 'notAfter' | 'tokensUntil'>, tokensUntil: Date): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const active = await this.lockActive(tx);
      if (active?.kid !== expected) return false;
      await tx.query('UPDATE signing_keys SET not_after = $2, tokens_until = $3 WHERE kid = $1', [
        expected,
        next.notBefore.toISOString(),
        tokensUntil.toISOString(),
      ]);
      await insert(tx, next);
      return true;
    });
  }
}

async function insert(tx: Queryable, row: Omit<SigningKeyRow, 'notAfter' | 'tokensUntil'>): Promise<void> {
  await tx.query('INSERT INTO signing_keys (kid, public_key, private_sealed, not_before, created_by) VALUES ($1, $2, $3, $4, $5)', [
    row.kid,
    row.publicKey,
    row.privateSealed,
    row.notBefore.toISOString(),
    row.createdBy,
  ]);
}
