import { TtlCache } from '../clock/ttl-cache';
import { type Database } from '../db/database';

/** How stale a replica's view of revocations may be. */
export const REVOCATION_CACHE_MS = 500;

type Kind = 'token' | 'subject';

/** Revoked user tokens: one by its id, or all of a subject's issued up to a moment (the gateway's own tokens). */
export class TokenRevocationRepository {
  private readonly cache = new TtlCache<string, Date | null>(REVOCATION_CACHE_MS, 10_000);

  constructor(private readonly db: Database) {}

  /** False if the token was revoked already. */
  async revokeToken(tokenId: string, at: Date, by: string): Promise<boolean> {
    const r = await this.db.query(
      "INSERT INTO token_revocations (kind, value, revoked_at, revoked_by) VALUES ('token', $1, $2, $3) ON CONFLICT (kind, value) DO NOTHING",
      [tokenId, at.toISOString(), by],
    );
    return r.rowCount > 0;
  }

  /** Every token of the subject issued up to `at` (a later revocation moves the moment on). */
  async revokeSubject(subject: string, at: Date, by: string): Promise<void> {
    await this.db.query(
      `INSERT INTO token_revocations (kind, value, revoked_at, revoked_by) VALUES ('subject', $1, $2, $3)
       ON CONFLICT (kind, value) DO UPDATE SET revoked_at = GREATEST(token_revocations.revoked_at, EXCLUDED.revoked_at), revoked_by = EXCLUDED.revoked_by`,
      [subject, at.toISOString(), by],
    );
  }

  /** When the token (or every token of the subject up to then) was revoked; null if it was not. At most 500 ms old. */
  revokedAt(kind: Kind, value: string): Promise<Date | null> {
    return this.cache.through(`${kind}\u0000${value}`, async () => {
      const { rows } = await this.db.query<{ revoked_at: string | Date }>(
        'SELECT revoked_at FROM token_revocations WHERE kind = $1 AND value = $2',
        [kind, value],
      );
      return rows[0] === undefined ? null : new Date(rows[0].revoked_at);
    });
  }
}
