import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { type IncomingMessage } from 'node:http';
import { pipeline, Readable, Transform, type TransformCallback } from 'node:stream';
import { finished } from 'node:stream/promises';
import { type AuditLog, type RequestMeta } from '../../audit/audit-log.service';
import { type Clock } from '../../clock/clock';
import { type CageConfig } from '../../config/config';
import { type EgressService, type PayloadAuth, type Receipt } from '../../egress/egress.service';
import { EgressRefusal } from '../../egress/egress-refusal';
import { AnsweredError } from '../../ops/http-answer';
import { type PolicyEngine } from '../../policy/policy.types';
import { type ObjectStore } from '../../storage/object-store.service';
import { type S3Caller } from '../s3-signature.strategy';
import { S3Error, invalidArgument } from '../s3-error';
import { verifiedPayload } from '../s3-payload';
import { readSmallDocument } from '../s3-xml';
import { type HeaderList, headerValues } from '../sigv4/canonical-request';
import { type MultipartRepository, type MultipartUpload, type StoredPart } from './multipart.repository';

/** Where parts wait for their upload's completion: inside the cage, never the outbox. */
export const UPLOADS_BUCKET = 'cage-uploads';
/** S3's smallest part but the last (clients split at 5–16 MiB). */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
/** A Complete that has not ended within this after its upload expired was cut short (a crash): the sweep ends it. */
const COMPLETING_GRACE_MS = 60 * 60 * 1000;
/** A CompleteMultipartUpload document: 10,000 parts of ~150 bytes fit. */
const MAX_COMPLETE_BODY = 2 * 1024 * 1024;

const noSuchUpload = () =>
  new S3Error(
    404,
    'NoSuchUpload',
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
  );

/** Counts what passes and fails the stream past `max` bytes. */
class Counter extends Transform {
  bytes = 0;
  constructor(private readonly max: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.max) done(new S3Error(400, 'IncompleteBody', 'The part is longer than its declared length.'));
    else done(null, chunk);
  }
}

/** Opens a job's in-flight part uploads one at a time per slot. */
class InFlight {
  private readonly open = new Map<string, number>();
  constructor(private readonly max: number) {}
  acquire(jobId: string): (() => void) | undefined {
    const n = this.open.get(jobId) ?? 0;
    if (n >= this.max) return undefined;
    this.open.set(jobId, n + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const left = (this.open.get(jobId) ?? 1) - 1;
      if (left <= 0) this.open.delete(jobId);
      else this.open.set(jobId, left);
    };
  }
}

export interface CompletedUpload {
  receipt: Receipt;
  /** S3's ETag of a multipart object: MD5 of the parts' MD5s, and their count. */
  etag: string;
  /** Bytes the parts held (what was sent). */
  bytes: number;
}

/**
 * Multipart uploads into the outbox (CreateMultipartUpload, UploadPart, ListParts,
 * CompleteMultipartUpload, AbortMultipartUpload, ListMultipartUploads), for the clients that
 * upload large files that way by default (aws-cli over 8 MiB, pyarrow's output streams, rclone).
 *
 * Parts are held in the private uploads bucket, each under a key of its own, and never reach the
 * outbox: on Complete the parts, in the order listed, are read back and run through the egress
 * pipeline as one artifact (checked, canonicalized, charged and logged like a PutObject). The
 * kind's size cap and the part count are enforced as parts arrive, before a part's body is read.
 * An upload belongs to the job that created it; it ends when completed, aborted or expired (at
 * most CAGE_MULTIPART_TTL_SECONDS, and never after its job), and an ended upload's parts are
 * removed. Every step is one audit leaf (`upload.create`, `upload.part`, `upload.list`,
 * `upload.complete`, `upload.abort`, `upload.expire`); Complete also writes the egress leaves.
 */
