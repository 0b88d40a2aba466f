/**
 * `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` bodies (aws-chunked), decoded and verified.
 *
 * Each chunk is `hex-size;chunk-signature=<sig>\r\n<data>\r\n`, ending with a zero-size chunk.
 * A chunk's signature is HMAC(signingKey, "AWS4-HMAC-SHA256-PAYLOAD\n" date "\n" scope "\n"
 * previous-signature "\n" SHA256("") "\n" SHA256(data)), the first chained on the request's
 * seed signature: a chunk that is altered, dropped, repeated or moved breaks the chain.
 *
 * A chunk's bytes are passed on only after its signature has been checked, and the stream fails
 * (no more data, an error) on the first defect, so whoever reads it sees only signed bytes and
 * never a complete body that was not signed whole.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { EMPTY_SHA256 } from './canonical-request';

/** Larger chunks than this are refused (clients send 8 KiB–1 MiB; a chunk is held until checked). */
export const MAX_CHUNK_BYTES = 16 * 1024 * 1024;
const MAX_HEADER_LINE = 256;
const CHUNK_HEADER_RE = /^([0-9a-fA-F]{1,8});chunk-signature=([0-9a-f]{64})$/;

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
  decodedContentLength: number;
}

/** The signature a chunk must carry, given the previous one in the chain. */
export function chunkSignature(key: Buffer, amzDate: string, scope: string, previous: string, data: Uint8Array): string {
  const toSign = ['AWS4-HMAC-SHA256-PAYLOAD', amzDate, scope, previous, EMPTY_SHA256, createHash('sha256').update(data).digest('hex')].join(
    '\n',
  );
  return createHmac('sha256', key).update(toSign, 'utf8').digest('hex');
}

type State = 'header' | 'data' | 'data-crlf' | 'done';

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

  constructor(private readonly chain: ChunkChain) {
    super();
    this.previous = chain.seedSignature;
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
      done(new ChunkedPayloadError('IncompleteBody', 'the aws-chunked body ended before its final zero-length chunk'));
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
          const m = CHUNK_HEADER_RE.exec(this.pending.subarray(0, eol).toString('latin1'));
          if (m === null) throw new ChunkedPayloadError('InvalidRequest', 'aws-chunked chunk header is malformed');
          this.size = parseInt(m[1], 16);
          this.signature = m[2];
          if (this.size > MAX_CHUNK_BYTES)
            throw new ChunkedPayloadError('InvalidRequest', `aws-chunked chunks may be at most ${MAX_CHUNK_BYTES} bytes`);
          if (this.decoded + this.size > this.chain.decodedContentLength) {
            throw new ChunkedPayloadError('InvalidRequest', 'aws-chunked body is longer than x-amz-decoded-content-length');
          }
          this.pending = this.pending.subarray(eol + 2);
          this.chunk = [];
          this.chunkHave = 0;
          this.state = 'data';
          break;
        }
        case 'data': {
          const take = Math.min(this.size - this.chunkHave, this.pending.length);
          if (take > 0) {
            this.chunk.push(this.pending.subarray(0, take));
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
        case 'done':
          if (this.pending.length > 0) throw new ChunkedPayloadError('InvalidRequest', 'data after the final aws-chunked chunk');
          return;
      }
    }
  }

  private finishChunk(): void {
    const data = this.chunk.length === 1 ? this.chunk[0] : Buffer.concat(this.chunk);
    const expected = Buffer.from(chunkSignature(this.chain.signingKey, this.chain.amzDate, this.chain.scope, this.previous, data), 'hex');
    if (!timingSafeEqual(expected, Buffer.from(this.signature, 'hex'))) {
      throw new ChunkedPayloadError(
        'SignatureDoesNotMatch',
        'a chunk signature does not match: the body was altered, reordered or truncated',
      );
    }
    this.previous = this.signature;
    this.chunk = [];
    if (this.size === 0) {
      if (this.decoded !== this.chain.decodedContentLength) {
        throw new ChunkedPayloadError('IncompleteBody', 'aws-chunked body is shorter than x-amz-decoded-content-length');
      }
      this.state = 'done';
      return;
    }
    this.decoded += data.length;
    this.push(data);
    this.state = 'header';
  }
}
