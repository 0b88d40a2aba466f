/**
 * A PutObject body as the egress pipeline reads it: only bytes the signature covers, and a
 * stream that fails instead of ending when they are not what was signed. The pipeline buffers
 * the whole artifact before it checks anything, so a failure at the very end (a whole-body hash
 * that does not match) still releases nothing.
 */
import { Crc32c, Crc64Nvme } from '@aws-sdk/checksums/crc';
import { createHash, type Hash, timingSafeEqual } from 'node:crypto';
import { type IncomingMessage } from 'node:http';
import { pipeline, type Readable, Transform, type TransformCallback } from 'node:stream';
import { crc32 } from 'node:zlib';
import { type PayloadAuth } from '../egress/egress.service';
import { S3Error, invalidArgument } from './s3-error';
import { type SigV2Success } from './sigv2/sigv2-verifier';
import { AwsChunkedDecoder } from './sigv4/aws-chunked';
import { headerValues, type HeaderList } from './sigv4/canonical-request';
import { type SigV4Success } from './sigv4/sigv4-verifier';

type Digest = 'md5' | 'sha1' | 'sha256' | 'crc32' | 'crc32c' | 'crc64nvme';

interface Expectation {
  digest: Digest;
  /** The expected digest's raw bytes, or where to read them once the body has ended (a trailer). */
  value: Buffer | (() => Buffer);
  /** S3's error when it does not match. */
  code: 'XAmzContentSHA256Mismatch' | 'BadDigest';
  message: string;
}

/** `x-amz-checksum-*` → its digest (CRC32C and CRC64NVME from the AWS SDK's own checksums package). */
const CHECKSUM_HEADERS: Record<string, Digest> = {
  'x-amz-checksum-crc32': 'crc32',
  'x-amz-checksum-crc32c': 'crc32c',
  'x-amz-checksum-crc64nvme': 'crc64nvme',
  'x-amz-checksum-sha1': 'sha1',
  'x-amz-checksum-sha256': 'sha256',
};

interface Hasher {
  update(b: Buffer): void;
  digest(): Buffer | Promise<Buffer>;
}

class Crc32 implements Hasher {
  private value = 0;
  update(b: Buffer): void {
    this.value = crc32(b, this.value);
  }
  digest(): Buffer {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(this.value >>> 0);
    return out;
  }
}

/** The SDK's checksums (async digest) behind the same face. */
function sdkChecksum(c: Crc32c | Crc64Nvme): Hasher {
  return { update: (b) => c.update(b), digest: async () => Buffer.from(await c.digest()) };
}

function hasher(d: Digest): Hasher | Hash {
  if (d === 'crc32') return new Crc32();
  if (d === 'crc32c') return sdkChecksum(new Crc32c());
  if (d === 'crc64nvme') return sdkChecksum(new Crc64Nvme());
  return createHash(d);
}

/** Hashes what passes through and, at the end, fails the stream if any expected digest differs. */
class DigestCheck extends Transform {
  private readonly hashes = new Map<Digest, Hasher | Hash>();
  private md5Hex = '';

  constructor(private readonly expected: Expectation[]) {
    super();
    this.hashes.set('md5', createHash('md5'));
    for (const e of expected) if (!this.hashes.has(e.digest)) this.hashes.set(e.digest, hasher(e.digest));
  }

  /** MD5 of everything that passed (S3's ETag of a single-part upload); valid after the end. */
  get md5(): string {
    return this.md5Hex;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    for (const h of this.hashes.values()) h.update(chunk);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    void this.check().then(
      () => done(),
      (err: Error) => done(err),
    );
  }

  private async check(): Promise<void> {
    const digests = new Map<Digest, Buffer>();
    for (const [k, h] of this.hashes) digests.set(k, await h.digest());
    this.md5Hex = (digests.get('md5') as Buffer).toString('hex');
    for (const e of this.expected) {
      const actual = digests.get(e.digest) as Buffer;
      const value = typeof e.value === 'function' ? e.value() : e.value;
      if (actual.length !== value.length || !timingSafeEqual(actual, value)) throw new S3Error(400, e.code, e.message);
    }
  }
}

function base64Digest(value: string, bytes: number, header: string): Buffer {
  const b = Buffer.from(value, 'base64');
  if (!/^[A-Za-z0-9+/]+=*$/.test(value) || b.length !== bytes)
    throw new S3Error(400, 'InvalidDigest', `${header} is not a base64 digest of ${bytes} bytes`);
  return b;
}

