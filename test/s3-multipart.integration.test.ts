import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { createHash, randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { AuditRepository } from '../src/audit/audit.repository';
import { OUTBOX_BUCKET } from '../src/egress/egress-release';
import { type IssuedJob } from '../src/jobs/job.service';
import { MultipartUploads, UPLOADS_BUCKET } from '../src/s3-api/multipart/multipart-uploads.service';
import { ObjectStore } from '../src/storage/object-store.service';
import { DB_KINDS } from './support/backends';
import { predictionsOf } from './support/egress';
import { DATASET, type Fixture, jobOfNewTeam, startFixture, TestClock } from './support/fixture';
import { largePredictionsPolicyDir } from './support/policies';

/**
 * Issue 19, item 2: multipart uploads into the outbox, driven by the AWS SDK's own commands.
 * The policy set here lets a predictions file be large (a 5 MiB part is ~100,000 rows): the
 * shipped caps would refuse it, which is the organizers' choice, not the protocol's.
 */
const MiB = 1024 * 1024;

describe.each(DB_KINDS)('multipart uploads into the outbox (%s)', (db) => {
  let f: Fixture;
  let dir: string;
  const clock = new TestClock(new Date());
  beforeAll(async () => {
    dir = largePredictionsPolicyDir();
    f = await startFixture({
      db,
      policyDir: dir,
      clock,
      env: { CAGE_MULTIPART_TTL_SECONDS: '3600', CAGE_MULTIPART_MAX_PARTS: '4', CAGE_MULTIPART_OPEN_PER_JOB: '3' },
    });
  }, 120_000);
  afterAll(async () => {
    await f?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const newJob = () => jobOfNewTeam(f, clock.now());
  const s3 = (job: IssuedJob) =>
    new S3Client({
      endpoint: f.gateway.sandboxUrl,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: job.accessKeyId, secretAccessKey: job.secretAccessKey },
      maxAttempts: 1,
    });
  const failure = async (p: Promise<unknown>): Promise<{ code: string; status: number | undefined }> => {
    try {
      await p;
    } catch (err) {
      if (err instanceof S3ServiceException) return { code: err.name, status: err.$metadata.httpStatusCode };
      throw err;
    }
    throw new Error('the request succeeded');
  };
  const held = async (uploadId: string) => (await f.gateway.get(ObjectStore).list(UPLOADS_BUCKET, `${uploadId}/`, undefined, 1000)).objects;
  const outboxKeys = async () => (await f.gateway.get(ObjectStore).list(OUTBOX_BUCKET, '', undefined, 10_000)).objects.map((o) => o.key);
  const leavesOf = async (uploadId: string) =>
    (await f.gateway.get(AuditRepository).find({ limit: 100_000 })).map((l) => l.leaf).filter((l) => l.resource?.id === uploadId);
  const start = async (c: S3Client, key = `predictions/${randomUUID()}.csv`) => {
    const r = await c.send(new CreateMultipartUploadCommand({ Bucket: 'outbox', Key: key }));
    return { key, uploadId: r.UploadId! };
  };
  const part = (c: S3Client, u: { key: string; uploadId: string }, n: number, body: Buffer) =>
    c.send(new UploadPartCommand({ Bucket: 'outbox', Key: u.key, UploadId: u.uploadId, PartNumber: n, Body: body }));
  const complete = (c: S3Client, u: { key: string; uploadId: string }, parts: { PartNumber: number; ETag?: string }[]) =>
    c.send(new CompleteMultipartUploadCommand({ Bucket: 'outbox', Key: u.key, UploadId: u.uploadId, MultipartUpload: { Parts: parts } }));

  it('assembles the parts into one artifact, released as a single PutObject of the same bytes is; nothing stays held; every step a leaf', async () => {
    const bytes = predictionsOf(5 * MiB + 4096);
    const c = s3(await newJob());
    const u = await start(c);
    const one = await part(c, u, 1, bytes.subarray(0, 5 * MiB));
    const two = await part(c, u, 2, bytes.subarray(5 * MiB));
    expect(one.ETag).toBe(
      `"${createHash('md5')
        .update(bytes.subarray(0, 5 * MiB))
        .digest('hex')}"`,
    );
    const listed = await c.send(new ListPartsCommand({ Bucket: 'outbox', Key: u.key, UploadId: u.uploadId }));
    expect(listed.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag])).toEqual([
      [1, 5 * MiB, one.ETag],
      [2, bytes.length - 5 * MiB, two.ETag],
    ]);
    expect(await held(u.uploadId)).toHaveLength(2);
    const before = await outboxKeys();
    const done = await complete(c, u, [
      { PartNumber: 1, ETag: one.ETag },
      { PartNumber: 2, ETag: two.ETag },
    ]);
    expect(done.ETag).toMatch(/^"[0-9a-f]{32}-2"$/);
    // One artifact in the outbox, with the canonical bytes a single PutObject of the same file gets.
    const after = await outboxKeys();
    expect(after.length).toBe(before.length + 1);
    const single = await s3(await newJob()).send(new PutObjectCommand({ Bucket: 'outbox', Key: 'predictions/single.csv', Body: bytes }));
    expect(single.$metadata.httpStatusCode).toBe(200);
    const released = after.filter((k) => !before.includes(k))[0];
    const stored = await f.gateway.get(ObjectStore).getBuffer(OUTBOX_BUCKET, released, 64 * MiB);
    const newest = (await outboxKeys()).filter((k) => !after.includes(k))[0];
    expect(stored.equals(await f.gateway.get(ObjectStore).getBuffer(OUTBOX_BUCKET, newest, 64 * MiB))).toBe(true);
    // The parts are gone from inside the cage, and the upload is over.
    expect(await held(u.uploadId)).toEqual([]);
    expect(await failure(part(c, u, 3, Buffer.from('x')))).toEqual({ code: 'NoSuchUpload', status: 404 });
    const steps = (await leavesOf(u.uploadId)).map((l) => [l.action, l.decision]);
    expect(steps).toEqual([
      ['upload.create', 'allow'],
      ['upload.part', 'allow'],
      ['upload.part', 'allow'],
      ['upload.list', 'allow'],
      ['upload.complete', 'allow'],
      ['upload.part', 'deny'],
    ]);
    const egress = (await f.gateway.get(AuditRepository).find({ action: 'egress.release', limit: 100_000 })).map((l) => l.leaf);
    expect(egress.filter((l) => l.sha256 === createHash('sha256').update(stored).digest('hex'))).toHaveLength(2);
  }, 120_000);

  it('should not take a part past the kind’s size cap: 413 before the body is read, nothing held', async () => {
    const c = s3(await newJob());
    const u = await start(c, 'metrics/big.json');
    const r = await failure(part(c, u, 1, Buffer.alloc(65_537, 0x20)));
    expect(r).toEqual({ code: 'EntityTooLarge', status: 413 });
    expect(await held(u.uploadId)).toEqual([]);
    expect((await leavesOf(u.uploadId)).map((l) => [l.action, l.decision, (l.detail as { reason?: string }).reason])).toEqual([
      ['upload.create', 'allow', undefined],
      ['upload.part', 'deny', 'too_large'],
    ]);
  });

  it('should not let parts racing in pass the kind’s cap together: the bytes are reserved before a body is read', async () => {
    const c = s3(await newJob());
    const u = await start(c, 'metrics/race.json');
    const results = await Promise.allSettled([1, 2, 3].map((n) => part(c, u, n, Buffer.alloc(40 * 1024, 0x20))));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const listed = await c.send(new ListPartsCommand({ Bucket: 'outbox', Key: u.key, UploadId: u.uploadId }));
    expect(listed.Parts?.reduce((n, p) => n + (p.Size ?? 0), 0)).toBeLessThanOrEqual(65_536);
  });

  it('should not let uploads started at once pass the open-upload limit', async () => {
    const c = s3(await newJob());
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => start(c)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
  });

  it('should not start an upload of a kind no policy lets the team send (model), nor past the day’s cap; an uncharged refusal of Complete keeps the upload', async () => {
    const c = s3(await newJob());
    expect(await failure(c.send(new CreateMultipartUploadCommand({ Bucket: 'outbox', Key: 'model/w.bin' })))).toEqual({
      code: 'AccessDenied',
      status: 403,
    });
    const u = await start(c);
    const one = await part(c, u, 1, predictionsOf(1024, 9));
    // The day's five predictions go out by PutObject: Complete is then over the cap (429, no row, nothing charged).
    for (let i = 0; i < 5; i++)
      await c.send(new PutObjectCommand({ Bucket: 'outbox', Key: `predictions/p${i}.csv`, Body: predictionsOf(512, i) }));
    expect(await failure(complete(c, u, [{ PartNumber: 1, ETag: one.ETag }]))).toMatchObject({ code: 'EgressBudgetExhausted' });
    expect((await c.send(new ListPartsCommand({ Bucket: 'outbox', Key: u.key, UploadId: u.uploadId }))).Parts).toHaveLength(1);
    expect(await failure(start(c))).toMatchObject({ code: 'EgressBudgetExhausted', status: 403 });
  });

  it('should not take more parts than allowed (CAGE_MULTIPART_MAX_PARTS), nor more open uploads than allowed', async () => {
    const job = await newJob();
    const c = s3(job);
    const u = await start(c);
    for (const n of [1, 2, 3, 4]) await part(c, u, n, Buffer.from(`p${n}`));
    expect(await failure(part(c, u, 5, Buffer.from('p5')))).toMatchObject({ code: 'InvalidArgument', status: 400 });
    await start(c);
    await start(c);
    expect(await failure(start(c))).toEqual({ code: 'SlowDown', status: 503 });
    const open = await c.send(new ListMultipartUploadsCommand({ Bucket: 'outbox' }));
    expect(open.Uploads).toHaveLength(3);
  });

  it('should not complete with a part under 5 MiB but the last, a wrong ETag or parts out of order; the upload stays open, then aborts clean', async () => {
    const c = s3(await newJob());
    const u = await start(c);
    const one = await part(c, u, 1, Buffer.from('a'.repeat(1024)));
    const two = await part(c, u, 2, Buffer.from('b'.repeat(1024)));
    expect(
      await failure(
        complete(c, u, [
          { PartNumber: 1, ETag: one.ETag },
          { PartNumber: 2, ETag: two.ETag },
        ]),
      ),
    ).toEqual({ code: 'EntityTooSmall', status: 400 });
    expect(await failure(complete(c, u, [{ PartNumber: 1, ETag: two.ETag }]))).toEqual({ code: 'InvalidPart', status: 400 });
    expect(
      await failure(
        complete(c, u, [
          { PartNumber: 2, ETag: two.ETag },
          { PartNumber: 1, ETag: one.ETag },
        ]),
      ),
    ).toEqual({ code: 'InvalidPartOrder', status: 400 });
    expect(await held(u.uploadId)).toHaveLength(2);
    const before = await outboxKeys();
    await c.send(new AbortMultipartUploadCommand({ Bucket: 'outbox', Key: u.key, UploadId: u.uploadId }));
    expect(await held(u.uploadId)).toEqual([]);
    expect(await outboxKeys()).toEqual(before);
    expect(await failure(complete(c, u, [{ PartNumber: 1, ETag: one.ETag }]))).toEqual({ code: 'NoSuchUpload', status: 404 });
  });

  it('should not let another job (of its team or another) see, add to, complete or abort an upload', async () => {
    const owner = s3(await newJob());
    const other = s3(await newJob());
    const u = await start(owner);
    const one = await part(owner, u, 1, Buffer.from('mine'));
    expect(await failure(part(other, u, 2, Buffer.from('theirs')))).toEqual({ code: 'NoSuchUpload', status: 404 });
    expect(await failure(other.send(new ListPartsCommand({ Bucket: 'outbox', Key: u.key, UploadId: u.uploadId })))).toEqual({
      code: 'NoSuchUpload',
      status: 404,
    });
    expect(await failure(complete(other, u, [{ PartNumber: 1, ETag: one.ETag }]))).toEqual({ code: 'NoSuchUpload', status: 404 });
    expect(await failure(other.send(new AbortMultipartUploadCommand({ Bucket: 'outbox', Key: u.key, UploadId: u.uploadId })))).toEqual({
      code: 'NoSuchUpload',
      status: 404,
    });
    // Nor the owner under another key.
    expect(await failure(part(owner, { ...u, key: 'predictions/other.csv' }, 2, Buffer.from('x')))).toEqual({
      code: 'NoSuchUpload',
      status: 404,
    });
    expect((await owner.send(new ListPartsCommand({ Bucket: 'outbox', Key: u.key, UploadId: u.uploadId }))).Parts).toHaveLength(1);
  });

  it('ends an upload the pipeline refuses (charged like any refusal): its parts go, it cannot be completed again', async () => {
    const c = s3(await newJob());
    const u = await start(c);
    const one = await part(c, u, 1, Buffer.from('name,birthdate\nJane Doe,1950-01-01\n'));
    expect(await failure(complete(c, u, [{ PartNumber: 1, ETag: one.ETag }]))).toEqual({ code: 'EgressRejected', status: 422 });
    expect(await held(u.uploadId)).toEqual([]);
    expect(await failure(complete(c, u, [{ PartNumber: 1, ETag: one.ETag }]))).toEqual({ code: 'NoSuchUpload', status: 404 });
    expect((await leavesOf(u.uploadId)).map((l) => [l.action, l.decision])).toContainEqual(['upload.complete', 'deny']);
  });

  it('releases once when two Completes race', async () => {
    const c = s3(await newJob());
    const u = await start(c);
    const one = await part(c, u, 1, predictionsOf(2048));
    const before = await outboxKeys();
    const results = await Promise.allSettled([
      complete(c, u, [{ PartNumber: 1, ETag: one.ETag }]),
      complete(c, u, [{ PartNumber: 1, ETag: one.ETag }]),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect((await outboxKeys()).length).toBe(before.length + 1);
  });

  it('expires an abandoned upload: its parts go, one upload.expire leaf, and it cannot be completed', async () => {
    const c = s3(await newJob());
    const u = await start(c);
    const one = await part(c, u, 1, Buffer.from('abandoned'));
    expect(await f.gateway.get(MultipartUploads).sweep()).toBe(0);
    clock.advance(3601_000);
    try {
      expect(await f.gateway.get(MultipartUploads).sweep()).toBeGreaterThanOrEqual(1);
    } finally {
      clock.advance(-3601_000);
    }
    expect(await held(u.uploadId)).toEqual([]);
    expect((await leavesOf(u.uploadId)).map((l) => [l.action, l.principal])).toContainEqual(['upload.expire', 'gateway']);
    expect(await failure(complete(c, u, [{ PartNumber: 1, ETag: one.ETag }]))).toEqual({ code: 'NoSuchUpload', status: 404 });
  });

  it('should not start an upload of a kind the policy set does not know, nor into a dataset bucket', async () => {
    const c = s3(await newJob());
    expect(await failure(c.send(new CreateMultipartUploadCommand({ Bucket: 'outbox', Key: 'weights/w.bin' })))).toEqual({
      code: 'InvalidArgument',
      status: 400,
    });
    expect(await failure(c.send(new CreateMultipartUploadCommand({ Bucket: DATASET, Key: 'train/x.raw' })))).toEqual({
      code: 'AccessDenied',
      status: 403,
    });
  });
});
