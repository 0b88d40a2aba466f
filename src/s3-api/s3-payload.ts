/**
 * A PutObject body as the egress pipeline reads it: only bytes the signature covers, and a
 * stream that fails instead of ending when they are not what was signed. The pipeline buffers
 * the whole artifact before it checks anything, so a failure at the very end (a whole-body hash
 * that does not match) still releases nothing.
 */
import { createHash, type Hash, timingSafeEqual } from 'node:crypto';
import { type IncomingMessage } from 'node:http';
import { pipeline, type Readable, Transform, type TransformCallback } from 'node:stream';
import { crc32 } from 'node:zlib';
import { type PayloadAuth } from '../egress/egress.service';
import { S3Error, invalidArgument, unsupported } from './s3-error';
import { AwsChunkedDecoder } from './sigv4/aws-chunked';
import { headerValues, type HeaderList } from './sigv4/canonical-request';
import { type SigV4Success } from './sigv4/sigv4-verifier';

type Digest = 'md5' | 'sha1' | 'sha256' | 'crc32';

interface Expectation {
  digest: Digest;
  /** The expected digest's raw bytes. */
  value: Buffer;
  /** S3's error when it does not match. */
  code: 'XAmzContentSHA256Mismatch' | 'BadDigest';
  message: string;
}

const CHECKSUM_HEADERS: Record<string, Digest | undefined> = {
  'x-amz-checksum-crc32': 'crc32',
  'x-amz-checksum-sha1': 'sha1',
  'x-amz-checksum-sha256': 'sha256',
  'x-amz-checksum-crc32c': undefined,
  'x-amz-checksum-crc64nvme': undefined,
};

class Crc32 {
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

/** Hashes what passes through and, at the end, fails the stream if any expected digest differs. */
class DigestCheck extends Transform {
  private readonly hashes = new Map<Digest, Hash | Crc32>();
  private md5Hex = '';

  constructor(private readonly expected: Expectation[]) {
    super();
    this.hashes.set('md5', createHash('md5'));
    for (const e of expected)
      if (!this.hashes.has(e.digest)) this.hashes.set(e.digest, e.digest === 'crc32' ? new Crc32() : createHash(e.digest));
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
    const digests = new Map<Digest, Buffer>([...this.hashes].map(([k, h]) => [k, h.digest()]));
    this.md5Hex = (digests.get('md5') as Buffer).toString('hex');
    for (const e of this.expected) {
      const actual = digests.get(e.digest) as Buffer;
      if (actual.length !== e.value.length || !timingSafeEqual(actual, e.value)) {
        done(new S3Error(400, e.code, e.message));
        return;
      }
    }
    done();
  }
}

function base64Digest(value: string, bytes: number, header: string): Buffer {
  const b = Buffer.from(value, 'base64');
  if (!/^[A-Za-z0-9+/]+=*$/.test(value) || b.length !== bytes)
    throw new S3Error(400, 'InvalidDigest', `${header} is not a base64 digest of ${bytes} bytes`);
  return b;
}

const SIZES: Record<Digest, number> = { md5: 16, sha1: 20, sha256: 32, crc32: 4 };

function expectationsOf(sigv4: SigV4Success, headers: HeaderList): Expectation[] {
  const out: Expectation[] = [];
  if (sigv4.payload.kind === 'sha256') {
    out.push({
      digest: 'sha256',
      value: Buffer.from(sigv4.payload.sha256Hex, 'hex'),
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
    if (!lower.startsWith('x-amz-checksum-')) continue;
    if (!(lower in CHECKSUM_HEADERS)) throw invalidArgument(`unknown checksum header ${lower}`);
    const digest = CHECKSUM_HEADERS[lower];
    if (digest === undefined)
      throw unsupported(`the ${lower.slice('x-amz-checksum-'.length).toUpperCase()} checksum (use CRC32, SHA1 or SHA256)`);
    const values = headerValues(headers, lower);
    if (values.length !== 1) throw invalidArgument(`${lower} given more than once`);
    out.push({
      digest,
      value: base64Digest(values[0].trim(), SIZES[digest], lower),
      code: 'BadDigest',
      message: `The ${digest.toUpperCase()} you specified did not match the calculated checksum.`,
    });
  }
  return out;
}

export interface VerifiedPayload {
  body: Readable;
  /** How the bytes were authenticated, for the egress policy. */
  auth: PayloadAuth;
  /** Hex MD5 of the decoded body; valid once the body has been read to its end. */
  md5: () => string;
}

/** The decoded, verified body of a signed PutObject. Header defects throw before anything is read. */
export function verifiedPayload(raw: IncomingMessage, sigv4: SigV4Success, headers: HeaderList): VerifiedPayload {
  const check = new DigestCheck(expectationsOf(sigv4, headers));
  const noop = () => undefined;
  if (sigv4.payload.kind === 'streaming') {
    const decoder = new AwsChunkedDecoder({
      signingKey: sigv4.signingKey,
      amzDate: sigv4.amzDate,
      scope: sigv4.scope,
      seedSignature: sigv4.seedSignature,
      decodedContentLength: sigv4.payload.decodedContentLength,
    });
    return { body: pipeline(raw, decoder, check, noop), auth: 'aws-chunked', md5: () => check.md5 };
  }
  return { body: pipeline(raw, check, noop), auth: sigv4.payload.kind === 'sha256' ? 'sha256' : 'unsigned', md5: () => check.md5 };
}
