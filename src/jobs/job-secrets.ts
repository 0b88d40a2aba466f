import { type JobRecord, type JobRepository } from './job.repository';
import { unseal } from '../keys/secret-box';
import { type SigningKeys } from '../keys/signing-keys';

/**
 * Job S3 secrets, read back for SigV4 verification. A secret is stored only sealed (AES-GCM,
 * bound to its job's id) and is unsealed here, in memory, for the one request that needs it.
 * It lives beside the signing keys so authentication never reaches into the control plane.
 */
export class JobSecrets {
  constructor(
    private readonly jobs: JobRepository,
    private readonly keys: SigningKeys,
  ) {}

  /** The job holding an access key and its secret; undefined for a key no job holds. */
  async lookup(accessKeyId: string): Promise<{ job: JobRecord; secret: string } | undefined> {
    const job = await this.holder(accessKeyId);
    return job === undefined ? undefined : { job, secret: this.secretOf(job) };
  }

  /** The job holding an access key, its secret still sealed; undefined for a key no job holds. */
  async holder(accessKeyId: string): Promise<(JobRecord & { secretSealed: string }) | undefined> {
    const job = await this.jobs.getByAccessKey(accessKeyId);
    return job === undefined || job.secretSealed === null ? undefined : { ...job, secretSealed: job.secretSealed };
  }

  /** A job's secret, unsealed. */
  secretOf(job: JobRecord & { secretSealed: string }): string {
    return unseal(this.keys.sealKey, job.secretSealed, `job:${job.id}`);
  }
}
