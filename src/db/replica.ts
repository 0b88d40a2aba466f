import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Logger } from '@nestjs/common';
import { type HeldLock, LockSpace } from './advisory-locks';
import { type Database } from './database';

const REGAIN_MS = 1000;

/**
 * This gateway process as one replica among those sharing the database. Work a replica carries
 * out over time (a release, an ingest run) is stamped with its id; the replica holds an advisory
 * lock named by its id in a session of its own for as long as it lives, so "is the owner of this
 * work alive?" is answered by PostgreSQL, not by a timeout: a process that dies (kill -9, lost
 * node) loses its session and its lock with it, and only then may another replica reconcile
 * what it left.
 */
export class Replica {
  private readonly logger = new Logger('Replica');
  private held: HeldLock | undefined;
  private left = false;

  private constructor(
    readonly id: string,
    private readonly db: Database,
  ) {}

  static async join(db: Database): Promise<Replica> {
    for (;;) {
      const replica = new Replica(`${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`, db);
      // Two ids whose hashes collide would share a lock: take a fresh id instead.
      if (await replica.take()) return replica;
    }
  }

  /** Whether the replica that stamped some work is still running. Unstamped work has no owner. */
  async isAlive(owner: string | null): Promise<boolean> {
    if (owner === null) return false;
    if (owner === this.id) return true;
    return this.db.lockHeldElsewhere({ space: LockSpace.replica, name: owner });
  }

  async leave(): Promise<void> {
    this.left = true;
    await this.held?.release();
  }

  private async take(): Promise<boolean> {
    this.held = await this.db.sessionLock({ space: LockSpace.replica, name: this.id }, { wait: false, onLost: () => this.regain() });
    return this.held !== undefined;
  }

  /** The lock's session dropped (database restart, network): take it again as soon as the database answers. */
  private regain(): void {
    this.held = undefined;
    if (this.left) return;
    this.logger.error(`replica ${this.id} lost its liveness lock; taking it again`);
    const retry = () => {
      if (this.left) return;
      this.take().then(
        (ok) => {
          if (!ok) this.logger.error(`replica ${this.id}: its liveness lock is held by another session`);
        },
        () => setTimeout(retry, REGAIN_MS).unref(),
      );
    };
    setTimeout(retry, REGAIN_MS).unref();
  }
}
