import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { Readable } from 'node:stream';
import { SignatureV4 } from '@smithy/signature-v4';
import { type Dispatcher, Pool } from 'undici';
import { TtlCache } from '../clock/ttl-cache';

/** How long a presigned GET is valid, and how long one is reused (half that: never near its end). */
const PRESIGN_VALID_S = 3600;
const PRESIGN_REUSE_MS = (PRESIGN_VALID_S * 1000) / 2;

/** Statuses worth one more try (the SDK's standard retry treats them as transient). */
const TRANSIENT = new Set([500, 502, 503, 504]);

export interface LeanGetOptions {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  timeoutMs: number;
  socketPath?: string;
}

/** What the store answered to a GET: its status and headers (lower-case names), and the body as it streams. */
export interface LeanGetAnswer {
  status: number;
  headers: Map<string, string>;
  body: Readable;
}

/**
 * The hot read path to the store: a path-style GetObject presigned by the SDK's own SigV4 signer
 * (@smithy/signature-v4) and sent over an undici keep-alive pool, without the S3 client's
 * per-request middleware stack, endpoint rules and response parsing (36 % of the gateway's CPU on
 * small reads, measured). A key's presigned URL is made once and reused for half its hour of
 * validity (signing every GET was another 6 % of the CPU of a small read, measured); a Range
 * header rides unsigned beside it, as S3 allows for presigned requests. Every other store
 * call keeps the SDK. The body is a plain Readable that the connection pushes its chunks into:
 * nothing is copied or transformed, and backpressure reaches the store's socket.
 *
 * Timeouts match the SDK client's: the store must connect and answer with headers within
 * `timeoutMs`; a body that stalls is its reader's to time out. Like the client (two attempts), a
 * network error or a 5xx before the body is retried once.
 */
export class LeanGet {
  private readonly pool: Pool;
  private readonly signer: SignatureV4;
  private readonly origin: URL;
  /** Presigned path-and-query per object path, bounded like every cache in the gateway. */
  private readonly presigned = new TtlCache<string, string>(PRESIGN_REUSE_MS, 10_000);

  constructor(options: LeanGetOptions) {
    this.origin = new URL(options.endpoint);
    this.pool = new Pool(this.origin.origin, {
      connections: 512,
      headersTimeout: options.timeoutMs,
      bodyTimeout: 0,
      connect: { timeout: options.timeoutMs, ...(options.socketPath === undefined ? {} : { socketPath: options.socketPath }) },
    });
    this.signer = new SignatureV4({
      service: 's3',
      region: options.region,
      credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
      sha256: NodeSha256,
      // S3 signs the path as sent (keys are encoded once, here), and no payload checksum is sent.
      uriEscapePath: false,
      applyChecksum: false,
    });
  }

  async get(bucket: string, key: string, range: string | undefined, signal?: AbortSignal): Promise<LeanGetAnswer> {
    const target = await this.presign(`${this.origin.pathname.replace(/\/$/, '')}/${s3Encode(bucket)}/${s3Encode(key)}`);
    const headers: Record<string, string> = { host: this.origin.host };
    if (range !== undefined) headers.range = range;
    for (let attempt = 1; ; attempt++) {
      try {
        const answer = await send(this.pool, { method: 'GET', path: target, headers }, signal);
        if (attempt === 1 && TRANSIENT.has(answer.status)) {
          answer.body.destroy();
          continue;
        }
        return answer;
      } catch (err) {
        if (attempt === 1 && signal?.aborted !== true && isNetworkError(err)) continue;
        throw err;
      }
    }
  }

  /** The path of a GET of `path` presigned for an hour (made once per half hour). */
  private async presign(path: string): Promise<string> {
    const hit = this.presigned.get(path);
    if (hit !== undefined) return hit.value;
    const target = await presignedGetPath(this.signer, this.origin, path, PRESIGN_VALID_S);
    this.presigned.set(path, target);
    return target;
  }

  async destroy(): Promise<void> {
    await this.pool.destroy();
  }
}

