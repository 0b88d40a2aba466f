import { LockSpace } from '../db/advisory-locks';
import { type Database } from '../db/database';
import { type PolicyMap } from './policy-files';

export interface PolicyVersionRow {
  version: number;
  sha256: string;
  map: PolicyMap;
  activatedAt: string;
  activatedBy: string;
}

interface Row {
  version: number | string;
  sha256: string;
  files: string;
  activated_at: string | Date;
  activated_by: string;
}

function fromRow(r: Row): PolicyVersionRow {
  return {
    version: Number(r.version),
    sha256: r.sha256,
    map: JSON.parse(r.files) as PolicyMap,
    activatedAt: new Date(r.activated_at).toISOString(),
    activatedBy: r.activated_by,
  };
}

/** Every policy set ever activated; the highest version is the active one on every replica. */
export class PolicyVersionRepository {
  constructor(private readonly db: Database) {}

  /** Runs fn while no other replica activates a policy set. */
  withActivationLock<T>(fn: () => Promise<T>): Promise<T> {
    return this.db.withLock({ space: LockSpace.policy, name: '' }, fn);
  }

  /** The highest version's number only (what replicas poll). */
  async latestVersion(): Promise<number | undefined> {
    const { rows } = await this.db.query<{ v: string | number | null }>('SELECT MAX(version) AS v FROM policy_versions');
    const v = rows[0]?.v;
    return v === null || v === undefined ? undefined : Number(v);
  }

  async latest(): Promise<PolicyVersionRow | undefined> {
    const { rows } = await this.db.query<Row>(
      'SELECT version, sha256, files, activated_at, activated_by FROM policy_versions ORDER BY version DESC LIMIT 1',
    );
    return rows[0] === undefined ? undefined : fromRow(rows[0]);
  }

  async get(version: number): Promise<PolicyVersionRow | undefined> {
    const { rows } = await this.db.query<Row>(
      'SELECT version, sha256, files, activated_at, activated_by FROM policy_versions WHERE version = $1',
      [version],
    );
    return rows[0] === undefined ? undefined : fromRow(rows[0]);
  }

  /** Newest first. */
  async list(): Promise<PolicyVersionRow[]> {
    const { rows } = await this.db.query<Row>(
      'SELECT version, sha256, files, activated_at, activated_by FROM policy_versions ORDER BY version DESC',
    );
    return rows.map(fromRow);
  }

  async insert(v: PolicyVersionRow): Promise<void> {
    await this.db.query('INSERT INTO policy_versions (version, sha256, files, activated_at, activated_by) VALUES ($1, $2, $3, $4, $5)', [
      v.version,
      v.sha256,
      JSON.stringify(v.map),
      v.activatedAt,
      v.activatedBy,
    ]);
  }
}
