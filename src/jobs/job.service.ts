import { randomBytes } from 'node:crypto';
import { type AuditLog, type RequestMeta } from '../audit/audit-log.service';
import { type TokenService } from '../auth/token.service';
import { type Clock } from '../clock/clock';
import { Ids } from '../clock/ids';
import { type JobRepository } from './job.repository';
import { seal } from '../keys/secret-box';
import { type SigningKeys } from '../keys/signing-keys';
import { type JobCredentials, type JobView } from './jobs.dto';

/** A job's credentials can live at most a day: a leaked one expires soon. */
export const MAX_JOB_TTL_S = 24 * 3600;

/** A job's credentials as issued: the secret access key is shown once, and stored only sealed. */
export type IssuedJob = JobCredentials;

const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Job credentials: a JWT for the REST data plane and an S3 access-key pair for SigV4 clients. */
export class JobService {
  constructor(
    private readonly jobs: JobRepository,
    private readonly tokens: TokenService,
    private readonly keys: SigningKeys,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly ids: Ids = new Ids(),
  ) {}

  async issue(team: string, ttlSeconds: number, by: string, meta: RequestMeta): Promise<IssuedJob> {
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 60 || ttlSeconds > MAX_JOB_TTL_S) {
      throw new RangeError(`job TTL must be 60..${MAX_JOB_TTL_S} seconds`);
    }
    const now = this.clock.now();
    const jobId = `job-${this.ids.uuid()}`;
    const expiresAt = new Date(now.getTime() + ttlSeconds * 1000);
    const accessKeyId = `CAGE${[...randomBytes(16)].map((b) => KEY_ALPHABET[b & 31]).join('')}`;
    const secretAccessKey = randomBytes(30).toString('base64url');
    await this.jobs.insert(
      { id: jobId, team, createdAt: now, expiresAt, accessKeyId, secretSealed: seal(this.keys.sealKey, secretAccessKey, `job:${jobId}`) },
      by,
    );
    await this.audit.record(meta, {
      principal: by,
      team,
      action: 'job.create',
      decision: 'allow',
      resource: { type: 'job', id: jobId },
      detail: { after: { jobId, team, expiresAt: expiresAt.toISOString(), accessKeyId } },
    });
    return {
      jobId,
      team,
      token: await this.tokens.issueJob(jobId, team, expiresAt),
      accessKeyId,
      secretAccessKey,
      expiresAt: expiresAt.toISOString(),
    };
  }

  async list(q: { team?: string; active?: boolean }): Promise<JobView[]> {
    const now = this.clock.now().getTime();
    const all: JobView[] = (await this.jobs.list({ team: q.team })).map((j) => ({
      jobId: j.id,
      team: j.team,
      accessKeyId: j.accessKeyId,
      createdAt: j.createdAt.toISOString(),
      createdBy: j.createdBy,
      expiresAt: j.expiresAt.toISOString(),
      revokedAt: j.revokedAt?.toISOString() ?? null,
      state: j.revokedAt !== null ? 'revoked' : j.expiresAt.getTime() <= now ? 'expired' : 'active',
    }));
    return q.active === undefined ? all : all.filter((j) => (j.state === 'active') === q.active);
  }

  /** Revokes a job: its token and access key stop working within a second on every replica. */
  async revoke(id: string, by: string, meta: RequestMeta): Promise<JobView | 'unknown' | 'already'> {
    const job = await this.jobs.get(id);
    if (job === undefined) return 'unknown';
    if (!(await this.jobs.revoke(id, this.clock.now(), by))) return 'already';
    await this.audit.record(meta, {
      principal: by,
      team: job.team,
      action: 'job.revoke',
      decision: 'allow',
      resource: { type: 'job', id },
      detail: { before: { revokedAt: null }, after: { revokedAt: this.clock.now().toISOString() } },
    });
    return (await this.list({ team: job.team })).find((j) => j.jobId === id) ?? 'unknown';
  }
}
