/**
 * aws-chunked bodies, decoded and verified: `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` (signed chunks),
 * its `-TRAILER` form (signed chunks, then a signed trailing checksum) and
 * `STREAMING-UNSIGNED-PAYLOAD-TRAILER` (plain chunks, then a trailing checksum).
 *
 * A signed chunk is `hex-size;chunk-signature=<sig>\r\n<data>\r\n`, an unsigned one
 * `hex-size\r\n<data>\r\n`; the body ends with a zero-size chunk, then the trailing headers
 * (`name:value\r\n` each) and an empty line. A chunk's signature is HMAC(signingKey,
 * "AWS4-HMAC-SHA256-PAYLOAD\n" date "\n" scope "\n" previous-signature "\n" SHA256("") "\n"
 * SHA256(data)), the first chained on the request's seed signature: a chunk that is altered,
 * dropped, repeated or moved breaks the chain. The trailer's is HMAC(signingKey,
 * "AWS4-HMAC-SHA256-TRAILER\n" date "\n" scope "\n" final-chunk-signature "\n"
 * SHA256("name:value\n" of each trailing header)), sent as `x-amz-trailer-signature`.
 *
 * Only the trailing header the request declared (`x-amz-trailer`, which the request signature
 * covers) may come, exactly once; its value is checked by the caller against the bytes
 * (s3-payload.ts), after the end. A chunk's bytes are passed on only after its signature has been
 * checked, and the stream fails (no more data, an error) on the first defect, so whoever reads it
 * sees only signed bytes and never a complete body that was not signed whole.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { EMPTY_SHA256 } from './canonical-request';

/** Larger chunks than this are refused (clients send 8 KiB–1 MiB; a chunk is held until checked). */
export const MAX_CHUNK_BYTES = 16 * 1024 * 1024;
const MAX_HEADER_LINE = 256;
const SIGNED_CHUNK_RE = /^([0-9a-fA-F]{1,8});chunk-signature=([0-9a-f]{64})$/;
const UNSIGNED_CHUNK_RE = /^([0-9a-fA-F]{1,8})$/;
/** Trailing headers are a checksum and a signature: a few hundred bytes at most. */
const MAX_TRAILER_BYTES = 1024;
const TRAILER_SIGNATURE = 'x-amz-trailer-signature';

export class ChunkedPayloadError extends Error {
  constructor(
    /** S3 error code: SignatureDoesNotMatch for a broken chain, IncompleteBody or InvalidRequest for framing. */
    readonly code: 'SignatureDoesNotMatch' | 'IncompleteBody' | 'InvalidRequest',
    message: string,
  ) {
    super(message);
    this.name = 'ChunkedPayloadError';
  }
}

export interface ChunkChain {
  signingKey: Buffer;
  amzDate: string;
  scope: string;
  seedSignature: string;
}

export interface ChunkedBody {
  decodedContentLength: number;
  /** The signature chain of signed chunks; absent for STREAMING-UNSIGNED-PAYLOAD-TRAILER. */
  chain?: ChunkChain;
  /** The one trailing header the request declared (`x-amz-trailer`), lowercase, if any. */
  trailer?: string;
}

/** The signature the trailing headers must carry, given the final chunk's. */
export function trailerSignature(key: Buffer, amzDate: string, scope: string, previous: string, trailers: [string, string][]): string {
  const canonical = [...trailers]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([n, v]) => `${n}:${v}\n`)
    .join('');
  const toSign = ['AWS4-HMAC-SHA256-TRAILER', amzDate, scope, previous, createHash('sha256').update(canonical).digest('hex')].join('\n');
  return createHmac('sha256', key).update(toSign, 'utf8').digest('hex');
}

/** The signature a chunk must carry, given the previous one in the chain. */
export function chunkSignature(key: Buffer, amzDate: string, scope: string, previous: string, data: Uint8Array): string {
  const toSign = ['AWS4-HMAC-SHA256-PAYLOAD', amzDate, scope, previous, EMPTY_SHA256, createHash('sha256').update(data).digest('hex')].join(
    '\n',
  );
  return createHmac('sha256', key).update(toSign, 'utf8').digest('hex');
}

type State = 'header' | 'data' | 'data-crlf' | 'trailer' | 'done';

/** A Transform from an aws-chunked request body to the decoded, verified payload. */
export class AwsChunkedDecoder extends Transform {
  private state: State = 'header';
  private pending: Buffer = Buffer.alloc(0);
  private previous: string;
  private size = 0;
  private signature = '';
  private chunk: Buffer[] = [];
  private chunkHave = 0;
  private decoded = 0;
  private trailerBytes = 0;
  private readonly trailerLines: [string, string][] = [];

  constructor(private readonly body: ChunkedBody) {
    super();
    this.previous = body.chain?.seedSignature ?? '';
  }

  /** The trailing header's value as sent (base64 of a checksum); defined once the stream has ended. */
  trailerValue(): string | undefined {
    return this.trailerLines.find(([n]) => n === this.body.trailer)?.[1];
  }

  override _transform(data: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      this.pending = this.pending.length === 0 ? data : Buffer.concat([this.pending, data]);
      this.consume();
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    if (this.state !== 'done') {
      done(new ChunkedPayloadError('IncompleteBody', 'the aws-chunked body ended before its final zero-length chunk and trailer'));
      return;
    }
    done();
  }

