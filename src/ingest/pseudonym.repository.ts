import { createHmac, hkdfSync, randomBytes, randomInt } from 'node:crypto';
import { type Database } from '../db/database';
import { seal } from '../keys/secret-box';

export type PseudonymKind = 'uid' | 'patient';

export interface Pseudonym {
  pseudonym: string;
  /** Patients only: whole days every date of theirs moves by (same patient, same shift). */
  shiftDays: number | null;
}

/**
 * The re-identification key of the cage: original identifier → random pseudonym, per
 * pseudonym domain (datasets ingested into one domain share it, so a patient or a UID keeps
 * one pseudonym across train and test, and a re-run reproduces its output exactly).
 *
 * Originals are never stored in clear: a row is found by an HMAC of the original, and the
 * original is kept sealed (AES-256-GCM, bound to its row) for the organizers' re-identification
 * duty; both keys come from the pseudonym key (keys/pseudonym-key.ts), not the signing key. No
 * route on either listener reads this table.
 */
export class PseudonymRepository {
  private readonly lookupKey: Buffer;
  private readonly sealKey: Buffer;

  constructor(
    private readonly db: Database,
    pseudonymKey: Buffer,
  ) {
    this.lookupKey = Buffer.from(hkdfSync('sha256', pseudonymKey, Buffer.alloc(0), 'cage pseudonym lookup v1', 32));
    this.sealKey = Buffer.from(hkdfSync('sha256', pseudonymKey, Buffer.alloc(0), 'cage pseudonym sealing v1', 32));
  }

  /** A stable, keyed stand-in for a source path (paths may carry names): finds a source's manifest rows on a re-run. */
  sourceLookup(dataset: string, path: string): string {
    return createHmac('sha256', this.lookupKey).update(`source\u0000${dataset}\u0000${path}`).digest('hex');
  }

  /** A stable, keyed stand-in for a source's address (a directory or s3:// URL). */
  sourceId(dataset: string, source: string): string {
    return createHmac('sha256', this.lookupKey).update(`source-id\u0000${dataset}\u0000${source}`).digest('hex');
  }

  /** The pseudonyms of `originals`, creating the missing ones (concurrent callers agree). */
  async resolve(domain: string, kind: PseudonymKind, originals: Iterable<string>, at: Date): Promise<Map<string, Pseudonym>> {
    const out = new Map<string, Pseudonym>();
    for (const original of new Set(originals)) {
      const lookup = createHmac('sha256', this.lookupKey).update(`${domain}\u0000${kind}\u0000${original}`).digest('hex');
      const fresh = kind === 'uid' ? newUid() : `PAT-${randomBytes(8).toString('hex').toUpperCase()}`;
      // Backwards only, 1 to 10 years: absolute dates (and the birth year, emptied anyway) hidden, intervals kept.
      const shift = kind === 'patient' ? -randomInt(365, 10 * 365) : null;
      await this.db.query(
        `INSERT INTO pseudonyms (domain, kind, lookup, original_sealed, pseudonym, shift_days, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (domain, kind, lookup) DO NOTHING`,
        [domain, kind, lookup, seal(this.sealKey, original, `${domain}/${kind}/${lookup}`), fresh, shift, at.toISOString()],
      );
      const { rows } = await this.db.query<{ pseudonym: string; shift_days: number | null }>(
        'SELECT pseudonym, shift_days FROM pseudonyms WHERE domain = $1 AND kind = $2 AND lookup = $3',
        [domain, kind, lookup],
      );
      out.set(original, { pseudonym: rows[0].pseudonym, shiftDays: rows[0].shift_days === null ? null : Number(rows[0].shift_days) });
    }
    return out;
  }
}

/** A UUID-derived UID (PS3.5 B.2: `2.25.` and the UUID as one decimal integer), at most 44 characters. */
function newUid(): string {
  const b = randomBytes(16);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  return `2.25.${BigInt(`0x${b.toString('hex')}`).toString(10)}`;
}
