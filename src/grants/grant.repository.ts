import { type Database } from '../db/database';
import { TtlCache } from '../clock/ttl-cache';
import { type GrantRule, type TeamGrants } from '../policy/policy.types';

export interface NewGrant {
  id: string;
  team: string;
  dataset: string;
  split: string;
  notBefore: Date;
  notAfter: Date;
  byteQuota: number | null;
}

interface GrantRow {
  id: string;
  team_id: string;
  dataset_id: string;
  split: string;
  not_before: Date | string;
  not_after: Date | string;
}

/**
 * How long a team's grants may be served from memory. Revocation must reach every replica
 * within 1 s; half of that leaves room for the database round trip.
 */
export const GRANT_CACHE_MS = 500;
const MAX_CACHED = 10_000;

export interface GrantRecord {
  id: string;
  team: string;
  dataset: string;
  split: string;
  notBefore: string;
  notAfter: string;
  byteQuota: number | null;
  createdAt: string;
  createdBy: string;
  revokedAt: string | null;
  revokedBy: string | null;
}

interface FullRow extends GrantRow {
  byte_quota: string | number | null;
  created_at: string | Date;
  created_by: string;
  revoked_at: string | Date | null;
  revoked_by: string | null;
}

const iso = (v: string | Date | null) => (v === null ? null : new Date(v).toISOString());

/** Grants: team → dataset split within a time window. */
export class GrantRepository {
  private readonly cache = new TtlCache<string, TeamGrants>(GRANT_CACHE_MS, MAX_CACHED);

  constructor(private readonly db: Database) {}

  async insert(g: NewGrant, at: Date, by: string): Promise<void> {
    await this.db.query(
      `INSERT INTO grants (id, team_id, dataset_id, split, not_before, not_after, byte_quota, created_at, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [g.id, g.team, g.dataset, g.split, g.notBefore.toISOString(), g.notAfter.toISOString(), g.byteQuota, at.toISOString(), by],
    );
    this.cache.delete(g.team);
  }

  /** Bytes served so far under each of these grants (0 for one that has served none). */
  async bytesServed(ids: string[]): Promise<Map<string, number>> {
    const served = new Map(ids.map((id) => [id, 0]));
    if (ids.length === 0) return served;
    const { rows } = await this.db.query<{ grant_id: string; bytes: string | number }>(
      'SELECT grant_id, bytes FROM grant_usage WHERE grant_id = ANY($1::text[])',
      [ids],
    );
    for (const r of rows) served.set(r.grant_id, Number(r.bytes));
    return served;
  }

  /**
   * Charges `bytes` to a grant if, and only if, it has still served exactly `seen` (compare and
   * set, one statement). The quota rule is policy (`read-within-byte-quota`), decided on `seen`:
   * a charge that lands is one decided on exactly the usage it adds to, so reads racing for a
   * quota's last bytes cannot overshoot it. False when another read was charged in between: the
   * caller reads the usage again and asks again.
   */
  async chargeBytes(id: string, seen: number, bytes: number): Promise<boolean> {
    // `seen` is 0 for a grant with no usage row yet: then the row is inserted, unless another
    // read inserted it first (the conflict compares with 0 and fails). Rows are never deleted, so
    // a `seen` above 0 always meets its row.
    const { rows } = await this.db.query(
      `INSERT INTO grant_usage (grant_id, bytes) VALUES ($1, $3)
       ON CONFLICT (grant_id) DO UPDATE SET bytes = grant_usage.bytes + EXCLUDED.bytes WHERE grant_usage.bytes = $2
       RETURNING bytes`,
      [id, seen, bytes],
    );
    return rows.length > 0;
  }

  /** Gives back a charge for a read that was never answered (its audit leaf could not be written). */
  async refundBytes(id: string, bytes: number): Promise<void> {
    await this.db.query('UPDATE grant_usage SET bytes = bytes - $2 WHERE grant_id = $1', [id, bytes]);
  }

  async revoke(id: string, at: Date, by: string): Promise<boolean> {
    const { rows } = await this.db.query<{ team_id: string }>(
      'UPDATE grants SET revoked_at = $2, revoked_by = $3 WHERE id = $1 AND revoked_at IS NULL RETURNING team_id',
      [id, at.toISOString(), by],
    );
    for (const r of rows) this.cache.delete(r.team_id);
    return rows.length > 0;
  }

  async get(id: string): Promise<GrantRecord | undefined> {
    return (await this.list({ id }))[0];
  }

  async list(q: { id?: string; team?: string; dataset?: string; split?: string; unrevoked?: boolean }): Promise<GrantRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    for (const [col, v] of [
      ['id', q.id],
      ['team_id', q.team],
      ['dataset_id', q.dataset],
      ['split', q.split],
    ] as const) {
      if (v === undefined) continue;
      params.push(v);
      where.push(`${col} = $${params.length}`);
    }
    if (q.unrevoked === true) where.push('revoked_at IS NULL');
    const { rows } = await this.db.query<FullRow>(
      `SELECT id, team_id, dataset_id, split, not_before, not_after, byte_quota, created_at, created_by, revoked_at, revoked_by FROM grants
       ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, id`,
      params,
    );
    return rows.map((r) => ({
      id: r.id,
      team: r.team_id,
      dataset: r.dataset_id,
      split: r.split,
      notBefore: new Date(r.not_before).toISOString(),
      notAfter: new Date(r.not_after).toISOString(),
      byteQuota: r.byte_quota === null ? null : Number(r.byte_quota),
      createdAt: new Date(r.created_at).toISOString(),
      createdBy: r.created_by,
      revokedAt: iso(r.revoked_at),
      revokedBy: r.revoked_by,
    }));
  }

  /** A team's unrevoked grants (time windows are left to policy), at most GRANT_CACHE_MS old. */
  async forTeam(team: string): Promise<TeamGrants> {
    return this.cache.through(team, () => this.load(team));
  }

  private async load(team: string): Promise<TeamGrants> {
    const { rows } = await this.db.query<GrantRow & { byte_quota: string | number | null }>(
      'SELECT id, team_id, dataset_id, split, not_before, not_after, byte_quota FROM grants WHERE team_id = $1 AND revoked_at IS NULL ORDER BY id',
      [team],
    );
    const grants: GrantRule[] = rows.map((r) => ({
      id: r.id,
      team: r.team_id,
      dataset: r.dataset_id,
      split: r.split,
      notBefore: new Date(r.not_before),
      notAfter: new Date(r.not_after),
      byteQuota: r.byte_quota === null ? null : Number(r.byte_quota),
    }));
    const fingerprint = grants.map((g) => `${g.id}:${g.dataset}/${g.split}:${g.notBefore.getTime()}:${g.notAfter.getTime()}`).join(',');
    return { team, fingerprint, grants };
  }
}
