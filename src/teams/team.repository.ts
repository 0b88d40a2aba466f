import { type Database } from '../db/database';

export interface Team {
  id: string;
  name: string;
}

export interface TeamRow extends Team {
  members: number;
  createdAt: string;
}

export interface Member {
  team: string;
  subject: string;
  issuer: string;
  addedAt: string;
}

/** Teams and their members (people, by the subject and issuer of their JWT). */
export class TeamRepository {
  constructor(private readonly db: Database) {}

  async insert(t: Team, at: Date, by: string): Promise<void> {
    await this.db.query('INSERT INTO teams (id, name, created_at, created_by) VALUES ($1, $2, $3, $4)', [
      t.id,
      t.name,
      at.toISOString(),
      by,
    ]);
  }

  async get(id: string): Promise<Team | undefined> {
    const { rows } = await this.db.query<Team>('SELECT id, name FROM teams WHERE id = $1', [id]);
    return rows[0];
  }

  async list(): Promise<TeamRow[]> {
    const { rows } = await this.db.query<{ id: string; name: string; members: string | number; created_at: string | Date }>(
      `SELECT t.id, t.name, t.created_at, (SELECT COUNT(*) FROM team_members m WHERE m.team_id = t.id) AS members FROM teams t ORDER BY t.id`,
    );
    return rows.map((r) => ({ id: r.id, name: r.name, members: Number(r.members), createdAt: new Date(r.created_at).toISOString() }));
  }

  async addMember(m: Omit<Member, 'addedAt'>, at: Date, by: string): Promise<boolean> {
    const r = await this.db.query(
      'INSERT INTO team_members (team_id, subject, issuer, added_at, added_by) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING',
      [m.team, m.subject, m.issuer, at.toISOString(), by],
    );
    return r.rowCount > 0;
  }

  /** Ends a membership; it is kept as a former one (one statement), for reviewer independence. */
  async removeMember(team: string, subject: string, issuer: string, at: Date, by: string): Promise<boolean> {
    const r = await this.db.query(
      `WITH gone AS (DELETE FROM team_members WHERE team_id = $1 AND subject = $2 AND issuer = $3 RETURNING team_id, subject, issuer, added_at, added_by)
       INSERT INTO team_former_members (team_id, subject, issuer, added_at, added_by, removed_at, removed_by)
       SELECT team_id, subject, issuer, added_at, added_by, $4, $5 FROM gone`,
      [team, subject, issuer, at.toISOString(), by],
    );
    return r.rowCount > 0;
  }

  async members(team: string): Promise<Member[]> {
    const { rows } = await this.db.query<{ team_id: string; subject: string; issuer: string; added_at: string | Date }>(
      'SELECT team_id, subject, issuer, added_at FROM team_members WHERE team_id = $1 ORDER BY subject',
      [team],
    );
    return rows.map((r) => ({ team: r.team_id, subject: r.subject, issuer: r.issuer, addedAt: new Date(r.added_at).toISOString() }));
  }

  /** When a person's current membership of a team began; undefined when they are not a member now. */
  async memberSince(team: string, subject: string, issuer: string): Promise<Date | undefined> {
    const { rows } = await this.db.query<{ added_at: string | Date }>(
      'SELECT added_at FROM team_members WHERE team_id = $1 AND subject = $2 AND issuer = $3',
      [team, subject, issuer],
    );
    return rows[0] === undefined ? undefined : new Date(rows[0].added_at);
  }

  /**
   * Every team a person (subject at issuer; issuer '' for the gateway's own tokens) is or was a
   * member of, `current` when they still are. Airlock reviewers must be independent of all of them.
   */
  async teamsEverOf(subject: string, issuer: string): Promise<{ team: string; current: boolean }[]> {
    const { rows } = await this.db.query<{ team_id: string; current: boolean }>(
      `SELECT team_id, bool_or(current) AS current FROM (
         SELECT team_id, true AS current FROM team_members WHERE subject = $1 AND issuer = $2
         UNION ALL
         SELECT team_id, false AS current FROM team_former_members WHERE subject = $1 AND issuer = $2
       ) m GROUP BY team_id ORDER BY team_id`,
      [subject, issuer],
    );
    return rows.map((r) => ({ team: r.team_id, current: r.current }));
  }

  /** Records that a person was issued a token carrying a team claim (an affiliation that outlives the token). */
  async recordTokenHolder(h: { team: string; subject: string; issuer: string; role: string }, at: Date, by: string): Promise<void> {
    await this.db.query(
      'INSERT INTO team_token_holders (team_id, subject, issuer, role, issued_at, issued_by) VALUES ($1, $2, $3, $4, $5, $6)',
      [h.team, h.subject, h.issuer, h.role, at.toISOString(), by],
    );
  }

  /** Every team a person (subject at issuer) was ever issued a team-claimed token for. */
  async teamsByToken(subject: string, issuer: string): Promise<string[]> {
    const { rows } = await this.db.query<{ team_id: string }>(
      'SELECT DISTINCT team_id FROM team_token_holders WHERE subject = $1 AND issuer = $2 ORDER BY team_id',
      [subject, issuer],
    );
    return rows.map((r) => r.team_id);
  }

  /** The teams a person (subject at issuer) belongs to. */
  async teamsOf(subject: string, issuer: string): Promise<string[]> {
    const { rows } = await this.db.query<{ team_id: string }>(
      'SELECT team_id FROM team_members WHERE subject = $1 AND issuer = $2 ORDER BY team_id',
      [subject, issuer],
    );
    return rows.map((r) => r.team_id);
  }
}
