import { type Database } from '../../db/database';

export type UploadState = 'open' | 'completing' | 'completed' | 'aborted' | 'expired';

export interface MultipartUpload {
  id: string;
  jobId: string;
  team: string;
  kind: string;
  objectKey: string;
  state: UploadState;
  createdAt: Date;
  expiresAt: Date;
}

export interface StoredPart {
  partNumber: number;
  storedKey: string;
  size: number;
  etag: string;
  payload: string;
  storedAt: Date;
}

interface UploadRow {
  id: string;
  job_id: string;
  team: string;
  kind: string;
  object_key: string;
  state: UploadState;
  created_at: string | Date;
  expires_at: string | Date;
}

interface PartRow {
  part_number: number;
  stored_key: string;
  size: string | number;
  etag: string;
  payload: string;
  stored_at: string | Date;
}

const upload = (r: UploadRow): MultipartUpload => ({
  id: r.id,
  jobId: r.job_id,
  team: r.team,
  kind: r.kind,
  objectKey: r.object_key,
  state: r.state,
  createdAt: new Date(r.created_at),
  expiresAt: new Date(r.expires_at),
});

const part = (r: PartRow): StoredPart => ({
  partNumber: Number(r.part_number),
  storedKey: r.stored_key,
  size: Number(r.size),
  etag: r.etag,
  payload: r.payload,
  storedAt: new Date(r.stored_at),
});

const UPLOAD_COLUMNS = 'id, job_id, team, kind, object_key, state, created_at, expires_at';

/** Multipart uploads and their parts; every state change is one conditional statement. */
export class MultipartRepository {
  constructor(private readonly db: Database) {}

  async create(u: Omit<MultipartUpload, 'state'>): Promise<void> {
    await this.db.query(
      `INSERT INTO multipart_uploads (id, job_id, team, kind, object_key, state, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, 'open', $6, $7)`,
      [u.id, u.jobId, u.team, u.kind, u.objectKey, u.createdAt.toISOString(), u.expiresAt.toISOString()],
    );
  }

  async get(id: string): Promise<MultipartUpload | undefined> {
    const { rows } = await this.db.query<UploadRow>(`SELECT ${UPLOAD_COLUMNS} FROM multipart_uploads WHERE id = $1`, [id]);
    return rows[0] === undefined ? undefined : upload(rows[0]);
  }

  /** A job's uploads still open (or completing), oldest first. */
  async openOf(jobId: string): Promise<MultipartUpload[]> {
    const { rows } = await this.db.query<UploadRow>(
      `SELECT ${UPLOAD_COLUMNS} FROM multipart_uploads WHERE job_id = $1 AND state IN ('open', 'completing') ORDER BY created_at, id`,
      [jobId],
    );
    return rows.map(upload);
  }

  /**
   * Records a part of an open upload, replacing one of the same number. Undefined when the
   * upload is no longer open (the caller removes the bytes it stored); else the stored key of
   * the part it replaced, if any, whose bytes the caller removes.
   */
  async putPart(uploadId: string, p: StoredPart): Promise<{ replaced: string | null } | undefined> {
    const { rows } = await this.db.query<{ replaced: string | null; stored: string | number }>(
      `WITH old AS (SELECT stored_key FROM multipart_parts WHERE upload_id = $1 AND part_number = $2),
            up AS (
              INSERT INTO multipart_parts (upload_id, part_number, stored_key, size, etag, payload, stored_at)
              SELECT $1, $2, $3, $4, $5, $6, $7 WHERE EXISTS (SELECT 1 FROM multipart_uploads WHERE id = $1 AND state = 'open')
              ON CONFLICT (upload_id, part_number) DO UPDATE
                SET stored_key = EXCLUDED.stored_key, size = EXCLUDED.size, etag = EXCLUDED.etag,
                    payload = EXCLUDED.payload, stored_at = EXCLUDED.stored_at
              RETURNING 1)
       SELECT (SELECT stored_key FROM old) AS replaced, (SELECT COUNT(*) FROM up) AS stored`,
      [uploadId, p.partNumber, p.storedKey, p.size, p.etag, p.payload, p.storedAt.toISOString()],
    );
    return Number(rows[0].stored) === 0 ? undefined : { replaced: rows[0].replaced };
  }

  async parts(uploadId: string): Promise<StoredPart[]> {
    const { rows } = await this.db.query<PartRow>(
      'SELECT part_number, stored_key, size, etag, payload, stored_at FROM multipart_parts WHERE upload_id = $1 ORDER BY part_number',
      [uploadId],
    );
    return rows.map(part);
  }

  /** Moves an upload from one of `from` to `to`; the upload as it was, or undefined if it was in no state of `from`. */
  async transition(id: string, from: UploadState[], to: UploadState, at: Date): Promise<MultipartUpload | undefined> {
    const ended = to === 'open' || to === 'completing' ? null : at.toISOString();
    const { rows } = await this.db.query<UploadRow>(
      `UPDATE multipart_uploads SET state = $2, ended_at = $3 WHERE id = $1 AND state = ANY($4::text[]) RETURNING ${UPLOAD_COLUMNS}`,
      [id, to, ended, from],
    );
    return rows[0] === undefined ? undefined : upload(rows[0]);
  }

  /** Uploads past their expiry that are still open or completing (at most `limit`). */
  async expiredBefore(at: Date, limit: number): Promise<MultipartUpload[]> {
    const { rows } = await this.db.query<UploadRow>(
      `SELECT ${UPLOAD_COLUMNS} FROM multipart_uploads WHERE state IN ('open', 'completing') AND expires_at <= $1 ORDER BY expires_at LIMIT $2`,
      [at.toISOString(), limit],
    );
    return rows.map(upload);
  }

  /** Forgets the parts of an ended upload (their bytes are removed by the caller first). */
  async dropParts(uploadId: string): Promise<void> {
    await this.db.query('DELETE FROM multipart_parts WHERE upload_id = $1', [uploadId]);
  }
}
