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

  /**
   * Opens an upload unless the job has `maxOpen` open already: counted and inserted under a lock
   * on the job's row, so uploads started at once cannot pass the limit. False when full.
   */
  async create(u: Omit<MultipartUpload, 'state'>, maxOpen: number): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      await tx.query('SELECT id FROM jobs WHERE id = $1 FOR UPDATE', [u.jobId]);
      const { rows } = await tx.query<{ n: string | number }>(
        "SELECT COUNT(*) AS n FROM multipart_uploads WHERE job_id = $1 AND state IN ('open', 'completing')",
        [u.jobId],
      );
      if (Number(rows[0].n) >= maxOpen) return false;
      await tx.query(
        `INSERT INTO multipart_uploads (id, job_id, team, kind, object_key, state, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, 'open', $6, $7)`,
        [u.id, u.jobId, u.team, u.kind, u.objectKey, u.createdAt.toISOString(), u.expiresAt.toISOString()],
      );
      return true;
    });
  }

  /**
   * Reserves `bytes` of an open upload for a part on its way, under the upload's row lock: the
   * parts stored (but the one this replaces) and the reservations of parts still on their way,
   * plus these bytes, must fit `cap`, and the parts `maxParts`.
   */
  async reserve(
    uploadId: string,
    partNumber: number,
    bytes: number,
    limits: { cap: number; maxParts: number },
    token: string,
  ): Promise<'ok' | 'gone' | 'too_large' | 'too_many_parts'> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ state: string }>('SELECT state FROM multipart_uploads WHERE id = $1 FOR UPDATE', [uploadId]);
      if (rows[0]?.state !== 'open') return 'gone';
      const held = await tx.query<{ bytes: string | number; parts: string | number }>(
        `SELECT COALESCE(SUM(size), 0) AS bytes, COUNT(*) AS parts FROM multipart_parts WHERE upload_id = $1 AND part_number <> $2`,
        [uploadId, partNumber],
      );
      const onTheWay = await tx.query<{ bytes: string | number }>(
        'SELECT COALESCE(SUM(bytes), 0) AS bytes FROM multipart_reservations WHERE upload_id = $1',
        [uploadId],
      );
      if (Number(held.rows[0].bytes) + Number(onTheWay.rows[0].bytes) + bytes > limits.cap) return 'too_large';
      if (Number(held.rows[0].parts) + 1 > limits.maxParts) return 'too_many_parts';
      await tx.query('INSERT INTO multipart_reservations (upload_id, token, bytes) VALUES ($1, $2, $3)', [uploadId, token, bytes]);
      return 'ok';
    });
  }

  /** Gives back a reservation whose part failed. */
  async unreserve(token: string): Promise<void> {
    await this.db.query('DELETE FROM multipart_reservations WHERE token = $1', [token]);
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
   * Records a part of an open upload in place of its reservation, replacing a part of the same
   * number, under the upload's row lock (so no state change passes it). Undefined when the
   * upload is no longer open (the caller removes the bytes it stored); else the stored key of
   * the part it replaced, if any, whose bytes the caller removes.
   */
  async putPart(uploadId: string, p: StoredPart, token: string): Promise<{ replaced: string | null } | undefined> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ state: string }>('SELECT state FROM multipart_uploads WHERE id = $1 FOR UPDATE', [uploadId]);
      await tx.query('DELETE FROM multipart_reservations WHERE token = $1', [token]);
      if (rows[0]?.state !== 'open') return undefined;
      const old = await tx.query<{ stored_key: string }>(
        'SELECT stored_key FROM multipart_parts WHERE upload_id = $1 AND part_number = $2',
        [uploadId, p.partNumber],
      );
      await tx.query(
        `INSERT INTO multipart_parts (upload_id, part_number, stored_key, size, etag, payload, stored_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (upload_id, part_number) DO UPDATE
           SET stored_key = EXCLUDED.stored_key, size = EXCLUDED.size, etag = EXCLUDED.etag,
               payload = EXCLUDED.payload, stored_at = EXCLUDED.stored_at`,
        [uploadId, p.partNumber, p.storedKey, p.size, p.etag, p.payload, p.storedAt.toISOString()],
      );
      return { replaced: old.rows[0]?.stored_key ?? null };
    });
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

  /**
   * Uploads past their expiry (at most `limit`): open ones at once, completing ones only `grace`
   * later (a Complete still running is not pulled from under; one a crash left is ended then).
   */
  async expiredBefore(at: Date, graceMs: number, limit: number): Promise<MultipartUpload[]> {
    const { rows } = await this.db.query<UploadRow>(
      `SELECT ${UPLOAD_COLUMNS} FROM multipart_uploads
       WHERE (state = 'open' AND expires_at <= $1) OR (state = 'completing' AND expires_at <= $2)
       ORDER BY expires_at LIMIT $3`,
      [at.toISOString(), new Date(at.getTime() - graceMs).toISOString(), limit],
    );
    return rows.map(upload);
  }

  /** Forgets the parts and reservations of an ended upload (their bytes are removed by the caller first). */
  async dropParts(uploadId: string): Promise<void> {
    await this.db.query('DELETE FROM multipart_parts WHERE upload_id = $1', [uploadId]);
    await this.db.query('DELETE FROM multipart_reservations WHERE upload_id = $1', [uploadId]);
  }
}
