import { createHash } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { type AuditLog } from '../audit/audit-log.service';
import { type Clock } from '../clock/clock';
import { type Replica } from '../db/replica';
import { ObjectNotFoundError, type ObjectStore } from '../storage/object-store.service';
import { OUTBOX_BUCKET, QUARANTINE_BUCKET } from './egress-release';
import { type EgressRepository } from './egress.repository';

const MAX_ARTIFACT_BYTES = 1024 * 1024 * 1024;
/** How often a running replica looks for what a dead one left half-released. */
export const RECONCILE_EVERY_MS = 30_000;

export interface ReconcileReport {
  failed: string[];
  completed: string[];
  quarantined: string[];
}

/**
 * At start-up (before the listeners accept egress) and then every 30 s, one replica at a time:
 *
 * - an artifact left `releasing` by a replica that is gone (its release leaf durable, its outbox
 *   write not known to have finished) is marked failed with a leaf, unless the outbox holds exactly
 *   its canonical bytes, in which case the release is completed. A live replica's releases are its
 *   own: whether their owner lives is PostgreSQL's answer (db/replica.ts), never a timeout.
 * - any outbox object without a release leaf is moved to quarantine and reported; one the store
 *   cannot read (a write cut short) is moved by the store itself, or left and reported — never a
 *   reason not to start.
 */
export class OutboxReconciler {
  private readonly logger = new Logger('OutboxReconciler');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly repo: EgressRepository,
    private readonly store: ObjectStore,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly replica: Pick<Replica, 'isAlive'>,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running = this.reconcile().catch((err: Error) =>
        this.logger.error({ message: 'outbox reconciliation failed', error: err.message }),
      );
    }, RECONCILE_EVERY_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.running;
  }

  reconcile(): Promise<ReconcileReport> {
    return this.repo.withReconcileLock(() => this.reconcileNow());
  }

  private async reconcileNow(): Promise<ReconcileReport> {
    const meta = { requestId: `reconcile-${this.clock.now().getTime()}`, listener: 'internal' as const };
    const report: ReconcileReport = { failed: [], completed: [], quarantined: [] };
    for (const a of await this.repo.releasing()) {
      if (await this.replica.isAlive(a.owner)) continue;
      let complete = false;
      if (a.auditIndex !== null && a.outboxKey !== null) {
        try {
          const bytes = await this.store.getBuffer(OUTBOX_BUCKET, a.outboxKey, MAX_ARTIFACT_BYTES);
          complete = createHash('sha256').update(bytes).digest('hex') === a.sha256;
        } catch (err) {
          if (!(err instanceof ObjectNotFoundError))
            this.logger.warn({ message: 'a half-released artifact cannot be read', artifact: a.id });
        }
      }
      const base = { principal: 'gateway', team: a.team, resource: { type: 'artifact', id: a.id }, sha256: a.sha256 };
      if (complete) {
        await this.audit.record(meta, {
          ...base,
          action: 'egress.reconcile',
          decision: 'info',
          detail: { artifact: a.id, outcome: 'released' },
        });
        await this.repo.transition(a.id, ['releasing'], 'released', this.clock.now());
        report.completed.push(a.id);
      } else {
        await this.audit.record(meta, {
          ...base,
          action: 'egress.fail',
          decision: 'error',
          detail: { artifact: a.id, reason: 'half-released at restart' },
        });
        await this.repo.transition(a.id, ['releasing'], 'failed', this.clock.now());
        report.failed.push(a.id);
      }
    }

    // Read after the releases above settled: a key failed there is no longer protected.
    const released = await this.repo.releasedKeys();
    let marker: string | undefined;
    for (;;) {
      const page = await this.store.list(OUTBOX_BUCKET, '', marker, 1000);
      for (const o of page.objects) {
        marker = o.key;
        if (released.has(o.key)) continue;
        await this.quarantine(o.key, meta);
        report.quarantined.push(o.key);
      }
      if (!page.truncated || page.objects.length === 0) break;
    }
    if (report.failed.length + report.completed.length + report.quarantined.length > 0) {
      this.logger.warn({
        message: 'outbox reconciled',
        failed: report.failed,
        completed: report.completed,
        quarantined: report.quarantined,
      });
    }
    return report;
  }

  private async quarantine(key: string, meta: { requestId: string; listener: 'internal' }): Promise<void> {
    let evidence: { sha256: string; bytes: number } | undefined;
    let moved: 'moved' | 'copied by the store' | 'left in place' = 'moved';
    try {
      const bytes = await this.store.getBuffer(OUTBOX_BUCKET, key, MAX_ARTIFACT_BYTES);
      evidence = { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
      await this.store.put(QUARANTINE_BUCKET, key, bytes);
    } catch (err) {
      if (err instanceof ObjectNotFoundError) return; // gone meanwhile
      // Unreadable (a write cut short): the store may still copy what it holds.
      try {
        await this.store.copy({ bucket: OUTBOX_BUCKET, key }, { bucket: QUARANTINE_BUCKET, key });
        moved = 'copied by the store';
      } catch {
        moved = 'left in place';
      }
    }
    // Never served either way: an outbox object without a release leaf is not readable through the gateway.
    if (moved !== 'left in place') await this.store.delete(OUTBOX_BUCKET, key).catch(() => undefined);
    await this.audit.record(meta, {
      principal: 'gateway',
      team: null,
      action: 'egress.quarantine',
      decision: 'deny',
      resource: { type: 'outbox-object', keyHex: Buffer.from(key).toString('hex') },
      ...(evidence === undefined ? {} : evidence),
      detail: {
        reason: 'outbox object without a release leaf',
        ...(evidence === undefined ? { unreadable: moved } : {}),
      },
    });
  }
}
