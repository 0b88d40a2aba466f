import { Logger } from '@nestjs/common';
import { type AuditLog, type RequestMeta } from '../../audit/audit-log.service';
import { type Clock } from '../../clock/clock';
import { type Receipt } from '../../egress/egress.service';
import { type S3Caller } from '../s3-signature.strategy';
import { type OutboxName, type OutboxNameRepository } from './outbox-name.repository';

/**
 * HeadObject on the outbox, as the clients that check an upload expect (rclone HEADs the key
 * after a PUT and compares size and ETag): the job that uploaded a key is told its own upload's
 * size and ETag (what it sent, which it knows), and the receipt id it was given; any other job,
 * and a key never uploaded, get 404. Nothing about the released, canonical artifact is said, and
 * the outbox is still never listed or read. Each HEAD is a leaf (`upload.head`).
 */
export class OutboxNames {
  private readonly logger = new Logger('OutboxNames');

  constructor(
    private readonly repo: OutboxNameRepository,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  /**
   * After an upload was accepted (released or held): what HEAD will answer for its key. Its
   * failure is logged, not answered: the artifact is out, and a client told otherwise would
   * upload it again (and be charged again); its HEAD then answers 404 as before any upload.
   */
  async uploaded(caller: S3Caller, key: string, receipt: Receipt, size: number, etag: string): Promise<void> {
    try {
      await this.repo.record({ jobId: caller.jobId, key, artifactId: receipt.id, size, etag, uploadedAt: this.clock.now() });
    } catch (err) {
      this.logger.warn(`upload ${receipt.id} of job ${caller.jobId}: its key could not be recorded for HEAD (${String(err)})`);
    }
  }

  async head(caller: S3Caller, key: string, meta: RequestMeta): Promise<OutboxName | undefined> {
    const found = await this.repo.find(caller.jobId, key);
    await this.audit.record(meta, {
      principal: `job:${caller.jobId}`,
      team: caller.team,
      action: 'upload.head',
      decision: found === undefined ? 'deny' : 'allow',
      status: found === undefined ? 404 : 200,
      resource: { type: 'outbox', id: key },
      detail: found === undefined ? { reason: 'not_uploaded_by_this_job' } : { artifact: found.artifactId },
    });
    return found;
  }
}