/**
 * One request on the pool, its body a plain Readable fed by undici's handler: `push` returning
 * false pauses the connection until the reader asks for more, and `destroy()` (with or without
 * an error) aborts the request and releases the connection quietly, as an IncomingMessage does
 * (undici's own body stream turns a plain destroy into an error event, which callers of the store
 * read as a failed download).
 */
function send(pool: Pool, options: Dispatcher.DispatchOptions, signal: AbortSignal | undefined): Promise<LeanGetAnswer> {
  return new Promise<LeanGetAnswer>((resolve, reject) => {
    let abort: ((err?: Error) => void) | undefined;
    let resume: (() => void) | undefined;
    let body: StoreBody | undefined;
    let done = false;
    const onAbort = () => abort?.(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    const finish = () => {
      done = true;
      signal?.removeEventListener('abort', onAbort);
    };
    if (signal?.aborted === true) {
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    pool.dispatch(options, {
      onConnect(a) {
        abort = a;
      },
      onHeaders(statusCode, raw, r) {
        resume = r;
        const headers = new Map<string, string>();
        for (let i = 0; i + 1 < raw.length; i += 2) {
          const name = raw[i].toString('latin1').toLowerCase();
          if (!headers.has(name)) headers.set(name, raw[i + 1].toString('latin1'));
        }
        body = new StoreBody(
          () => resume?.(),
          () => {
            if (!done) {
              finish();
              abort?.(new Error('body released'));
            }
          },
        );
        resolve({ status: statusCode, headers, body });
        return true;
      },
      onData(chunk) {
        return body === undefined || body.destroyed ? true : body.push(chunk);
      },
      onComplete() {
        finish();
        body?.push(null);
      },
      onError(err) {
        const released = done;
        finish();
        if (body === undefined) reject(err);
        else if (!released && !body.destroyed) body.destroy(err);
      },
    });
  });
}

/** A store body: reading asks the connection for more; destroying it aborts the request. */
class StoreBody extends Readable {
  constructor(
    private readonly more: () => void,
    private readonly release: () => void,
  ) {
    super({ highWaterMark: 256 * 1024 });
  }

  override _read(): void {
    this.more();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.release();
    callback(err);
  }
}

/** A failure to reach the store or to get its answer (not an abort by the caller). */
function isNetworkError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && (code.startsWith('E') || code.startsWith('UND_ERR_')) && code !== 'UND_ERR_ABORTED';
}

/**
 * A key as S3 expects it in a path: RFC 3986 unreserved characters kept, `/` kept, everything
 * else percent-encoded (encodeURIComponent keeps `!'()*`, which SigV4 encodes).
 */
/**
 * `path` (already encoded) with the query of a GET presigned for `expiresIn` seconds on `origin`:
 * only the host is signed, so a Range header may ride beside it, and the payload is unsigned.
 */
export async function presignedGetPath(signer: SignatureV4, origin: URL, path: string, expiresIn: number): Promise<string> {
  const signed = await signer.presign(
    {
      method: 'GET',
      protocol: origin.protocol,
      hostname: origin.hostname,
      port: origin.port === '' ? undefined : Number(origin.port),
      path,
      query: {},
      headers: { host: origin.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    },
    { expiresIn },
  );
  const query = Object.entries(signed.query ?? {})
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
  return `${path}?${query}`;
}

export function s3Encode(key: string): string {
  return encodeURIComponent(key)
    .replace(/%2F/g, '/')
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

type SourceData = string | ArrayBuffer | ArrayBufferView;

function bytesOf(data: SourceData): string | Buffer {
  if (typeof data === 'string') return data;
  return ArrayBuffer.isView(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data);
}

/** The signer's hash, on node:crypto (the SDK's Node client does the same). */
export class NodeSha256 {
  private hash: Hash | Hmac;
  private readonly secret: string | Buffer | undefined;
  constructor(secret?: SourceData) {
    this.secret = secret === undefined ? undefined : bytesOf(secret);
    this.hash = this.fresh();
  }
  update(data: SourceData): void {
    this.hash.update(bytesOf(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
  reset(): void {
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', this.secret);
  }
}
