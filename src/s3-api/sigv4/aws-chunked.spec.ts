import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { signingKey } from './canonical-request';
import { AwsChunkedDecoder, ChunkedPayloadError, chunkSignature, type ChunkChain } from './aws-chunked';

const KEY = signingKey('secret/key', '20261126', 'us-east-1', 's3');
const DATE = '20261126T120000Z';
const SCOPE = '20261126/us-east-1/s3/aws4_request';
const SEED = 'a'.repeat(64);

interface Chunk {
  data: Buffer;
  signature: string;
}

/** Signs `parts` as a client would: each chunk chained on the previous, then the final empty one. */
function signChunks(parts: Buffer[]): Chunk[] {
  let prev = SEED;
  const out: Chunk[] = [];
  for (const data of [...parts, Buffer.alloc(0)]) {
    const signature = chunkSignature(KEY, DATE, SCOPE, prev, data);
    out.push({ data, signature });
    prev = signature;
  }
  return out;
}

function encode(chunks: Chunk[]): Buffer {
  return Buffer.concat(
    chunks.flatMap((c) => [Buffer.from(`${c.data.length.toString(16)};chunk-signature=${c.signature}\r\n`), c.data, Buffer.from('\r\n')]),
  );
}

function chain(decodedContentLength: number): ChunkChain {
  return { signingKey: KEY, amzDate: DATE, scope: SCOPE, seedSignature: SEED, decodedContentLength };
}

/** Feeds the body in pieces of `step` bytes (chunk boundaries land anywhere) and collects the output. */
async function decode(body: Buffer, length: number, step = 7): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for (let i = 0; i < body.length; i += step) pieces.push(body.subarray(i, i + step));
  const out: Buffer[] = [];
  for await (const c of Readable.from(pieces).pipe(new AwsChunkedDecoder(chain(length)))) out.push(c as Buffer);
  return Buffer.concat(out);
}

async function refusal(body: Buffer, length: number): Promise<ChunkedPayloadError> {
  try {
    await decode(body, length);
  } catch (err) {
    if (err instanceof ChunkedPayloadError) return err;
    throw err;
  }
  throw new Error('the decoder accepted the body');
}

describe('aws-chunked decoding', () => {
  const parts = [randomBytes(1000), randomBytes(64 * 1024), randomBytes(3)];
  const payload = Buffer.concat(parts);

  it('should return exactly the signed payload, whatever the read boundaries', async () => {
    const body = encode(signChunks(parts));
    for (const step of [1, 7, 4096, body.length]) expect((await decode(body, payload.length, step)).equals(payload)).toBe(true);
  });

  it('should accept an empty payload (only the final chunk)', async () => {
    expect((await decode(encode(signChunks([])), 0)).length).toBe(0);
  });

  it('should not accept one flipped byte in a chunk', async () => {
    const body = encode(signChunks(parts));
    body[body.length - 200] ^= 0x01;
    expect((await refusal(body, payload.length)).code).toBe('SignatureDoesNotMatch');
  });

  it('should not accept chunks in another order, each validly signed on its own', async () => {
    const chunks = signChunks(parts);
    expect((await refusal(encode([chunks[1], chunks[0], chunks[2], chunks[3]]), payload.length)).code).toBe('SignatureDoesNotMatch');
  });

  it('should not accept a chunk dropped from the chain', async () => {
    const chunks = signChunks(parts);
    const body = encode([chunks[0], chunks[2], chunks[3]]);
    expect((await refusal(body, parts[0].length + parts[2].length)).code).toBe('SignatureDoesNotMatch');
  });

  it('should not accept a chain seeded by another request', async () => {
    const body = encode(signChunks(parts));
    const other = { ...chain(payload.length), seedSignature: 'b'.repeat(64) };
    await expect(Readable.from([body]).pipe(new AwsChunkedDecoder(other)).toArray()).rejects.toMatchObject({
      code: 'SignatureDoesNotMatch',
    });
  });

  it('should not accept a body cut before its final chunk', async () => {
    const chunks = signChunks(parts);
    expect((await refusal(encode(chunks.slice(0, 3)), payload.length)).code).toBe('IncompleteBody');
  });

  it('should not accept a decoded length other than x-amz-decoded-content-length', async () => {
    const body = encode(signChunks(parts));
    expect((await refusal(body, payload.length + 1)).code).toBe('IncompleteBody');
    expect((await refusal(body, payload.length - 1)).code).toBe('InvalidRequest');
  });

  it('should not accept malformed framing or data after the final chunk', async () => {
    const good = encode(signChunks(parts));
    expect((await refusal(Buffer.concat([good, Buffer.from('x')]), payload.length)).code).toBe('InvalidRequest');
    expect((await refusal(Buffer.from('zz;chunk-signature=' + 'a'.repeat(64) + '\r\n'), 0)).code).toBe('InvalidRequest');
    expect((await refusal(Buffer.from('0;chunk-signature=' + 'A'.repeat(64) + '\r\n\r\n'), 0)).code).toBe('InvalidRequest');
    const noCrlf = encode(signChunks([Buffer.from('abc')]))
      .toString('latin1')
      .replace('abc\r\n', 'abcXY');
    expect((await refusal(Buffer.from(noCrlf, 'latin1'), 3)).code).toBe('InvalidRequest');
  });
});