export class MultipartUploads {
  private readonly inFlight: InFlight;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly repo: MultipartRepository,
    private readonly store: ObjectStore,
    private readonly egress: EgressService,
    private readonly policy: PolicyEngine,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly limits: CageConfig['multipart'],
  ) {
    this.inFlight = new InFlight(limits.partsInFlightPerJob);
  }

  /** Expires abandoned uploads now and every minute. */
  start(): void {
    void this.sweep().catch(() => undefined);
    this.timer = setInterval(() => void this.sweep().catch(() => undefined), 60_000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  async create(caller: S3Caller, key: string, meta: RequestMeta): Promise<{ uploadId: string }> {
    const kind = kindOf(key);
    // Nothing is held for an artifact that could not leave: a kind the policy set knows and
    // permits this job, with room today for at least a refusal.
    const pre = await this.egress.preflight(caller, kind);
    if (pre !== 'ok') {
      await this.leaf(caller, meta, 'upload.create', 'deny', undefined, { key, reason: pre }, pre === 'over_limits' ? 429 : 400);
      if (pre === 'unknown_kind')
        throw invalidArgument(`no egress kind ${kind}: outbox keys are {kind}/{name}, e.g. predictions/run-1.csv`);
      if (pre === 'over_limits')
        throw new S3Error(403, 'EgressBudgetExhausted', 'Over the daily limits for this kind: nothing can leave today.');
      throw new S3Error(403, 'AccessDenied', `No policy lets this job's team send ${kind} artifacts out.`);
    }
    const now = this.clock.now();
    const expiresAt = new Date(Math.min(now.getTime() + this.limits.ttlSeconds * 1000, caller.expiresAt.getTime()));
    const uploadId = randomBytes(24).toString('base64url');
    const made = await this.repo.create(
      { id: uploadId, jobId: caller.jobId, team: caller.team, kind, objectKey: key, createdAt: now, expiresAt },
      this.limits.openPerJob,
    );
    if (!made) {
      await this.leaf(caller, meta, 'upload.create', 'deny', undefined, { key, reason: 'too_many_open_uploads' }, 503);
      throw new S3Error(
        503,
        'SlowDown',
        `A job may have ${this.limits.openPerJob} multipart uploads open at once: complete or abort one first.`,
        {},
        { 'retry-after': '5' },
      );
    }
    await this.leaf(caller, meta, 'upload.create', 'allow', uploadId, { key, kind, expiresAt: expiresAt.toISOString() }, 200);
    return { uploadId };
  }

  async uploadPart(
    caller: S3Caller,
    key: string,
    uploadId: string,
    partNumber: number,
    raw: IncomingMessage,
    headers: HeaderList,
    meta: RequestMeta,
  ): Promise<{ etag: string }> {
    const refuse = async (status: number, reason: string, err: S3Error) => {
      await this.leaf(caller, meta, 'upload.part', 'deny', uploadId, { part: partNumber, reason }, status);
      return err;
    };
    const u = await this.repo.get(uploadId);
    if (!owned(u, caller, key) || u.state !== 'open' || u.expiresAt <= this.clock.now())
      throw await refuse(404, 'no_such_upload', noSuchUpload());
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > this.limits.maxParts)
      throw await refuse(
        400,
        'part_number',
        invalidArgument(`Part number must be an integer between 1 and ${this.limits.maxParts}, inclusive`),
      );
    if (headerValues(headers, 'x-amz-copy-source').length > 0)
      throw await refuse(501, 'copy', new S3Error(501, 'NotImplemented', 'UploadPartCopy is not offered by this gateway'));
    const declared = declaredLength(caller, headers);
    if (declared === undefined)
      throw await refuse(411, 'no_length', new S3Error(411, 'MissingContentLength', 'You must provide the Content-Length HTTP header.'));
    const release = this.inFlight.acquire(caller.jobId);
    if (release === undefined)
      throw await refuse(
        503,
        'too_many_at_once',
        new S3Error(503, 'SlowDown', 'Too many parts of this job are being uploaded at once; retry.', {}, { 'retry-after': '1' }),
      );
    try {
      // The part's bytes are reserved against the kind's cap before its body is read.
      const cap = this.policy.egress.kinds.get(u.kind)?.maxBytes ?? 0;
      const token = randomUUID();
      const room = await this.repo.reserve(uploadId, partNumber, declared, { cap, maxParts: this.limits.maxParts }, token);
      if (room === 'gone') throw await refuse(404, 'no_such_upload', noSuchUpload());
      if (room === 'too_large')
        throw await refuse(
          413,
          'too_large',
          new S3Error(413, 'EntityTooLarge', `The upload's parts would be larger than the ${u.kind} kind allows (${cap} bytes).`),
        );
      if (room === 'too_many_parts')
        throw await refuse(400, 'too_many_parts', invalidArgument(`An upload may have at most ${this.limits.maxParts} parts.`));
      try {
        return await this.storePart(caller, u, partNumber, raw, headers, declared, token, meta);
      } catch (err) {
        await this.repo.unreserve(token).catch(() => undefined);
        throw err;
      }
    } finally {
      release();
    }
  }

  private async storePart(
    caller: S3Caller,
    u: MultipartUpload,
    partNumber: number,
    raw: IncomingMessage,
    headers: HeaderList,
    declared: number,
    token: string,
    meta: RequestMeta,
  ): Promise<{ etag: string }> {
    const payload = verifiedPayload(raw, caller.auth, headers);
    const counter = new Counter(declared);
    const storedKey = `${u.id}/${partNumber}/${randomUUID()}`;
    let bodyError: Error | undefined;
    payload.body.once('error', (e) => (bodyError ??= e));
    counter.once('error', (e) => (bodyError ??= e));
    const md5 = createHash('md5');
    const hashed = new Transform({
      transform(chunk: Buffer, _enc, done) {
        md5.update(chunk);
        done(null, chunk);
      },
    });
    const sent = pipeline(payload.body, counter, hashed, (err) => {
      if (err) bodyError ??= err;
    });
    try {
      await this.store.put(UPLOADS_BUCKET, storedKey, sent, 'application/octet-stream', declared);
      // The whole chain, not only what the store took: the last chunk, its trailer and digests.
      await finished(sent);
      if (bodyError === undefined && counter.bytes !== declared)
        bodyError = new S3Error(
          400,
          'IncompleteBody',
          'You did not provide the number of bytes specified by the Content-Length HTTP header.',
        );
    } catch (err) {
      bodyError ??= err instanceof Error ? err : new Error(String(err));
    }
    if (bodyError !== undefined) {
      await this.store.delete(UPLOADS_BUCKET, storedKey).catch(() => undefined);
      const status = bodyError instanceof S3Error ? bodyError.status : bodyError instanceof AnsweredError ? bodyError.answer().status : 400;
      const reason =
        'code' in bodyError && typeof bodyError.code === 'string' ? bodyError.code : status >= 500 ? 'unavailable' : 'bad_body';
      await this.leaf(caller, meta, 'upload.part', 'deny', u.id, { part: partNumber, reason, bytes: counter.bytes }, status);
      throw bodyError;
    }
    const etag = md5.digest('hex');
    const recorded = await this.repo.putPart(
      u.id,
      { partNumber, storedKey, size: declared, etag, payload: payload.auth, storedAt: this.clock.now() },
      token,
    );
    if (recorded === undefined) {
      // Completed, aborted or expired while the part was on its way: its bytes go.
      await this.store.delete(UPLOADS_BUCKET, storedKey).catch(() => undefined);
      await this.leaf(caller, meta, 'upload.part', 'deny', u.id, { part: partNumber, reason: 'no_such_upload' }, 404);
      throw noSuchUpload();
    }
    if (recorded.replaced !== null) await this.store.delete(UPLOADS_BUCKET, recorded.replaced).catch(() => undefined);
    await this.leaf(caller, meta, 'upload.part', 'allow', u.id, { part: partNumber, md5: etag, payload: payload.auth }, 200, declared);
    return { etag };
  }

  async listParts(
    caller: S3Caller,
    key: string,
    uploadId: string,
    marker: number,
    max: number,
    meta: RequestMeta,
  ): Promise<{ upload: MultipartUpload; parts: StoredPart[]; truncated: boolean }> {
    const u = await this.repo.get(uploadId);
    if (!owned(u, caller, key) || (u.state !== 'open' && u.state !== 'completing')) {
      await this.leaf(caller, meta, 'upload.list', 'deny', uploadId, { reason: 'no_such_upload' }, 404);
      throw noSuchUpload();
    }
    const after = (await this.repo.parts(uploadId)).filter((p) => p.partNumber > marker);
    await this.leaf(caller, meta, 'upload.list', 'allow', uploadId, { parts: Math.min(after.length, max) }, 200);
    return { upload: u, parts: after.slice(0, max), truncated: after.length > max };
  }

  async listUploads(caller: S3Caller, meta: RequestMeta): Promise<MultipartUpload[]> {
    const open = (await this.repo.openOf(caller.jobId)).filter((u) => u.state === 'open');
    await this.leaf(caller, meta, 'upload.list', 'allow', undefined, { uploads: open.length }, 200);
    return open;
  }

  /**
   * Runs the listed parts, in order, through the egress pipeline as one artifact. The parts are
   * fixed first (the upload leaves `open`, so no part can change under the read). A refusal by
   * the pipeline ends the upload (the attempt was charged; its parts go); a dependency failure
   * leaves it open to be completed again.
   */
  async complete(caller: S3Caller, key: string, uploadId: string, raw: IncomingMessage, meta: RequestMeta): Promise<CompletedUpload> {
    const gone = async () => {
      await this.leaf(caller, meta, 'upload.complete', 'deny', uploadId, { reason: 'no_such_upload' }, 404);
      return noSuchUpload();
    };
    // The upload is the job's and open before its document is read.
    const u = await this.repo.get(uploadId);
    if (!owned(u, caller, key) || u.state !== 'open' || u.expiresAt <= this.clock.now()) throw await gone();
    const listed = parseCompleteDocument(await readSmallDocument(raw, MAX_COMPLETE_BODY), this.limits.maxParts);
    if ((await this.repo.transition(uploadId, ['open'], 'completing', this.clock.now())) === undefined) throw await gone();
    const stored = new Map((await this.repo.parts(uploadId)).map((p) => [p.partNumber, p]));
    const chosen: StoredPart[] = [];
    let bad: S3Error | undefined;
    listed.forEach((l, i) => {
      const p = stored.get(l.partNumber);
      if (bad !== undefined) return;
      if (p === undefined || p.etag !== l.etag)
        bad = new S3Error(
          400,
          'InvalidPart',
          'One or more of the specified parts could not be found, or its ETag did not match the part uploaded.',
        );
      else if (i < listed.length - 1 && p.size < MIN_PART_BYTES)
        bad = new S3Error(
          400,
          'EntityTooSmall',
          'Your proposed upload is smaller than the minimum allowed object size: every part but the last must be at least 5 MiB.',
        );
      else chosen.push(p);
    });
    if (bad !== undefined) {
      await this.repo.transition(uploadId, ['completing'], 'open', this.clock.now());
      await this.leaf(caller, meta, 'upload.complete', 'deny', uploadId, { reason: bad.code }, bad.status);
      throw bad;
    }
    const total = chosen.reduce((n, p) => n + p.size, 0);
    let receipt: Receipt;
    try {
      receipt = await this.egress.submit(caller, u.kind, Readable.from(this.partBytes(chosen)), meta, weakest(chosen), total);
    } catch (err) {
      if (err instanceof EgressRefusal && err.artifactId !== null) {
        // A refusal with its row: the attempt was counted and charged, so the upload is over.
        await this.end(u, 'completing', 'completed');
        await this.leaf(
          caller,
          meta,
          'upload.complete',
          'deny',
          uploadId,
          { reason: 'egress_refused', parts: chosen.length },
          err.status,
          total,
        );
      } else {
        // Nothing was charged (over the limits, too many at once, a dependency): it may be completed again.
        await this.repo.transition(uploadId, ['completing'], 'open', this.clock.now()).catch(() => undefined);
        const status = err instanceof AnsweredError ? err.answer().status : 500;
        await this.leaf(caller, meta, 'upload.complete', 'deny', uploadId, { reason: 'not_completed', parts: chosen.length }, status).catch(
          () => undefined,
        );
      }
      throw err;
    }
    await this.end(u, 'completing', 'completed');
    await this.leaf(
      caller,
      meta,
      'upload.complete',
      'allow',
      uploadId,
      { parts: chosen.length, receipt: receipt.id, status: receipt.status },
      200,
      total,
    );
    const md5s = Buffer.concat(chosen.map((p) => Buffer.from(p.etag, 'hex')));
    return { receipt, etag: `${createHash('md5').update(md5s).digest('hex')}-${chosen.length}`, bytes: total };
  }

  async abort(caller: S3Caller, key: string, uploadId: string, meta: RequestMeta): Promise<void> {
    const u = await this.repo.get(uploadId);
    if (!owned(u, caller, key) || (await this.end(u, 'open', 'aborted')) === undefined) {
      await this.leaf(caller, meta, 'upload.abort', 'deny', uploadId, { reason: 'no_such_upload' }, 404);
      throw noSuchUpload();
    }
    await this.leaf(caller, meta, 'upload.abort', 'allow', uploadId, {}, 204);
  }

  /**
   * Ends every upload past its expiry (one replica wins each: the state change is conditional on
   * the state seen). A Complete still running is left its grace (COMPLETING_GRACE_MS).
   */
  async sweep(): Promise<number> {
    let ended = 0;
    for (const u of await this.repo.expiredBefore(this.clock.now(), COMPLETING_GRACE_MS, 100)) {
      const was = await this.repo.transition(u.id, [u.state], 'expired', this.clock.now());
      if (was === undefined) continue;
      await this.removeParts(u.id);
      await this.audit.record(
        { requestId: `multipart-expiry-${u.id}`, listener: 'internal' },
        {
          principal: 'gateway',
          team: u.team,
          action: 'upload.expire',
          decision: 'info',
          resource: { type: 'upload', id: u.id },
          detail: { job: u.jobId, key: u.objectKey, expiresAt: u.expiresAt.toISOString(), was: u.state },
        },
      );
      ended += 1;
    }
    return ended;
  }

  private async *partBytes(parts: StoredPart[]): AsyncGenerator<Buffer> {
    for (const p of parts) {
      const o = await this.store.get(UPLOADS_BUCKET, p.storedKey);
      for await (const chunk of o.body) yield chunk as Buffer;
    }
  }

  private async end(u: MultipartUpload, from: 'open' | 'completing', to: 'completed' | 'aborted'): Promise<MultipartUpload | undefined> {
    const was = await this.repo.transition(u.id, [from], to, this.clock.now());
    if (was !== undefined) await this.removeParts(u.id);
    return was;
  }

  /** The parts' bytes (and any a crash left under the upload), then their rows. */
  private async removeParts(uploadId: string): Promise<void> {
    for (const p of await this.repo.parts(uploadId)) await this.store.delete(UPLOADS_BUCKET, p.storedKey).catch(() => undefined);
    let after: string | undefined;
    for (;;) {
      const page = await this.store.list(UPLOADS_BUCKET, `${uploadId}/`, after, 1000).catch(() => ({ objects: [], truncated: false }));
      for (const o of page.objects) await this.store.delete(UPLOADS_BUCKET, o.key).catch(() => undefined);
      if (!page.truncated || page.objects.length === 0) break;
      after = page.objects[page.objects.length - 1].key;
    }
    await this.repo.dropParts(uploadId);
  }

  private async leaf(
    caller: S3Caller,
    meta: RequestMeta,
    action: string,
    decision: 'allow' | 'deny',
    uploadId: string | undefined,
    detail: Record<string, string | number>,
    status: number,
    bytes = 0,
  ): Promise<void> {
    await this.audit.record(meta, {
      principal: `job:${caller.jobId}`,
      team: caller.team,
      action,
      decision,
      status,
      bytes,
      resource: uploadId === undefined ? { type: 'upload' } : { type: 'upload', id: uploadId },
      detail,
    });
  }
}

