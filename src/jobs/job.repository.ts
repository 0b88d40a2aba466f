import { type Database } from '../db/database';
import { TtlCache } from '../clock/ttl-cache';

export interface JobRecord {
  id: string;
  team: string;
  createdAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  accessKeyId: string | null;
  secretSealed: string | null;
}

interface JobRow {
  id: string;
  team_id: string;
  created_at: Date | string;
  expires_at: Date | string;
  revoked_at: Date | string | null;
  access_key_id: string | null;
  secret_sealed: string | null;
}

/** Job state is re-read at most this often: a revoked job stops within 1 s on every replica. */
export const JOB_CACHE_MS = 500;
const MAX_CACHED = 10_000;

/**
 * Jobs and their credentials' state. It sits low (beside the signing keys) because
 * authentication needs it on every sandbox request.
 */
export class JobRepository {
  // Misses (unknown ids or keys) are cached too, so they cost the same as hits.
  private readonly cache = new TtlCache<string, JobRecord | undefined>(JOB_CACHE_MS, MAX_CACHED);
  private readonly byKey = new TtlCache<string, JobRecord | undefined>(JOB_CACHE_MS, MAX_CACHED);

  constructor(private readonly db: Database) {}

  async insert(j: Omit<JobRecord, 'revokedAt'>, by: string): Promise<void> {
    await this.db.query(
      `INSERT INTO jobs (id, team_id, created_at, created_by, expires_at, access_key_id, secret_sealed)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [j.id, j.team, j.createdAt.toISOString(), by, j.expiresAt.toISOString(), j.accessKeyId, j.secretSealed],
    );
    this.cache.delete(j.id);
  }

  async revoke(id: string, at: Date, by: string): Promise<boolean> {
    const r = await this.db.query('UPDATE jobs SET revoked_at = $2, revoked_by = $3 WHERE id = $1 AND revoked_at IS NULL', [
      id,
      at.toISOString(),
      by,
    ]);
    this.cache.delete(id);
    this.byKey.clear();
    return r.rowCount > 0;
  }

  async list(q: { team?: string }): Promise<(JobRecord & { createdBy: string; revokedBy: string | null })[]> {
    const { rows } = await this.db.query<JobRow & { created_by: string; revoked_by: string | null }>(
      `SELECT id, team_id, created_at, created_by, expires_at, revoked_at, revoked_by, access_key_id, secret_sealed FROM jobs
       ${q.team === undefined ? '' : 'WHERE team_id = $1'} ORDER BY created_at, id`,
      q.team === undefined ? [] : [q.team],
    );
    return rows.map((r) => ({ ...fromRow(r), createdBy: r.created_by, revokedBy: r.revoked_by }));
  }

  /**
   * The teams someone (`created_by`, e.g. `user:<sub>`) ever created a job for, revoked and
   * expired jobs included: creating a team's job affiliates a person with it (airlock reviews).
   */
  async teamsWithJobsBy(createdBy: string): Promise<string[]> {
    const { rows } = await this.db.query<{ team_id: string }>('SELECT DISTINCT team_id FROM jobs WHERE created_by = $1 ORDER BY team_id', [
      createdBy,
    ]);
    return rows.map((r) => r.team_id);
  }

  /** The job as stored, at most JOB_CACHE_MS old. */
  async get(id: string): Promise<JobRecord | undefined> {
    return this.cache.through(id, () => this.selectOne('id', id));
  }

  /** The job holding an S3 access key id (SigV4), at most JOB_CACHE_MS old. */
  async getByAccessKey(accessKeyId: string): Promise<JobRecord | undefined> {
    return this.byKey.through(accessKeyId, () => this.selectOne('access_key_id', accessKeyId));
  }

  private async selectOne(column: 'id' | 'access_key_id', value: string): Promise<JobRecord | undefined> {
    const { rows } = await this.db.query<JobRow>(
      `SELECT id, team_id, created_at, expires_at, revoked_at, access_key_id, secret_sealed FROM jobs WHERE ${column} = $1`,
      [value],
    );
    return rows[0] === undefined ? undefined : fromRow(rows[0]);
  }
}

function fromRow(r: JobRow): JobRecord {
  return {
    id: r.id,
    team: r.team_id,
    createdAt: new Date(r.created_at),
    expiresAt: new Date(r.expires_at),
    revokedAt: r.revoked_at === null ? null : new Date(r.revoked_at),
    accessKeyId: r.access_key_id,
    secretSealed: r.secret_sealed,
  };
}
