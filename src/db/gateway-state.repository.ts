import { type Database } from './database';

/** Small facts the gateway keeps about itself (bootstrap done, the policy directory last seen, …). */
export class GatewayStateRepository {
  constructor(private readonly db: Database) {}

  async get(key: string): Promise<string | undefined> {
    const { rows } = await this.db.query<{ value: string }>('SELECT value FROM gateway_state WHERE key = $1', [key]);
    return rows[0]?.value;
  }

  async set(key: string, value: string): Promise<void> {
    await this.db.query('INSERT INTO gateway_state (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value', [
      key,
      value,
    ]);
  }

  /** Sets the key unless it is set already; true when this call set it. */
  async setOnce(key: string, value: string): Promise<boolean> {
    const r = await this.db.query('INSERT INTO gateway_state (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [key, value]);
    return r.rowCount > 0;
  }
}