function kindOf(key: string): string {
  const slash = key.indexOf('/');
  return slash < 0 ? '' : key.slice(0, slash);
}

function owned(u: MultipartUpload | undefined, caller: S3Caller, key: string): u is MultipartUpload {
  return u !== undefined && u.jobId === caller.jobId && u.objectKey === key;
}

/** The part's length: the decoded length of an aws-chunked body, else Content-Length. */
function declaredLength(caller: S3Caller, headers: HeaderList): number | undefined {
  if (caller.auth.version === 4 && caller.auth.payload.kind === 'streaming') return caller.auth.payload.decodedContentLength;
  const v = headerValues(headers, 'content-length');
  return v.length === 1 && /^\d{1,15}$/.test(v[0]) ? Number(v[0]) : undefined;
}

/** How the assembled bytes are authenticated: as the least covered part. */
function weakest(parts: StoredPart[]): PayloadAuth {
  const order: PayloadAuth[] = ['unsigned', 'aws-chunked', 'sha256'];
  for (const a of order) if (parts.some((p) => p.payload === a)) return a;
  return 'sha256';
}

/**
 * The parts a CompleteMultipartUpload document lists: part numbers strictly ascending, ETags as
 * hex MD5, at most `maxParts`. A linear scan (indexOf), never a backtracking pattern over the
 * whole body: a job controls this document.
 */
