import { type Readable } from 'node:stream';
import { Agent as HttpAgent } from 'node:http';
import { connect, type Socket } from 'node:net';
import { Agent as HttpsAgent } from 'node:https';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { type CageMetrics, type StoreOperation } from '../metrics/metrics.registry';
import { DependencyUnavailableError } from '../ops/http-answer';
import { LeanGet, type LeanGetAnswer } from './lean-get';

export interface ObjectStoreOptions {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle: boolean;
  timeoutMs: number;
  /** A store on a Unix socket (the embedded one): every connection goes there, whatever the endpoint's host. */
  socketPath?: string;
}

export interface ObjectMeta {
  size: number;
  etag: string;
  lastModified: Date | undefined;
  contentType: string | undefined;
}

export interface ObjectBody extends ObjectMeta {
  body: Readable;
  /** Bytes in this response (the range length for a ranged read). */
  contentLength: number;
  /** Inclusive byte range served, when the read was ranged. */
  range: { start: number; end: number } | undefined;
}

export interface ListedObject {
  key: string;
  size: number;
  etag: string;
  lastModified: Date | undefined;
}

/** The slowest upload rate a store call allows for before it times out (see put()). */
const PUT_BYTES_PER_SECOND = 1024 * 1024;

/** The backend said the object is not there (or the bucket is not). */
export class ObjectNotFoundError extends Error {}
/** The backend refused the range as unsatisfiable for an object of `size` bytes. */
export class RangeNotSatisfiableError extends Error {
  constructor(readonly size: number) {
    super('range not satisfiable');
  }
}
/** The object store failed or timed out: the caller fails closed with 503. */
export class ObjectStoreUnavailableError extends DependencyUnavailableError {}

/**
 * Every byte to or from the object store passes here, through @aws-sdk/client-s3. Applies
 * connect and idle timeouts, keeps connections alive for throughput, and never logs
 * credentials or object contents: errors carry the S3 error name only.
 */
export class ObjectStore {
  readonly client: S3Client;
  /** The hot GET path (path-style stores); undefined: GETs go through the SDK too. */
  private readonly lean: LeanGet | undefined;

  constructor(
    private readonly options: ObjectStoreOptions,
    /** Counts failed calls (`cage_store_errors_total`); "no such key" is an answer, not a failure. */
    private readonly metrics?: CageMetrics,
  ) {
    const agentOptions = { keepAlive: true, maxSockets: 512 };
    const httpAgent =
      options.socketPath === undefined ? new HttpAgent(agentOptions) : new UnixSocketAgent(options.socketPath, agentOptions);
    this.client = new S3Client({
      endpoint: options.endpoint,
      region: options.region,
      forcePathStyle: options.forcePathStyle,
      credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
      // Checksums on GET would make the SDK read ahead and validate whole objects; ranges and
      // streaming need bytes as they come.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 2,
      cacheMiddleware: true,
      // The store must answer (status and headers) within the timeout, or the call fails and the
      // gateway fails closed: a hung store is a 503, not a request held forever. A body that
      // stops mid-way is the reader's to time out (OpenDownloads), since only it can tell a
      // stalled store from a slow client holding the stream back.
      requestHandler: new NodeHttpHandler({
        connectionTimeout: options.timeoutMs,
        requestTimeout: options.timeoutMs,
        throwOnRequestTimeout: true,
        httpAgent,
        httpsAgent: new HttpsAgent(agentOptions),
      }),
    });
    // Virtual-hosted stores (a bucket in the host name) keep the SDK, which resolves them.
    this.lean = options.forcePathStyle ? new LeanGet(options) : undefined;
  }

  get endpoint(): string {
    return this.options.endpoint;
  }

  /**
   * Opens a read of one object; `range` is inclusive and already resolved against the size
   * (suffix ranges are resolved by the caller through head()). The body streams; nothing is
   * buffered here.
   */
  async get(bucket: string, key: string, range?: { start: number; end?: number }, signal?: AbortSignal): Promise<ObjectBody> {
    if (this.lean !== undefined) return this.leanGet(this.lean, bucket, key, range, signal);
    try {
      const command = new GetObjectCommand({
        Bucket: bucket,
        Key: key,
        Range: range === undefined ? undefined : `bytes=${range.start}-${range.end ?? ''}`,
      });
      // The SDK reuses its resolved middleware stack only for a send without options: the hot
      // path (no abort signal) passes none (about 0.2 ms of CPU per read, measured).
      const out = await (signal === undefined ? this.client.send(command) : this.client.send(command, { abortSignal: signal }));
      const contentLength = Number(out.ContentLength ?? 0);
      const parsed = out.ContentRange === undefined ? undefined : parseContentRange(out.ContentRange);
      return {
        body: out.Body as Readable,
        contentLength,
        size: parsed?.size ?? contentLength,
        range: parsed === undefined ? undefined : { start: parsed.start, end: parsed.end },
        etag: out.ETag ?? '',
        lastModified: out.LastModified,
        contentType: out.ContentType,
      };
    } catch (err) {
      if (isStatus(err, 416) || errorName(err) === 'InvalidRange') {
        const meta = await this.head(bucket, key);
        throw new RangeNotSatisfiableError(meta.size);
      }
      throw this.failed('get', err);
    }
  }

