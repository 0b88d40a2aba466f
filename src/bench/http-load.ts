import { Agent, request } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import { type Readable } from 'node:stream';
import { Pool } from 'undici';
import { NodeSha256, presignedGetPath } from '../storage/lean-get';
import { type ObjectStore } from '../storage/object-store.service';
import { nowNs } from './stats';

/**
 * The clients the benchmark compares: node:http with a keep-alive agent against the gateway (and
 * undici for its streams), the gateway's own ObjectStore (its lean undici GET path) straight
 * against the object store, and presigned GETs over node:http (the time-to-first-byte baseline).
 * All consume bodies fully, counting bytes without buffering them, and time the first body byte.
 */

export interface Fetched {
  status: number;
  bytes: number;
  /** Request start to first body byte (to the end, for an empty body). */
  ttfbNs: number;
  totalNs: number;
  etag: string | undefined;
}

/** Reads a body to its end, counting bytes; times (from t0) of its first chunk and its end. */
function drain(body: Readable, t0: number): Promise<{ bytes: number; firstNs: number; endNs: number }> {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    let firstNs = 0;
    body.on('data', (chunk: Buffer) => {
      if (firstNs === 0) firstNs = nowNs();
      bytes += chunk.length;
    });
    body.once('end', () => {
      const endNs = nowNs();
      resolve({ bytes, firstNs: (firstNs || endNs) - t0, endNs: endNs - t0 });
    });
    body.once('error', reject);
  });
}

/** The sandbox path of an object: /v1/datasets/{dataset}/objects/{key}, each segment encoded. */
function objectPath(dataset: string, key: string): string {
  return `/v1/datasets/${encodeURIComponent(dataset)}/objects/${key.split('/').map(encodeURIComponent).join('/')}`;
}

export class GatewayClient {
  readonly agent = new Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 256 });
  /** For streams: the same HTTP client (undici) the direct client reads the store with. */
  private pool: Pool | undefined;
  private readonly host: string;
  private readonly port: number;

  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {
    const u = new URL(baseUrl);
    this.host = u.hostname;
    this.port = Number(u.port);
  }

  /** Another client for the same gateway and token, with its own (empty) connection pool. */
  fresh(): GatewayClient {
    return new GatewayClient(this.baseUrl, this.token);
  }

  /** GET {base}/v1/datasets/{dataset}/objects/{key}, body counted and discarded. */
  get(dataset: string, key: string, range?: string): Promise<Fetched> {
    const path = objectPath(dataset, key);
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    if (range !== undefined) headers.range = range;
    const t0 = nowNs();
    return new Promise((resolve, reject) => {
      const req = request({ host: this.host, port: this.port, path, method: 'GET', headers, agent: this.agent }, (res) => {
        drain(res, t0).then(
          (d) => resolve({ status: res.statusCode ?? 0, bytes: d.bytes, ttfbNs: d.firstNs, totalNs: d.endNs, etag: res.headers.etag }),
          reject,
        );
      });
      req.once('error', reject);
      req.end();
    });
  }

  /**
   * The same GET over an undici pool: the HTTP client the direct client (the gateway's own store
   * path) uses, so a stream figure compares the gateway's path with the store's and not two
   * client libraries (node:http spends markedly more CPU per GiB reading a body: measured).
   */
  async stream(dataset: string, key: string): Promise<Fetched> {
    const path = objectPath(dataset, key);
    this.pool ??= new Pool(this.baseUrl, { connections: 256 });
    const t0 = nowNs();
    const res = await this.pool.request({ path, method: 'GET', headers: { authorization: `Bearer ${this.token}` } });
    const d = await drain(res.body, t0);
    const etag = res.headers.etag;
    return {
      status: res.statusCode,
      bytes: d.bytes,
      ttfbNs: d.firstNs,
      totalNs: d.endNs,
      etag: typeof etag === 'string' ? etag : undefined,
    };
  }

  /**
   * One request with an optional body, the response read whole (small JSON and text answers).
   * totalNs runs from before the request is written to the last response byte.
   */
  send(method: string, path: string, body?: Buffer, contentType = 'application/octet-stream'): Promise<Answer> {
    const headers: Record<string, string | number> = { authorization: `Bearer ${this.token}` };
    if (body !== undefined) {
      headers['content-type'] = contentType;
      headers['content-length'] = body.length;
    }
    const attempt = (retried: boolean): Promise<Answer> => {
      const t0 = nowNs();
      return new Promise((resolve, reject) => {
        let answered = false;
        const req = request({ host: this.host, port: this.port, path, method, headers, agent: this.agent }, (res) => {
          answered = true;
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.once('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), totalNs: nowNs() - t0 }));
          res.once('error', reject);
        });
        req.once('error', (err: NodeJS.ErrnoException) => {
          // A kept-alive socket the server closed as we reused it (the server's idle timeout):
          // nothing reached the server, so the request is sent once more on a new connection.
          if (!retried && !answered && req.reusedSocket && (err.code === 'ECONNRESET' || err.message === 'socket hang up'))
            resolve(attempt(true));
          else reject(err);
        });
        req.end(body);
      });
    };
    return attempt(false);
  }

  close(): void {
    this.agent.destroy();
    void this.pool?.destroy();
  }
}

