import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Crc32c, Crc64Nvme } from '@aws-sdk/checksums/crc';
import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { OUTBOX_BUCKET } from '../src/egress/egress-release';
import { type IssuedJob } from '../src/jobs/job.service';
import { ObjectStore } from '../src/storage/object-store.service';
import { predictions } from './support/egress';
import { type Fixture, jobOfNewTeam, startFixture } from './support/fixture';
import { type RawResponse } from './support/http';
import { awsChunkedWithTrailer, SigV4TestClient } from './support/sigv4-client';

/**
 * Issue 19, item 3: trailing checksums and checksum headers on uploads to the outbox. The AWS SDK
 * for JavaScript (a real client) sends a stream body as STREAMING-UNSIGNED-PAYLOAD-TRAILER with a
 * checksum trailer; the signed trailer form (which no client here sends by default) is built by
 * test/support's encoder on top of @smithy/signature-v4's request signature.
 */
const code = (r: RawResponse) => /<Code>([^<]*)<\/Code>/.exec(r.body.toString())?.[1];

describe('trailing checksums and checksum headers (pglite, s3rver)', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await startFixture({ db: 'pglite' });
  });
  afterAll(async () => {
    await f?.stop();
  });

  const newJob = () => jobOfNewTeam(f);
  const outbox = async () => (await f.gateway.get(ObjectStore).list(OUTBOX_BUCKET, '', undefined, 1000)).objects.map((o) => o.key).sort();
  const body = (n: number) => Buffer.from(predictions([`scan-9,${n},2,3,0.5`]));

  /** The SDK, recording the headers it signed and sent. */
  function sdk(job: IssuedJob): { client: S3Client; sent: Record<string, string>[] } {
    const client = new S3Client({
      endpoint: f.gateway.sandboxUrl,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: job.accessKeyId, secretAccessKey: job.secretAccessKey },
      maxAttempts: 1,
    });
    const sent: Record<string, string>[] = [];
    client.middlewareStack.add(
      (next) => async (args) => {
        sent.push({ ...(args.request as { headers: Record<string, string> }).headers });
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low' },
    );
    return { client, sent };
  }

  it.each(['CRC32', 'CRC32C', 'SHA1', 'SHA256', 'CRC64NVME'] as const)(
    'releases a stream the JS SDK uploads with an unsigned trailer and a %s checksum',
    async (algorithm) => {
      const { client, sent } = sdk(await newJob());
      const bytes = body(1);
      const r = await client.send(
        new PutObjectCommand({
          Bucket: 'outbox',
          Key: `predictions/${algorithm}.csv`,
          Body: Readable.from([bytes.subarray(0, 10), bytes.subarray(10)]),
          ContentLength: bytes.length,
          ChecksumAlgorithm: algorithm,
        }),
      );
      expect(r.$metadata.httpStatusCode).toBe(200);
      expect(sent[0]['x-amz-content-sha256']).toBe('STREAMING-UNSIGNED-PAYLOAD-TRAILER');
      expect(sent[0]['x-amz-trailer']).toBe(`x-amz-checksum-${algorithm.toLowerCase()}`);
    },
  );

  /** A PUT whose trailer or header the test writes. */
  const client = (job: IssuedJob) => new SigV4TestClient(f.gateway.sandboxUrl, job);
  const NOW = () => new Date();
  const dateOf = (d: Date) => d.toISOString().replace(/[-:]/g, '').slice(0, 8);
  const amzDateOf = (d: Date) => `${d.toISOString().replace(/[-:]/g, '').slice(0, 15)}Z`;

  async function signedTrailerPut(job: IssuedJob, bytes: Buffer, trailer: { name: string; value: string; signedValue?: string }) {
    const date = NOW();
    const parts = [bytes.subarray(0, 7), bytes.subarray(7)];
    const key = { secret: job.secretAccessKey, date: dateOf(date), region: 'us-east-1' };
    const length = awsChunkedWithTrailer(parts, 'a'.repeat(64), key, amzDateOf(date), trailer).length;
    return client(job).send(
      {
        method: 'PUT',
        path: `/outbox/predictions/${randomUUID()}.csv`,
        date,
        headers: {
          'content-encoding': 'aws-chunked',
          'content-type': 'text/csv',
          'x-amz-decoded-content-length': String(bytes.length),
          'x-amz-trailer': trailer.name,
          'content-length': String(length),
        },
        payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
      },
      (s) => {
        const auth = Object.entries(s.headers).find(([k]) => k.toLowerCase() === 'authorization')![1];
        const seed = /Signature=([0-9a-f]{64})/.exec(auth)![1];
        s.body = awsChunkedWithTrailer(parts, seed, key, amzDateOf(date), trailer);
      },
    );
  }
  const b64 = (d: Buffer) => d.toString('base64');
  const crc32Of = (b: Buffer) => {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(crc32(b) >>> 0);
    return out;
  };

  it('releases a signed trailer (STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER) whose checksum matches', async () => {
    const bytes = body(2);
    const sha = b64(createHash('sha256').update(bytes).digest());
    const r = await signedTrailerPut(await newJob(), bytes, { name: 'x-amz-checksum-sha256', value: sha });
    expect(r.status).toBe(200);
    expect(r.headers['x-cage-egress-status']).toBe('released');
  });

  it('should not release a signed trailer whose checksum does not match the bytes (BadDigest), or whose signature does not (SignatureDoesNotMatch)', async () => {
    const job = await newJob();
    const bytes = body(3);
    const before = await outbox();
    const wrong = b64(crc32Of(Buffer.from('other bytes')));
    const bad = await signedTrailerPut(job, bytes, { name: 'x-amz-checksum-crc32', value: wrong });
    expect([bad.status, code(bad)]).toEqual([400, 'BadDigest']);
    const right = b64(crc32Of(bytes));
    const forged = await signedTrailerPut(job, bytes, { name: 'x-amz-checksum-crc32', value: right, signedValue: wrong });
    expect([forged.status, code(forged)]).toEqual([403, 'SignatureDoesNotMatch']);
    expect(await outbox()).toEqual(before);
  });

  it('should not release a plain PUT whose x-amz-checksum-crc32c or -crc64nvme header does not match; releases one that does', async () => {
    const job = await newJob();
    const bytes = body(4);
    const c = new Crc32c();
    c.update(bytes);
    const crc32c = b64(Buffer.from(await c.digest()));
    const n = new Crc64Nvme();
    n.update(bytes);
    const crc64 = b64(Buffer.from(await n.digest()));
    const put = (headers: Record<string, string>) =>
      client(job).send({ method: 'PUT', path: `/outbox/predictions/${randomUUID()}.csv`, date: NOW(), body: bytes, headers });
    const before = await outbox();
    for (const headers of [
      { 'x-amz-checksum-crc32c': b64(Buffer.from('abcd')) },
      { 'x-amz-checksum-crc64nvme': b64(Buffer.alloc(8)) },
    ] as Record<string, string>[]) {
      const r = await put(headers);
      expect([r.status, code(r)]).toEqual([400, 'BadDigest']);
    }
    expect(await outbox()).toEqual(before);
    expect((await put({ 'x-amz-checksum-crc32c': crc32c, 'x-amz-checksum-crc64nvme': crc64 })).status).toBe(200);
  });
});
