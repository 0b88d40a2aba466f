import { type Database } from '../../db/database';

/** A job's own upload under an outbox key: what it sent (size, S3 ETag) and the artifact it became. */
export interface OutboxName {
  jobId: string;
  key: string;
  artifactId: string;
  size: number;
  etag: string;
  uploadedAt: Date;
}

/** The latest upload of each (job, outbox key). */
export class OutboxNameRepository {
  constructor(private readonly db: Database) {}

  async record(n: OutboxName): Promise<void> {
    await this.db.query(
      `INSERT INTO outbox_names (job_id, object_key, artifact_id, size, etag, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (job_id, object_key) DO UPDATE
         SET artifact_id = EXCLUDED.artifact_id, size = EXCLUDED.size, etag = EXCLUDED.etag, uploaded_at = EXCLUDED.uploaded_at`,
      [n.jobId, n.key, n.artifactId, n.size, n.etag, n.uploadedAt.toISOString()],
    );
  }

  async find(jobId: string, key: string): Promise<OutboxName | undefined> {
    const { rows } = await this.db.query<{ artifact_id: string; size: string | number; etag: string; uploaded_at: string | Date }>(
      'SELECT artifact_id, size, etag, uploaded_at FROM outbox_names WHERE job_id = $1 AND object_key = $2',
      [jobId, key],
    );
    const r = rows[0];
    return r === undefined
      ? undefined
      : { jobId, key, artifactId: r.artifact_id, size: Number(r.size), etag: r.etag, uploadedAt: new Date(r.uploaded_at) };
  }
}