/** A response read whole. */
export interface Answer {
  status: number;
  body: Buffer;
  totalNs: number;
}

export class DirectClient {
  constructor(private readonly store: ObjectStore) {}

  async get(bucket: string, key: string): Promise<Fetched> {
    const t0 = nowNs();
    const o = await this.store.get(bucket, key);
    const d = await drain(o.body, t0);
    return { status: 200, bytes: d.bytes, ttfbNs: d.firstNs, totalNs: d.endNs, etag: o.etag };
  }
}

/**
 * The leanest direct client, the TTFB baseline: a GET of a URL presigned once (SigV4 query
 * signature by the SDK's own signer, valid an hour) over a node:http keep-alive agent, so no
 * client-side work happens per request beyond the HTTP exchange itself.
 */
export class PresignedClient {
  readonly agent = new Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 256 });
  private readonly signer: SignatureV4;
  private readonly origin: URL;
  private readonly urls = new Map<string, string>();

  constructor(endpoint: string, credentials: { accessKeyId: string; secretAccessKey: string }, region = 'us-east-1') {
    this.origin = new URL(endpoint);
    this.signer = new SignatureV4({ service: 's3', region, credentials, sha256: NodeSha256, uriEscapePath: false });
  }

  /** Presigns the object's URL (once; not timed). */
  async prepare(bucket: string, key: string): Promise<void> {
    const path = `/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
    this.urls.set(`${bucket}/${key}`, await presignedGetPath(this.signer, this.origin, path, 3600));
  }

  get(bucket: string, key: string): Promise<Fetched> {
    const path = this.urls.get(`${bucket}/${key}`);
    if (path === undefined) return Promise.reject(new Error(`${bucket}/${key} was not prepared`));
    const t0 = nowNs();
    return new Promise((resolve, reject) => {
      const req = request({ host: this.origin.hostname, port: Number(this.origin.port), path, method: 'GET', agent: this.agent }, (res) => {
        drain(res, t0).then(
          (d) => resolve({ status: res.statusCode ?? 0, bytes: d.bytes, ttfbNs: d.firstNs, totalNs: d.endNs, etag: res.headers.etag }),
          reject,
        );
      });
      req.once('error', reject);
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

export interface LoadResult {
  ok: number;
  errors: number;
  firstError: string | undefined;
  elapsedNs: number;
}

/**
 * Closed loop: `concurrency` workers each issue one request after another until `durationMs`
 * is over. A request counts as ok when `check` accepts its result.
 */
export async function closedLoop(
  concurrency: number,
  durationMs: number,
  fn: () => Promise<Fetched>,
  check: (f: Fetched) => boolean,
): Promise<LoadResult> {
  const t0 = nowNs();
  const deadline = t0 + durationMs * 1e6;
  const r: LoadResult = { ok: 0, errors: 0, firstError: undefined, elapsedNs: 0 };
  const worker = async () => {
    while (nowNs() < deadline) {
      try {
        const f = await fn();
        if (check(f)) r.ok += 1;
        else {
          r.errors += 1;
          r.firstError ??= `status ${f.status}, ${f.bytes} bytes`;
        }
      } catch (err) {
        r.errors += 1;
        r.firstError ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  r.elapsedNs = nowNs() - t0;
  return r;
}

/** `count` fetches at once; returns the wall time and the results. */
export async function concurrently(count: number, fn: () => Promise<Fetched>): Promise<{ elapsedNs: number; results: Fetched[] }> {
  const t0 = nowNs();
  const results = await Promise.all(Array.from({ length: count }, fn));
  return { elapsedNs: nowNs() - t0, results };
}
