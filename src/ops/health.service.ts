import { type Database } from '../db/database';
import { type ObjectStore } from '../storage/object-store.service';

/**
 * Readiness: has start-up finished (migrations, the demo seeded, bootstrap.json written, the
 * background workers started), and can we reach what every request needs? A script that waits
 * for /readyz can then read bootstrap.json.
 */
export class HealthService {
  private started = false;

  constructor(
    private readonly db: Database,
    private readonly store: ObjectStore,
    private readonly probeBucket: string,
  ) {}

  /** Called by the gateway once start-up is complete. */
  markStarted(): void {
    this.started = true;
  }

  async check(): Promise<{ ok: boolean; checks: Record<string, string> }> {
    if (!this.started) return { ok: false, checks: { startup: 'in progress' } };
    const [db, s3] = await Promise.all([
      this.db.ping().then(
        () => 'ok',
        () => 'unreachable',
      ),
      this.store.ping(this.probeBucket).then(
        () => 'ok',
        () => 'unreachable',
      ),
    ]);
    return { ok: db === 'ok' && s3 === 'ok', checks: { startup: 'done', database: db, objectStore: s3 } };
  }
}
