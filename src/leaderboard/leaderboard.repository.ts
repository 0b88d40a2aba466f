import { randomBytes } from 'node:crypto';
import { LockSpace } from '../db/advisory-locks';
import { type Database, type Queryable } from '../db/database';

export interface SubmissionRow {
  id: string;
  kind: string;
  team: string;
  jobId: string;
  day: string;
  createdAt: string;
  predictionsSha256: string;
  storedKey: string;
  publicScore: number;
  shownScore: number;
  improved: boolean;
  privateScore: number | null;
  selected: boolean;
}

interface Row {
  id: string;
  kind: string;
  team_id: string;
  job_id: string;
  day: string;
  created_at: Date | string;
  predictions_sha256: string;
  stored_key: string;
  public_score: number;
  shown_score: number;
  improved: boolean;
  private_score: number | null;
  selected: boolean;
}

function fromRow(r: Row): SubmissionRow {
  return {
    id: r.id,
    kind: r.kind,
    team: r.team_id,
    jobId: r.job_id,
    day: r.day,
    createdAt: new Date(r.created_at).toISOString(),
    predictionsSha256: r.predictions_sha256,
    storedKey: r.stored_key,
    publicScore: Number(r.public_score),
    shownScore: Number(r.shown_score),
    improved: r.improved,
    privateScore: r.private_score === null ? null : Number(r.private_score),
    selected: r.selected,
  };
}

/**
 * A submission whose release failed (the gateway could not log or store its answer: the egress
 * row is `failed`, or a crash left it for the reconciler to fail) was never shown to the team:
 * it is not on the Ladder. The Ladder (under the team's lock) counts rows still `releasing`, so
 * two submissions in flight see each other; every view and the finals count only `released` ones.
 */
const NOT_FAILED = `NOT EXISTS (SELECT 1 FROM egress_artifacts a WHERE a.id = submissions.id AND a.status = 'failed')`;
const RELEASED = `EXISTS (SELECT 1 FROM egress_artifacts a WHERE a.id = submissions.id AND a.status = 'released')`;

/** Submissions scored inside the cage, and the secret seed of the public/private split. */
export class LeaderboardRepository {
  private seed?: Buffer;

  constructor(private readonly db: Database) {}

  /** The split's seed: made once (32 random bytes), the same on every replica, never served. */
  async splitSeed(now: Date): Promise<Buffer> {
    if (this.seed !== undefined) return this.seed;
    await this.db.query('INSERT INTO leaderboard_secret (id, seed, created_at) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING', [
      randomBytes(32),
      now.toISOString(),
    ]);
    const { rows } = await this.db.query<{ seed: Uint8Array }>('SELECT seed FROM leaderboard_secret WHERE id = 1');
    this.seed = Buffer.from(rows[0].seed);
    return this.seed;
  }

  /** The team's shown score now (the Ladder's best), or undefined before its first submission. */
  async bestShown(q: Queryable, kind: string, team: string): Promise<number | undefined> {
    const { rows } = await q.query<{ best: number | null }>(
      `SELECT MAX(shown_score) AS best FROM submissions WHERE kind = $1 AND team_id = $2 AND ${NOT_FAILED}`,
      [kind, team],
    );
    const best = rows[0]?.best;
    return best === null || best === undefined ? undefined : Number(best);
  }

  async insert(q: Queryable, s: SubmissionRow): Promise<void> {
    await q.query(
      `INSERT INTO submissions (id, kind, team_id, job_id, day, created_at, predictions_sha256, stored_key, public_score, shown_score, improved, private_score, selected)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      [
        s.id,
        s.kind,
        s.team,
        s.jobId,
        s.day,
        s.createdAt,
        s.predictionsSha256,
        s.storedKey,
        s.publicScore,
        s.shownScore,
        s.improved,
        s.privateScore,
        s.selected,
      ],
    );
  }

  /** A team's released submissions; `publishedBefore`: only those made before (a contestant's view: the publication slot). */
  async forTeam(kind: string, team: string, publishedBefore?: Date): Promise<SubmissionRow[]> {
    const { rows } = await this.db.query<Row>(
      `SELECT * FROM submissions WHERE kind = $1 AND team_id = $2 AND ${RELEASED} AND created_at < $3 ORDER BY created_at, id`,
      [kind, team, (publishedBefore ?? FAR_FUTURE).toISOString()],
    );
    return rows.map(fromRow);
  }

  async get(id: string): Promise<SubmissionRow | undefined> {
    const { rows } = await this.db.query<Row>(`SELECT * FROM submissions WHERE id = $1 AND ${RELEASED}`, [id]);
    return rows[0] === undefined ? undefined : fromRow(rows[0]);
  }

  /** Sets a submission's selection; with `limit`, refuses (false) a selection that would exceed it. Under the team's row lock. */
  async select(id: string, selected: boolean, limit: number): Promise<'ok' | 'over_limit' | 'missing'> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<Row>('SELECT * FROM submissions WHERE id = $1 FOR UPDATE', [id]);
      const row = rows[0];
      if (row === undefined) return 'missing';
      if (selected && !row.selected) {
        await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`leaderboard-select:${row.kind}:${row.team_id}`]);
        const n = await tx.query<{ n: string | number }>(
          'SELECT COUNT(*) AS n FROM submissions WHERE kind = $1 AND team_id = $2 AND selected',
          [row.kind, row.team_id],
        );
        if (Number(n.rows[0].n) >= limit) return 'over_limit';
      }
      await tx.query('UPDATE submissions SET selected = $2 WHERE id = $1', [id, selected]);
      return 'ok';
    });
  }

  async closed(kind: string): Promise<{ closedAt: string; closedBy: string } | undefined> {
    const { rows } = await this.db.query<{ closed_at: Date | string; closed_by: string }>(
      'SELECT * FROM leaderboard_closes WHERE kind = $1',
      [kind],
    );
    return rows[0] === undefined ? undefined : { closedAt: new Date(rows[0].closed_at).toISOString(), closedBy: rows[0].closed_by };
  }

  /** Records the close and the private scores of the finals (which become the selected ones), in one transaction. */
  async close(kind: string, at: Date, by: string, privateScores: Map<string, number>): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query('INSERT INTO leaderboard_closes (kind, closed_at, closed_by) VALUES ($1, $2, $3)', [kind, at.toISOString(), by]);
      for (const [id, score] of privateScores)
        await tx.query('UPDATE submissions SET private_score = $2, selected = true WHERE id = $1', [id, score]);
    });
  }

  /** Runs fn holding the close's lock: a close is decided, logged and committed by one replica at a time. */
  withCloseLock<T>(kind: string, fn: () => Promise<T>): Promise<T> {
    return this.db.withLock({ space: LockSpace.leaderboardClose, name: kind }, fn);
  }

  async all(kind: string, publishedBefore?: Date): Promise<SubmissionRow[]> {
    const { rows } = await this.db.query<Row>(
      `SELECT * FROM submissions WHERE kind = $1 AND ${RELEASED} AND created_at < $2 ORDER BY team_id, created_at, id`,
      [kind, (publishedBefore ?? FAR_FUTURE).toISOString()],
    );
    return rows.map(fromRow);
  }
}

const FAR_FUTURE = new Date('9999-12-31T00:00:00Z');