export function parseCompleteDocument(xml: string, maxParts: number): { partNumber: number; etag: string }[] {
  const malformed = () =>
    new S3Error(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
  const open = xml.indexOf('<CompleteMultipartUpload');
  const close = xml.lastIndexOf('</CompleteMultipartUpload>');
  if (open < 0 || close < open || !/^\s*(<\?xml[^>]{0,200}\?>\s*)?$/.test(xml.slice(0, open)) || xml.slice(close + 26).trim() !== '')
    throw malformed();
  const parts: { partNumber: number; etag: string }[] = [];
  let at = open;
  for (;;) {
    const start = xml.indexOf('<Part>', at);
    if (start < 0 || start > close) break;
    const end = xml.indexOf('</Part>', start);
    if (end < 0 || end > close) throw malformed();
    if (parts.length >= maxParts) throw invalidArgument(`A multipart upload has at most ${maxParts} parts.`);
    const body = xml.slice(start + 6, end);
    if (body.length > 1024) throw malformed();
    const number = /<PartNumber>\s*(\d{1,5})\s*<\/PartNumber>/.exec(body);
    const etag = /<ETag>\s*(?:&quot;|")?([0-9a-fA-F]{32})(?:&quot;|")?\s*<\/ETag>/.exec(body);
    if (number === null || etag === null) throw malformed();
    parts.push({ partNumber: Number(number[1]), etag: etag[1].toLowerCase() });
    at = end + 7;
  }
  if (parts.length === 0) throw malformed();
  for (let i = 1; i < parts.length; i++)
    if (parts[i].partNumber <= parts[i - 1].partNumber)
      throw new S3Error(
        400,
        'InvalidPartOrder',
        'The list of parts was not in ascending order. The parts list must be specified in order by part number.',
      );
  return parts;
}