  private consume(): void {
    for (;;) {
      switch (this.state) {
        case 'header': {
          const eol = this.pending.indexOf('\r\n');
          if (eol < 0) {
            if (this.pending.length > MAX_HEADER_LINE)
              throw new ChunkedPayloadError('InvalidRequest', 'aws-chunked chunk header is malformed');
            return;
          }
          const line = this.pending.subarray(0, eol).toString('latin1');
          const m = (this.body.chain === undefined ? UNSIGNED_CHUNK_RE : SIGNED_CHUNK_RE).exec(line);
          if (m === null) throw new ChunkedPayloadError('InvalidRequest', 'aws-chunked chunk header is malformed');
          this.size = parseInt(m[1], 16);
          this.signature = m[2] ?? '';
          if (this.size > MAX_CHUNK_BYTES)
            throw new ChunkedPayloadError('InvalidRequest', `aws-chunked chunks may be at most ${MAX_CHUNK_BYTES} bytes`);
          if (this.decoded + this.size > this.body.decodedContentLength) {
            throw new ChunkedPayloadError('InvalidRequest', 'aws-chunked body is longer than x-amz-decoded-content-length');
          }
          this.pending = this.pending.subarray(eol + 2);
          this.chunk = [];
          this.chunkHave = 0;
          if (this.size === 0) {
            // The last chunk: no data and no CRLF of its own; the trailer section follows.
            this.finishChunk();
            break;
          }
          this.state = 'data';
          break;
        }
        case 'data': {
          const take = Math.min(this.size - this.chunkHave, this.pending.length);
          if (take > 0) {
            const piece = this.pending.subarray(0, take);
            // An unsigned chunk has nothing to check before its bytes pass: they stream through
            // (a signed one is held until its signature is checked).
            if (this.body.chain === undefined) this.push(piece);
            else this.chunk.push(piece);
            this.chunkHave += take;
            this.pending = this.pending.subarray(take);
          }
          if (this.chunkHave < this.size) return;
          this.state = 'data-crlf';
          break;
        }
        case 'data-crlf': {
          if (this.pending.length < 2) return;
          if (this.pending[0] !== 0x0d || this.pending[1] !== 0x0a)
            throw new ChunkedPayloadError('InvalidRequest', 'aws-chunked chunk is not followed by CRLF');
          this.pending = this.pending.subarray(2);
          this.finishChunk();
          break;
        }
        case 'trailer': {
          const eol = this.pending.indexOf('\r\n');
          if (eol < 0) {
            if (this.trailerBytes + this.pending.length > MAX_TRAILER_BYTES)
              throw new ChunkedPayloadError('InvalidRequest', 'the aws-chunked trailer is too long');
            return;
          }
          this.trailerBytes += eol + 2;
          if (this.trailerBytes > MAX_TRAILER_BYTES) throw new ChunkedPayloadError('InvalidRequest', 'the aws-chunked trailer is too long');
          const line = this.pending.subarray(0, eol).toString('latin1');
          this.pending = this.pending.subarray(eol + 2);
          if (line === '') {
            this.finishTrailer();
            this.state = 'done';
            break;
          }
          const colon = line.indexOf(':');
          if (colon <= 0) throw new ChunkedPayloadError('InvalidRequest', 'an aws-chunked trailing header is malformed');
          this.trailerLines.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]);
          break;
        }
        case 'done':
          if (this.pending.length > 0) throw new ChunkedPayloadError('InvalidRequest', 'data after the end of the aws-chunked body');
          return;
      }
    }
  }

  private finishChunk(): void {
    const data = this.chunk.length === 1 ? this.chunk[0] : Buffer.concat(this.chunk);
    const chain = this.body.chain;
    if (chain !== undefined) {
      const expected = Buffer.from(chunkSignature(chain.signingKey, chain.amzDate, chain.scope, this.previous, data), 'hex');
      if (!timingSafeEqual(expected, Buffer.from(this.signature, 'hex'))) {
        throw new ChunkedPayloadError(
          'SignatureDoesNotMatch',
          'a chunk signature does not match: the body was altered, reordered or truncated',
        );
      }
      this.previous = this.signature;
    }
    this.chunk = [];
    if (this.size === 0) {
      if (this.decoded !== this.body.decodedContentLength) {
        throw new ChunkedPayloadError('IncompleteBody', 'aws-chunked body is shorter than x-amz-decoded-content-length');
      }
      this.state = 'trailer';
      return;
    }
    this.decoded += this.size;
    if (chain !== undefined) this.push(data);
    this.state = 'header';
  }

  /** Exactly the declared trailing header, and for signed chunks its signature, checked in the chain. */
  private finishTrailer(): void {
    const names = this.trailerLines.map(([n]) => n);
    const chain = this.body.chain;
    const want = this.body.trailer === undefined ? [] : [this.body.trailer];
    const signed = chain !== undefined && want.length > 0;
    const expected = signed ? [...want, TRAILER_SIGNATURE] : want;
    if (names.length !== expected.length || names.some((n, i) => n !== expected[i]))
      throw new ChunkedPayloadError(
        'InvalidRequest',
        want.length === 0
          ? 'trailing headers came that x-amz-trailer did not declare'
          : `the trailer must be exactly ${expected.join(' then ')}`,
      );
    if (!signed) return;
    const given = this.trailerLines[1][1];
    const sig = trailerSignature(chain.signingKey, chain.amzDate, chain.scope, this.previous, [this.trailerLines[0]]);
    if (!/^[0-9a-f]{64}$/.test(given) || !timingSafeEqual(Buffer.from(sig, 'hex'), Buffer.from(given, 'hex')))
      throw new ChunkedPayloadError('SignatureDoesNotMatch', 'the trailer signature does not match: the trailing checksum was altered');
  }
}