  private async leanGet(
    lean: LeanGet,
    bucket: string,
    key: string,
    range: { start: number; end?: number } | undefined,
    signal: AbortSignal | undefined,
  ): Promise<ObjectBody> {
    let answer: LeanGetAnswer;
    try {
      answer = await lean.get(bucket, key, range === undefined ? undefined : `bytes=${range.start}-${range.end ?? ''}`, signal);
    } catch (err) {
      throw this.failed('get', err);
    }
    const { status, headers, body } = answer;
    if (status === 200 || status === 206) {
      const contentLength = Number(header(headers, 'content-length') ?? 0);
      const contentRange = header(headers, 'content-range');
      const parsed = contentRange === undefined ? undefined : parseContentRange(contentRange);
      const lastModified = header(headers, 'last-modified');
      return {
        body,
        contentLength,
        size: parsed?.size ?? contentLength,
        range: parsed === undefined ? undefined : { start: parsed.start, end: parsed.end },
        etag: header(headers, 'etag') ?? '',
        lastModified: lastModified === undefined ? undefined : new Date(lastModified),
        contentType: header(headers, 'content-type'),
      };
    }
    const code = await errorCodeOf(body);
    if (status === 416 || code === 'InvalidRange') {
      const meta = await this.head(bucket, key);
      throw new RangeNotSatisfiableError(meta.size);
    }
    if (status === 404) throw new ObjectNotFoundError(code ?? 'not found');
    this.metrics?.storeError('get');
    throw new ObjectStoreUnavailableError(`object store: ${code ?? `HTTP ${status}`}`);
  }

