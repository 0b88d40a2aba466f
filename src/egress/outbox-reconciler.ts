import { createHash } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { type AuditLog } from '../audit/audit-log.service';
import { type Clock } from '../clock/clock';
import { ObjectNotFoundError, type ObjectStore } from '../storage/object-store.service';
import { OUTBOX_BUCKET, QUARANTINE_BUCKET } from './egress-release';
import { type EgressRepository } from './egress.repository';

const MAX_ARTIFACT_BYTES = 1024 * 1024 * 1024;

export interface ReconcileReport {
  failed: string[];
  completed: string[];
  quarantined: string[];
}

/**
 * Run at start-up, before the listeners accept egress. An artifact left `releasing` by a crash
 * (its release leaf durable, its outbox write not known to have finished) is marked failed with
 * a leaf, unless the outbox holds exactly its canonical bytes, in which case the release is
 * completed. Any outbox object without a release leaf is moved to quarantine and reported.
 */
export class OutboxReconciler {
  private readonly logger = new Logger('OutboxReconciler');

  constructor(
    private readonly repo: EgressRepository,
    private readonly store: ObjectStore,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  async reconcile(): Promise<ReconcileReport> {
    const meta = { requestId: `reconcile-${Date.now()}`, listener: 'internal' as const };
    const report: ReconcileReport = { failed: [], completed: [], quarantined: [] };
    for (const a of await this.repo.byStatus('releasing')) {
      let complete = false;
      if (a.auditIndex !== null && a.outboxKey !== null) {
        try {
          const bytes = await this.store.getBuffer(OUTBOX_BUCKET, a.outboxKey, MAX_ARTIFACT_BYTES);
          complete = createHash('sha256').update(bytes).digest('hex') === a.sha256;
        } catch (err) {
          if (!(err instanceof ObjectNotFoundError)) throw err;
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

    const released = await this.repo.releasedKeys();
    let marker: string | undefined;
    for (;;) {
      const page = await this.store.list(OUTBOX_BUCKET, '', marker, 1000);
      for (const o of page.objects) {
        marker = o.key;
        if (released.has(o.key)) continue;
        const bytes = await this.store.getBuffer(OUTBOX_BUCKET, o.key, MAX_ARTIFACT_BYTES);
        await this.store.put(QUARANTINE_BUCKET, o.key, bytes);
        await this.store.delete(OUTBOX_BUCKET, o.key);
        await this.audit.record(meta, {
          principal: 'gateway',
          team: null,
          action: 'egress.quarantine',
          decision: 'deny',
          resource: { type: 'outbox-object', keyHex: Buffer.from(o.key).toString('hex') },
          sha256: createHash('sha256').update(bytes).digest('hex'),
          bytes: bytes.length,
          detail: { reason: 'outbox object without a release leaf' },
        });
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
}