const SIZES: Record<Digest, number> = { md5: 16, sha1: 20, sha256: 32, crc32: 4, crc32c: 4, crc64nvme: 8 };

function expectationsOf(auth: SigV4Success | SigV2Success, headers: HeaderList): Expectation[] {
  const out: Expectation[] = [];
  if (auth.version === 4 && auth.payload.kind === 'sha256') {
    out.push({
      digest: 'sha256',
      value: Buffer.from(auth.payload.sha256Hex, 'hex'),
      code: 'XAmzContentSHA256Mismatch',
      message: "The provided 'x-amz-content-sha256' header does not match what was computed.",
    });
  }
  const md5 = headerValues(headers, 'content-md5');
  if (md5.length > 1) throw invalidArgument('Content-MD5 given more than once');
  if (md5.length === 1)
    out.push({
      digest: 'md5',
      value: base64Digest(md5[0].trim(), 16, 'Content-MD5'),
      code: 'BadDigest',
      message: 'The Content-MD5 you specified did not match what we received.',
    });
  for (const [name] of headers) {
    const lower = name.toLowerCase();
    if (!lower.startsWith('x-amz-checksum-') || lower === 'x-amz-checksum-algorithm' || lower === 'x-amz-checksum-type') continue;
    const digest = CHECKSUM_HEADERS[lower];
    if (digest === undefined) throw invalidArgument(`unknown checksum header ${lower}`);
    const values = headerValues(headers, lower);
    if (values.length !== 1) throw invalidArgument(`${lower} given more than once`);
    out.push(checksumExpectation(lower, base64Digest(values[0].trim(), SIZES[digest], lower)));
  }
  return out;
}

function checksumExpectation(header: string, value: Buffer | (() => Buffer)): Expectation {
  const digest = CHECKSUM_HEADERS[header];
  return {
    digest,
    value,
    code: 'BadDigest',
    message: `The ${digest.toUpperCase()} you specified (${header}) did not match the calculated checksum.`,
  };
}

export interface VerifiedPayload {
  body: Readable;
  /** How the bytes were authenticated, for the egress policy. */
  auth: PayloadAuth;
  /** Hex MD5 of the decoded body; valid once the body has been read to its end. */
  md5: () => string;
}

/** The decoded, verified body of a signed PutObject. Header defects throw before anything is read. */
export function verifiedPayload(raw: IncomingMessage, auth: SigV4Success | SigV2Success, headers: HeaderList): VerifiedPayload {
  const noop = () => undefined;
  // SigV2 signs no body: only a Content-MD5 (checked here) is bound to it.
  if (auth.version === 2) {
    const framing = [...headerValues(headers, 'x-amz-content-sha256'), ...headerValues(headers, 'content-encoding')].join(',');
    if (/STREAMING-|aws-chunked/i.test(framing))
      throw invalidArgument('aws-chunked bodies are SigV4 only: sign a streaming upload with SigV4');
    const check = new DigestCheck(expectationsOf(auth, headers));
    return { body: pipeline(raw, check, noop), auth: 'unsigned', md5: () => check.md5 };
  }
  if (auth.payload.kind === 'streaming') {
    const { decodedContentLength, signed, trailer } = auth.payload;
    const decoder = new AwsChunkedDecoder({
      decodedContentLength,
      ...(signed
        ? { chain: { signingKey: auth.signingKey, amzDate: auth.amzDate, scope: auth.scope, seedSignature: auth.seedSignature } }
        : {}),
      ...(trailer === undefined ? {} : { trailer }),
    });
    const expected = expectationsOf(auth, headers);
    if (trailer !== undefined) {
      // The trailing checksum is read when the decoder has ended, before the check's own end.
      const size = SIZES[CHECKSUM_HEADERS[trailer]];
      expected.push(checksumExpectation(trailer, () => base64Digest(decoder.trailerValue() ?? '', size, trailer)));
    }
    const check = new DigestCheck(expected);
    return { body: pipeline(raw, decoder, check, noop), auth: signed ? 'aws-chunked' : 'unsigned', md5: () => check.md5 };
  }
  const check = new DigestCheck(expectationsOf(auth, headers));
  return { body: pipeline(raw, check, noop), auth: auth.payload.kind === 'sha256' ? 'sha256' : 'unsigned', md5: () => check.md5 };
}