  async head(bucket: string, key: string): Promise<ObjectMeta> {
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return {
        size: Number(out.ContentLength ?? 0),
        etag: out.ETag ?? '',
        lastModified: out.LastModified,
        contentType: out.ContentType,
      };
    } catch (err) {
      throw this.failed('head', err);
    }
  }

  /**
   * One page of a listing, in key order, starting strictly after `startAfter`. ListObjects (v1)
   * with a marker: every S3 server implements it alike, and the embedded s3rver cannot issue v2
   * continuation tokens on OpenSSL 3 (it encrypts them with DES).
   */
  async list(
    bucket: string,
    prefix: string,
    startAfter: string | undefined,
    maxKeys: number,
  ): Promise<{ objects: ListedObject[]; truncated: boolean }> {
    try {
      const out = await this.client.send(new ListObjectsCommand({ Bucket: bucket, Prefix: prefix, Marker: startAfter, MaxKeys: maxKeys }));
      const objects = (out.Contents ?? []).map((o) => ({
        key: o.Key ?? '',
        size: Number(o.Size ?? 0),
        etag: o.ETag ?? '',
        lastModified: o.LastModified,
      }));
      return { objects, truncated: out.IsTruncated === true };
    } catch (err) {
      throw this.failed('list', err);
    }
  }

  async put(
    bucket: string,
    key: string,
    body: Buffer | string | Readable,
    contentType = 'application/octet-stream',
    contentLength?: number,
  ): Promise<{ etag: string }> {
    // The upload's time to the store's answer includes sending the body: the timeout, plus a
    // second for every MiB, i.e. 8 Mbit/s at the slowest (a stream of unknown length: ten minutes).
    const size = contentLength ?? (typeof body === 'string' ? Buffer.byteLength(body) : Buffer.isBuffer(body) ? body.length : undefined);
    const requestTimeout = size === undefined ? 600_000 : this.options.timeoutMs + Math.ceil(size / PUT_BYTES_PER_SECOND) * 1000;
    try {
      const out = await this.client.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType, ContentLength: contentLength }),
        { requestTimeout },
      );
      return { etag: out.ETag ?? '' };
    } catch (err) {
      throw this.failed('put', err);
    }
  }

  /** A copy made by the store itself (the bytes never pass through the gateway: an object it cannot read can still be moved). */
  async copy(from: { bucket: string; key: string }, to: { bucket: string; key: string }): Promise<void> {
    try {
      await this.client.send(
        new CopyObjectCommand({ Bucket: to.bucket, Key: to.key, CopySource: `${from.bucket}/${encodeURIComponent(from.key)}` }),
      );
    } catch (err) {
      throw this.failed('copy', err);
    }
  }

  async delete(bucket: string, key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    } catch (err) {
      throw this.failed('delete', err);
    }
  }

  /** A whole small object in memory (artifacts, headers); never used for dataset objects. */
  async getBuffer(bucket: string, key: string, maxBytes: number): Promise<Buffer> {
    const o = await this.get(bucket, key);
    if (o.contentLength > maxBytes) {
      o.body.destroy();
      throw new ObjectStoreUnavailableError(`object larger than ${maxBytes} bytes`);
    }
    const chunks: Buffer[] = [];
    for await (const c of o.body) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  async bucketExists(bucket: string): Promise<boolean> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: bucket }));
      return true;
    } catch (err) {
      const status = err instanceof S3ServiceException ? err.$metadata?.httpStatusCode : undefined;
      if (status === 404 || status === 403 || errorName(err) === 'NotFound') return false;
      throw this.failed('bucket', err);
    }
  }

  async ensureBucket(bucket: string): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: bucket }));
      return;
    } catch (err) {
      if (!isStatus(err, 404) && !isStatus(err, 403) && errorName(err) !== 'NotFound') throw this.failed('bucket', err);
    }
    try {
      await this.client.send(new CreateBucketCommand({ Bucket: bucket }));
    } catch (err) {
      const name = errorName(err);
      if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw this.failed('bucket', err);
    }
  }

  /**
   * Readiness: does the store answer? Any S3 answer, even 403 or 404 for the probed bucket,
   * means it is reachable; a network error, timeout or 5xx means it is not.
   */
  async ping(bucket: string): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal: AbortSignal.timeout(2000) });
    } catch (err) {
      const status = err instanceof S3ServiceException ? err.$metadata?.httpStatusCode : undefined;
      if (status !== undefined && status < 500) return;
      this.metrics?.storeError('ping');
      throw new ObjectStoreUnavailableError(`object store: ${errorName(err) ?? 'error'}`);
    }
  }

  destroy(): void {
    this.client.destroy();
    void this.lean?.destroy().catch(() => undefined);
  }

  /** The error a caller sees; a failure (not a missing object) is counted by operation. */
  private failed(operation: StoreOperation, err: unknown): Error {
    const e = translate(err);
    if (e instanceof ObjectStoreUnavailableError) this.metrics?.storeError(operation);
    return e;
  }
}

function header(headers: LeanGetAnswer['headers'], name: string): string | undefined {
  return headers.get(name);
}

/** The S3 error code of an error answer (`<Code>…</Code>`), from at most its first 4 KiB; the rest is drained. */
async function errorCodeOf(body: Readable): Promise<string | undefined> {
  let text = '';
  try {
    for await (const chunk of body) {
      if (text.length < 4096) text += (chunk as Buffer).toString('utf8');
    }
  } catch {
    return undefined;
  }
  return /<Code>([A-Za-z0-9.]{1,64})<\/Code>/.exec(text)?.[1];
}

function parseContentRange(v: string): { start: number; end: number; size: number } | undefined {
  const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(v);
  return m === null ? undefined : { start: Number(m[1]), end: Number(m[2]), size: Number(m[3]) };
}

function errorName(err: unknown): string | undefined {
  return err instanceof Error ? err.name : undefined;
}

function isStatus(err: unknown, status: number): boolean {
  return err instanceof S3ServiceException && err.$metadata?.httpStatusCode === status;
}

function translate(err: unknown): Error {
  const name = errorName(err);
  if (name === 'NoSuchKey' || name === 'NotFound' || name === 'NoSuchBucket' || isStatus(err, 404)) {
    return new ObjectNotFoundError(name ?? 'not found');
  }
  return new ObjectStoreUnavailableError(`object store: ${name ?? 'error'}`, { cause: err });
}

/** An HTTP agent whose connections all go to one Unix socket (keep-alive pooling as usual). */
class UnixSocketAgent extends HttpAgent {
  constructor(
    private readonly socketPath: string,
    options: ConstructorParameters<typeof HttpAgent>[0],
  ) {
    super(options);
  }

  override createConnection(): Socket {
    return connect(this.socketPath);
  }
}
