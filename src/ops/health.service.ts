import { type Database } from '../db/database';
import { type ObjectStore } from '../storage/object-store.service';

/** Readiness: can we reach what every request needs? */
export class HealthService {
  constructor(
    private readonly db: Database,
    private readonly store: ObjectStore,
    private readonly probeBucket: string,
  ) {}

  async check(): Promise<{ ok: boolean; checks: Record<string, string> }> {
    const [db, s3] = await Promise.all([
      this.db.query('SELECT 1').then(
        () => 'ok',
        () => 'unreachable',
      ),
      this.store.ping(this.probeBucket).then(
        () => 'ok',
        () => 'unreachable',
      ),
    ]);
    return { ok: db === 'ok' && s3 === 'ok', checks: { database: db, objectStore: s3 } };
  }
}
