import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { type IssuedJob } from '../../src/jobs/job.service';
import { rawRequest, type RawResponse } from './http';

type SourceData = string | ArrayBuffer | ArrayBufferView;

/** node:crypto behind smithy's hash interface (smithy is used only as a client, to sign). */
export class NodeSha256 {
  private readonly h: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuf(secret));
  }
  update(data: SourceData): void {
    this.h.update(toBuf(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(this.h.digest());
  }
}
function toBuf(d: SourceData): Buffer {
  if (typeof d === 'string') return Buffer.from(d, 'utf8');
  if (ArrayBuffer.isView(d)) return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  return Buffer.from(d);
}

export interface SignedRequest {
  method: string;
  /** Raw path, already percent-encoded as a client sends it. */
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Signed as the payload hash instead of the body's SHA-256 (UNSIGNED-PAYLOAD, streaming). */
  payloadHash?: string;
  date: Date;
  region?: string;
  service?: string;
}

/**
 * A SigV4 client for tests that need requests no SDK would send (skewed, tampered, odd
 * headers): @smithy/signature-v4 signs, as it does inside the AWS SDK; the gateway's own
 * canonicalization is never used to make the requests it must judge.
 */
export class SigV4TestClient {
  constructor(
    private readonly baseUrl: string,
    private readonly job: Pick<IssuedJob, 'accessKeyId' | 'secretAccessKey'>,
  ) {}

  private signer(region = 'us-east-1', service = 's3') {
    return new SignatureV4({
      credentials: { accessKeyId: this.job.accessKeyId, secretAccessKey: this.job.secretAccessKey },
      region,
      service,
      sha256: NodeSha256,
      uriEscapePath: false,
      applyChecksum: true,
    });
  }

  private base(r: SignedRequest) {
    const u = new URL(this.baseUrl);
    const body = r.body === undefined ? undefined : Buffer.from(r.body);
    const headers: Record<string, string> = { host: u.host, ...(r.headers ?? {}) };
    if (body !== undefined) headers['content-length'] = String(body.length);
    headers['x-amz-content-sha256'] =
      r.payloadHash ??
      createHash('sha256')
        .update(body ?? Buffer.alloc(0))
        .digest('hex');
    return {
      method: r.method,
      protocol: 'http:',
      hostname: u.hostname,
      port: Number(u.port),
      path: r.path,
      query: r.query ?? {},
      headers,
      body,
    };
  }

  /** Signed headers for the request (Authorization, X-Amz-Date, …), nothing sent. */
  async sign(r: SignedRequest): Promise<{ target: string; headers: Record<string, string>; body?: Buffer }> {
    const req = this.base(r);
    const signed = await this.signer(r.region, r.service).sign(req, { signingDate: r.date });
    return { target: r.path + queryString(r.query ?? {}), headers: signed.headers, body: req.body };
  }

  async send(
    r: SignedRequest,
    tamper: (s: { target: string; headers: Record<string, string>; body?: Buffer }) => void = () => undefined,
  ): Promise<RawResponse> {
    const s = await this.sign(r);
    tamper(s);
    return rawRequest(this.baseUrl, r.method, s.target, s.headers, s.body);
  }

  /** A presigned URL's path and query (UNSIGNED-PAYLOAD, as SDKs presign). */
  async presign(r: Omit<SignedRequest, 'payloadHash' | 'body'> & { expiresIn: number }): Promise<string> {
    // smithy hoists x-amz-content-sha256 into the query, as the SDK's presigner does.
    const req = this.base({ ...r, payloadHash: 'UNSIGNED-PAYLOAD' });
    const signed = await this.signer(r.region, r.service).presign(req, { signingDate: r.date, expiresIn: r.expiresIn });
    return r.path + queryString(signed.query as Record<string, string>);
  }
}

function enc(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

export function queryString(q: Record<string, string>): string {
  const parts = Object.entries(q).map(([k, v]) => `${enc(k)}=${enc(v)}`);
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}

/** An aws-chunked body, each chunk signed by hand (RFC-style, from the AWS documentation) on the seed signature. */
export function awsChunked(
  parts: Buffer[],
  seed: string,
  key: { secret: string; date: string; region: string },
  amzDate: string,
): { chunks: Buffer[]; encode: (order?: number[]) => Buffer } {
  const hmac = (k: Buffer | string, d: string) => createHmac('sha256', k).update(d).digest();
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${key.secret}`, key.date), key.region), 's3'), 'aws4_request');
  const scope = `${key.date}/${key.region}/s3/aws4_request`;
  const empty = createHash('sha256').update('').digest('hex');
  let prev = seed;
  const chunks: Buffer[] = [];
  for (const data of [...parts, Buffer.alloc(0)]) {
    const toSign = ['AWS4-HMAC-SHA256-PAYLOAD', amzDate, scope, prev, empty, createHash('sha256').update(data).digest('hex')].join('\n');
    const sig = hmac(signingKey, toSign).toString('hex');
    chunks.push(Buffer.concat([Buffer.from(`${data.length.toString(16)};chunk-signature=${sig}\r\n`), data, Buffer.from('\r\n')]));
    prev = sig;
  }
  return { chunks, encode: (order = chunks.map((_, i) => i)) => Buffer.concat(order.map((i) => chunks[i])) };
}

/** Encoded length of an aws-chunked body for payload sizes, before signing (every signature is 64 hex). */
export function awsChunkedLength(sizes: number[]): number {
  return [...sizes, 0].reduce((n, s) => n + s.toString(16).length + ';chunk-signature='.length + 64 + 2 + s + 2, 0);
}

/**
 * An aws-chunked body ending in a trailing header (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`):
 * the signed chunks, the final empty one, then `name:value` and its `x-amz-trailer-signature`
 * (HMAC of "AWS4-HMAC-SHA256-TRAILER", date, scope, the final chunk's signature and the SHA-256 of
 * `name:value\n`, as the AWS SDKs sign it). `signedValue` signs another value than the one sent.
 */
export function awsChunkedWithTrailer(
  parts: Buffer[],
  seed: string,
  key: { secret: string; date: string; region: string },
  amzDate: string,
  trailer: { name: string; value: string; signedValue?: string },
): Buffer {
  const { chunks } = awsChunked(parts, seed, key, amzDate);
  const hmac = (k: Buffer | string, d: string) => createHmac('sha256', k).update(d).digest();
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${key.secret}`, key.date), key.region), 's3'), 'aws4_request');
  const scope = `${key.date}/${key.region}/s3/aws4_request`;
  const last = chunks[chunks.length - 1];
  const finalSignature = /chunk-signature=([0-9a-f]{64})/.exec(last.toString('latin1'))![1];
  const canonical = `${trailer.name}:${trailer.signedValue ?? trailer.value}\n`;
  const toSign = ['AWS4-HMAC-SHA256-TRAILER', amzDate, scope, finalSignature, createHash('sha256').update(canonical).digest('hex')].join(
    '\n',
  );
  const signature = hmac(signingKey, toSign).toString('hex');
  return Buffer.concat([
    ...chunks.slice(0, -1),
    last.subarray(0, last.length - 2),
    Buffer.from(`${trailer.name}:${trailer.value}\r\nx-amz-trailer-signature:${signature}\r\n\r\n`),
  ]);
}
