import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { signingKey } from './canonical-request';
import { AwsChunkedDecoder, type ChunkedBody, ChunkedPayloadError, chunkSignature, trailerSignature } from './aws-chunked';

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

function chain(decodedContentLength: number): ChunkedBody {
  return { decodedContentLength, chain: { signingKey: KEY, amzDate: DATE, scope: SCOPE, seedSignature: SEED } };
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
    const other = { decodedContentLength: payload.length, chain: { ...chain(0).chain!, seedSignature: 'b'.repeat(64) } };
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

  describe('with a trailing checksum', () => {
    const CRC = 'x-amz-checksum-crc32';
    const value = 'AAAAAA==';
    /** Signed chunks, the final one without its data CRLF, then the trailer (signed when `sign`). */
    const withTrailer = (trailers: [string, string][], sign = true): Buffer => {
      const chunks = signChunks(parts);
      const body = encode(chunks).subarray(0, -2);
      const last = chunks[chunks.length - 1].signature;
      const lines = [...trailers];
      if (sign) lines.push(['x-amz-trailer-signature', trailerSignature(KEY, DATE, SCOPE, last, trailers)]);
      return Buffer.concat([body, Buffer.from(lines.map(([n, v]) => `${n}:${v}\r\n`).join('') + '\r\n')]);
    };
    const decodeWith = async (body: Buffer, opts: ChunkedBody, step = 5) => {
      const pieces: Buffer[] = [];
      for (let i = 0; i < body.length; i += step) pieces.push(body.subarray(i, i + step));
      const decoder = new AwsChunkedDecoder(opts);
      const out = Buffer.concat((await Readable.from(pieces).pipe(decoder).toArray()) as Buffer[]);
      return { out, trailer: decoder.trailerValue() };
    };
    const signed = { ...chain(payload.length), trailer: CRC };

    it('returns the payload and the signed trailing checksum (STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER)', async () => {
      const r = await decodeWith(withTrailer([[CRC, value]]), signed);
      expect(r.out.equals(payload)).toBe(true);
      expect(r.trailer).toBe(value);
    });

    it('should not accept a trailing checksum changed after signing, nor one without its signature', async () => {
      const body = withTrailer([[CRC, value]])
        .toString('latin1')
        .replace(`${CRC}:${value}`, `${CRC}:BBBBBB==`);
      await expect(decodeWith(Buffer.from(body, 'latin1'), signed)).rejects.toMatchObject({ code: 'SignatureDoesNotMatch' });
      await expect(decodeWith(withTrailer([[CRC, value]], false), signed)).rejects.toMatchObject({ code: 'InvalidRequest' });
    });

    it('should not accept a trailing header the request did not declare, or a second one', async () => {
      await expect(decodeWith(withTrailer([['x-amz-checksum-sha1', value]]), signed)).rejects.toMatchObject({ code: 'InvalidRequest' });
      await expect(decodeWith(withTrailer([[CRC, value]]), chain(payload.length))).rejects.toMatchObject({ code: 'InvalidRequest' });
      const twice = withTrailer([
        [CRC, value],
        [CRC, value],
      ]);
      await expect(decodeWith(twice, signed)).rejects.toMatchObject({ code: 'InvalidRequest' });
    });

    it('reads plain chunks and an unsigned trailer (STREAMING-UNSIGNED-PAYLOAD-TRAILER); refuses signed framing there', async () => {
      const plain = Buffer.concat([
        ...parts.flatMap((p) => [Buffer.from(`${p.length.toString(16)}\r\n`), p, Buffer.from('\r\n')]),
        Buffer.from(`0\r\n${CRC}:${value}\r\n\r\n`),
      ]);
      const unsigned = { decodedContentLength: payload.length, trailer: CRC };
      for (const step of [1, 9, plain.length]) {
        const r = await decodeWith(plain, unsigned, step);
        expect(r.out.equals(payload)).toBe(true);
        expect(r.trailer).toBe(value);
      }
      await expect(decodeWith(withTrailer([[CRC, value]]), unsigned)).rejects.toMatchObject({ code: 'InvalidRequest' });
      await expect(decodeWith(plain.subarray(0, plain.length - 2), unsigned)).rejects.toMatchObject({ code: 'IncompleteBody' });
    });

    it('should not accept an endless trailer', async () => {
      const body = Buffer.concat([withTrailer([]).subarray(0, -2), Buffer.from(`${CRC}:${'A'.repeat(2000)}`)]);
      await expect(decodeWith(body, signed)).rejects.toMatchObject({ code: 'InvalidRequest' });
    });
  });
});
