import { type Database } from '../db/database';

export interface Team {
  id: string;
  name: string;
}

export class TeamRepository {
  constructor(private readonly db: Database) {}

  async insert(t: Team, at: Date, by: string): Promise<void> {
    await this.db.query('INSERT INTO teams (id, name, created_at, created_by) VALUES ($1, $2, $3, $4)', [t.id, t.name, at.toISOString(), by]);
  }

  async get(id: string): Promise<Team | undefined> {
    const { rows } = await this.db.query<Team>('SELECT id, name FROM teams WHERE id = $1', [id]);
    return rows[0];
  }
}
