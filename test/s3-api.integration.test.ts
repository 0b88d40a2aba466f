import { createHash } from 'node:crypto';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  UploadPartCommand,
  DeleteObjectCommand,
  GetBucketLocationCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { type IssuedJob } from '../src/jobs/job.service';
import { OUTBOX_BUCKET } from '../src/egress/egress-release';
import { DB_KINDS, S3_KINDS } from './support/backends';
import { predictions } from './support/egress';
import { DATASET, type Fixture, jobOfNewTeam, startFixture } from './support/fixture';
import { rawRequest } from './support/http';
import { SigV4TestClient } from './support/sigv4-client';
import { AuditRepository } from '../src/audit/audit.repository';
import { Clock } from '../src/clock/clock';
import { DatasetRepository } from '../src/datasets/dataset.repository';
import { EgressRepository } from '../src/egress/egress.repository';
import { JobService } from '../src/jobs/job.service';
import { ObjectStore } from '../src/storage/object-store.service';

const combos = DB_KINDS.flatMap((db) => S3_KINDS.map((s3) => ({ db, s3 })));

function client(f: Fixture, job: IssuedJob): S3Client {
  return new S3Client({
    endpoint: f.gateway.sandboxUrl,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: job.accessKeyId, secretAccessKey: job.secretAccessKey },
    maxAttempts: 1,
  });
}

/** The S3 error a command fails with (code, status, request id), or a test failure if it succeeds. */
async function s3Error(p: Promise<unknown>): Promise<{ code: string; status: number | undefined; requestId: string | undefined }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof S3ServiceException)
      return { code: err.name, status: err.$metadata.httpStatusCode, requestId: err.$metadata.requestId };
    throw err;
  }
  throw new Error('the request succeeded');
}

async function outboxKeys(f: Fixture): Promise<string[]> {
  return (await f.gateway.get(ObjectStore).list(OUTBOX_BUCKET, '', undefined, 1000)).objects.map((o) => o.key);
}

describe.each(combos)('S3 API (@aws-sdk/client-s3) on $db with $s3', ({ db, s3 }) => {
  let f: Fixture;
  let alpha: S3Client;
  let beta: S3Client;
  beforeAll(async () => {
    f = await startFixture({ db, s3 });
    alpha = client(f, f.alpha);
    beta = client(f, f.beta);
    // A second dataset that exists but is granted to nobody.
    const gw = f.gateway;
    await gw.get(DatasetRepository).insert(
      {
        id: 'ct-secret',
        bucket: (await gw.get(DatasetRepository).get(DATASET))!.bucket,
        prefix: `${DATASET}/`,
        title: 'x',
        splits: [{ name: 'train', kind: 'train', prefix: 'train/' }],
      },
      gw.get(Clock).now(),
      'test',
    );
  });
  afterAll(async () => {
    alpha?.destroy();
    beta?.destroy();
    await f?.stop();
  });

  it('lists the granted datasets and the outbox as buckets, and nothing else', async () => {
    const r = await alpha.send(new ListBucketsCommand({}));
    expect(r.Buckets?.map((b) => b.Name)).toEqual([DATASET, 'outbox']);
    expect(r.Buckets?.every((b) => b.CreationDate instanceof Date)).toBe(true);
    await expect(alpha.send(new HeadBucketCommand({ Bucket: DATASET }))).resolves.toBeDefined();
    await expect(alpha.send(new HeadBucketCommand({ Bucket: 'outbox' }))).resolves.toBeDefined();
    expect((await alpha.send(new GetBucketLocationCommand({ Bucket: DATASET }))).LocationConstraint ?? '').toBe('');
  });

  it('should not tell a dataset granted to nobody from one that does not exist', async () => {
    for (const bucket of ['ct-secret', 'no-such-dataset']) {
      expect(await s3Error(alpha.send(new HeadBucketCommand({ Bucket: bucket })))).toMatchObject({ status: 404 });
      expect(await s3Error(alpha.send(new ListObjectsV2Command({ Bucket: bucket })))).toMatchObject({ code: 'NoSuchBucket', status: 404 });
      expect(await s3Error(alpha.send(new GetObjectCommand({ Bucket: bucket, Key: 'train/scan-1.raw' })))).toMatchObject({
        code: 'NoSuchKey',
        status: 404,
      });
    }
  });

  it('lists exactly the granted split, across pages, each key once', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await alpha.send(new ListObjectsV2Command({ Bucket: DATASET, MaxKeys: 2, ContinuationToken: token }));
      expect(page.KeyCount).toBeLessThanOrEqual(2);
      seen.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    const train = [...f.objects.keys()].filter((k) => k.startsWith('train/')).sort();
    expect([...seen].sort()).toEqual(train);
    expect(seen).toEqual([...seen].sort());
  });

  it('rolls keys up with a delimiter, showing only prefixes that hold granted keys', async () => {
    const root = await alpha.send(new ListObjectsV2Command({ Bucket: DATASET, Delimiter: '/' }));
    expect(root.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['train/']);
    expect(root.Contents ?? []).toEqual([]);
    const testTeam = await beta.send(new ListObjectsV2Command({ Bucket: DATASET, Delimiter: '/' }));
    expect(testTeam.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['test/']);
    const inTrain = await alpha.send(new ListObjectsV2Command({ Bucket: DATASET, Prefix: 'train/', Delimiter: '/' }));
    expect(inTrain.Contents?.map((o) => o.Key)).toContain('train/scan-1.raw');
    if (s3 === 'external') expect(inTrain.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['train/a/']);
  });

  it('encodes keys with encoding-type=url (as aws-cli and boto3 ask), raw otherwise', async () => {
    const signer = new SigV4TestClient(f.gateway.sandboxUrl, f.alpha);
    const list = (query: Record<string, string>) =>
      signer.send({ method: 'GET', path: `/${DATASET}`, query: { 'list-type': '2', prefix: 'train/caf', ...query }, date: new Date() });
    const encoded = (await list({ 'encoding-type': 'url' })).body.toString();
    expect(encoded).toContain('<Key>train/caf%C3%A9.txt</Key>');
    expect(encoded).toContain('<Key>train/cafe%CC%81.txt</Key>');
    expect(encoded).toContain('<EncodingType>url</EncodingType>');
    expect((await list({})).body.toString()).toContain('<Key>train/café.txt</Key>');
    expect((await list({ 'encoding-type': 'base64' })).status).toBe(400);
  });

  it('honours start-after, and ListObjects v1 with a marker', async () => {
    const after = await alpha.send(new ListObjectsV2Command({ Bucket: DATASET, StartAfter: 'train/empty.bin' }));
    expect(after.Contents?.map((o) => o.Key)).toEqual(
      [...f.objects.keys()].filter((k) => k.startsWith('train/') && k > 'train/empty.bin').sort(),
    );
    const v1 = await alpha.send(new ListObjectsCommand({ Bucket: DATASET, Marker: 'train/empty.bin', MaxKeys: 1 }));
    expect(v1.Contents?.map((o) => o.Key)).toEqual([
      [...f.objects.keys()].filter((k) => k.startsWith('train/') && k > 'train/empty.bin').sort()[0],
    ]);
    expect(v1.IsTruncated).toBe(true);
  });

  it('reads an object whole and by range, byte-exact, with S3 headers', async () => {
    const key = 'train/scan-1.raw';
    const whole = await alpha.send(new GetObjectCommand({ Bucket: DATASET, Key: key }));
    expect(Buffer.from(await whole.Body!.transformToByteArray()).equals(f.objects.get(key)!)).toBe(true);
    expect(whole.ETag).toMatch(/^"[^"]+"$/);
    const part = await alpha.send(new GetObjectCommand({ Bucket: DATASET, Key: key, Range: 'bytes=100-199' }));
    expect(part.ContentRange).toBe(`bytes 100-199/${f.objects.get(key)!.length}`);
    expect(Buffer.from(await part.Body!.transformToByteArray()).equals(f.objects.get(key)!.subarray(100, 200))).toBe(true);
    const head = await alpha.send(new HeadObjectCommand({ Bucket: DATASET, Key: key }));
    expect(head.ContentLength).toBe(f.objects.get(key)!.length);
    expect(head.ETag).toBe(whole.ETag);
    expect(
      await s3Error(alpha.send(new GetObjectCommand({ Bucket: DATASET, Key: key, Range: `bytes=${f.objects.get(key)!.length}-` }))),
    ).toMatchObject({ code: 'InvalidRange', status: 416 });
  });

  it('keys are opaque: NFC and NFD spellings are different objects', async () => {
    const nfc = await alpha.send(new GetObjectCommand({ Bucket: DATASET, Key: 'train/café.txt' }));
    const nfd = await alpha.send(new GetObjectCommand({ Bucket: DATASET, Key: 'train/cafe\u0301.txt' }));
    expect(await nfc.Body!.transformToString()).toBe('nfc');
    expect(await nfd.Body!.transformToString()).toBe('nfd');
  });

  it('answers the conditional headers as S3 does', async () => {
    const key = 'train/annotations.csv';
    const { ETag, LastModified } = await alpha.send(new HeadObjectCommand({ Bucket: DATASET, Key: key }));
    expect(await s3Error(alpha.send(new GetObjectCommand({ Bucket: DATASET, Key: key, IfNoneMatch: ETag })))).toMatchObject({
      status: 304,
    });
    expect(await s3Error(alpha.send(new GetObjectCommand({ Bucket: DATASET, Key: key, IfMatch: '"nope"' })))).toMatchObject({
      code: 'PreconditionFailed',
      status: 412,
    });
    const later = new Date(LastModified!.getTime() + 60_000);
    const earlier = new Date(LastModified!.getTime() - 60_000);
    expect(await s3Error(alpha.send(new GetObjectCommand({ Bucket: DATASET, Key: key, IfModifiedSince: later })))).toMatchObject({
      status: 304,
    });
    expect(await s3Error(alpha.send(new GetObjectCommand({ Bucket: DATASET, Key: key, IfUnmodifiedSince: earlier })))).toMatchObject({
      code: 'PreconditionFailed',
      status: 412,
    });
    const fresh = await alpha.send(new GetObjectCommand({ Bucket: DATASET, Key: key, IfMatch: ETag, IfModifiedSince: earlier }));
    expect(await fresh.Body!.transformToString()).toBe(f.objects.get(key)!.toString());
  });

  it('should not tell a key of another split, the labels or an absent key apart', async () => {
    const answers = [];
    for (const key of ['test/scan-9.raw', 'labels/test_annotations.csv', 'train/absent.raw', 'stray.bin']) {
      const e = await s3Error(alpha.send(new GetObjectCommand({ Bucket: DATASET, Key: key })));
      answers.push({ code: e.code, status: e.status });
      expect(await s3Error(alpha.send(new HeadObjectCommand({ Bucket: DATASET, Key: key })))).toMatchObject({ status: 404 });
    }
    expect(new Set(answers.map((a) => JSON.stringify(a)))).toEqual(new Set([JSON.stringify({ code: 'NoSuchKey', status: 404 })]));
  });

  it('logs every S3 read as the same audit leaf the REST data plane writes', async () => {
    const r = await alpha.send(new GetObjectCommand({ Bucket: DATASET, Key: 'train/scan-1.mhd' }));
    await r.Body!.transformToByteArray();
    const e = await s3Error(alpha.send(new GetObjectCommand({ Bucket: DATASET, Key: 'test/scan-9.raw' })));
    const leaves = (await f.gateway.get(AuditRepository).find({ limit: 10_000 })).map((l) => l.leaf);
    const read = leaves.find((l) => l.requestId === r.$metadata.requestId);
    expect(read).toMatchObject({
      principal: `job:${f.alpha.jobId}`,
      team: 'alpha',
      action: 'read',
      decision: 'allow',
      status: 200,
      listener: 'sandbox',
      bytes: f.objects.get('train/scan-1.mhd')!.length,
    });
    expect(read?.resource).toEqual({ type: 'object', dataset: DATASET, keyHex: Buffer.from('train/scan-1.mhd').toString('hex') });
    expect(leaves.find((l) => l.requestId === e.requestId)).toMatchObject({ action: 'read', decision: 'deny', status: 404 });
  });

  it('releases predictions put into the outbox through the egress pipeline, receipt in the headers', async () => {
    const body = predictions(['scan-9,10.2,-20.7,30.1,0.91234']);
    const r = await beta.send(new PutObjectCommand({ Bucket: 'outbox', Key: 'predictions/run-1.csv', Body: Buffer.from(body) }));
    expect(r.$metadata.httpStatusCode).toBe(200);
    expect(r.ETag).toBe(`"${createHash('md5').update(body).digest('hex')}"`);
    const artifacts = await f.gateway.get(EgressRepository).list({ team: 'beta', limit: 100 });
    const released = artifacts.find((a) => a.status === 'released');
    expect(released).toBeDefined();
    expect(await outboxKeys(f)).toContain(released!.outboxKey);
    const stored = await f.gateway.get(ObjectStore).get(OUTBOX_BUCKET, released!.outboxKey!);
    const chunks: Buffer[] = [];
    for await (const c of stored.body) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('seriesuid,coordX,coordY,coordZ,probability\nscan-9,10.0,-20.5,30.0,0.912\n');
  });

  it('refuses what egress refuses, with the reason codes and nothing in the outbox', async () => {
    const before = await outboxKeys(f);
    const bad = await s3Error(
      beta.send(new PutObjectCommand({ Bucket: 'outbox', Key: 'predictions/bad.csv', Body: Buffer.from('patient,name\nx,y\n') })),
    );
    expect(bad).toMatchObject({ code: 'EgressRejected', status: 422 });
    expect(
      await s3Error(beta.send(new PutObjectCommand({ Bucket: 'outbox', Key: 'model/w.bin', Body: Buffer.from('weights') }))),
    ).toMatchObject({ code: 'AccessDenied', status: 403 });
    expect(await s3Error(beta.send(new PutObjectCommand({ Bucket: 'outbox', Key: 'nokind', Body: Buffer.from('x') })))).toMatchObject({
      code: 'InvalidArgument',
      status: 400,
    });
    expect(await outboxKeys(f)).toEqual(before);
  });

  it('should not let a job write, delete, copy or tag, nor read the outbox', async () => {
    const before = await outboxKeys(f);
    expect(
      await s3Error(alpha.send(new PutObjectCommand({ Bucket: DATASET, Key: 'train/new.raw', Body: Buffer.from('x') }))),
    ).toMatchObject({ code: 'AccessDenied', status: 403 });
    expect(await s3Error(alpha.send(new DeleteObjectCommand({ Bucket: DATASET, Key: 'train/scan-1.raw' })))).toMatchObject({
      code: 'AccessDenied',
      status: 403,
    });
    expect(
      await s3Error(
        alpha.send(new CopyObjectCommand({ Bucket: 'outbox', Key: 'predictions/c.csv', CopySource: `${DATASET}/train/annotations.csv` })),
      ),
    ).toMatchObject({ code: 'NotImplemented', status: 501 });
    expect(
      await s3Error(alpha.send(new PutObjectTaggingCommand({ Bucket: 'outbox', Key: 'predictions/m.csv', Tagging: { TagSet: [] } }))),
    ).toMatchObject({ code: 'NotImplemented', status: 501 });
    expect(await s3Error(alpha.send(new GetObjectAclCommand({ Bucket: DATASET, Key: 'train/scan-1.raw' })))).toMatchObject({
      code: 'NotImplemented',
      status: 501,
    });
    expect(await s3Error(alpha.send(new ListObjectsV2Command({ Bucket: 'outbox' })))).toMatchObject({ code: 'AccessDenied', status: 403 });
    expect(await s3Error(alpha.send(new GetObjectCommand({ Bucket: 'outbox', Key: 'predictions/run-1.csv' })))).toMatchObject({
      code: 'AccessDenied',
      status: 403,
    });
    expect(await outboxKeys(f)).toEqual(before);
    expect(
      (await f.gateway.get(ObjectStore).head((await f.gateway.get(DatasetRepository).get(DATASET))!.bucket, `${DATASET}/train/scan-1.raw`))
        .size,
    ).toBe(f.objects.get('train/scan-1.raw')!.length);
  });

  it('answers an outbox HEAD with the uploader’s own size and ETag after its upload (rclone checks them), and nobody else', async () => {
    const uploader = client(f, await jobOfNewTeam(f));
    const sent = Buffer.from(predictions(['scan-9,1,2,3,0.5']));
    await uploader.send(new PutObjectCommand({ Bucket: 'outbox', Key: 'predictions/head.csv', Body: sent }));
    const head = await uploader.send(new HeadObjectCommand({ Bucket: 'outbox', Key: 'predictions/head.csv' }));
    expect([head.ContentLength, head.ETag]).toEqual([sent.length, `"${createHash('md5').update(sent).digest('hex')}"`]);
    expect((await s3Error(alpha.send(new HeadObjectCommand({ Bucket: 'outbox', Key: 'predictions/head.csv' })))).status).toBe(404);
    expect(await s3Error(uploader.send(new GetObjectCommand({ Bucket: 'outbox', Key: 'predictions/head.csv' })))).toMatchObject({
      code: 'AccessDenied',
    });
  });

  it("answers as S3 does where clients depend on it (issue 19, item 4): an outbox HEAD 404, CreateBucket of one's bucket, MaxKeys=0, DeleteObjects per key, dataset writes 403", async () => {
    const before = await outboxKeys(f);
    // rclone HEADs the destination before an upload: a key this job did not upload is a 404
    // (beta uploaded run-1.csv; alpha is told nothing of it).
    expect((await s3Error(alpha.send(new HeadObjectCommand({ Bucket: 'outbox', Key: 'predictions/run-1.csv' })))).status).toBe(404);
    // Re-creating a bucket the job can see is S3's "you own it already": 200 in us-east-1.
    expect((await alpha.send(new CreateBucketCommand({ Bucket: DATASET }))).$metadata.httpStatusCode).toBe(200);
    expect((await alpha.send(new CreateBucketCommand({ Bucket: 'outbox' }))).$metadata.httpStatusCode).toBe(200);
    expect(await s3Error(alpha.send(new CreateBucketCommand({ Bucket: 'someone-elses' })))).toMatchObject({
      code: 'AccessDenied',
      status: 403,
    });
    // MaxKeys=0: empty and not truncated; no token that would skip the first key.
    const zero = await alpha.send(new ListObjectsV2Command({ Bucket: DATASET, MaxKeys: 0 }));
    expect(zero).toMatchObject({ KeyCount: 0, IsTruncated: false });
    expect(zero.NextContinuationToken).toBeUndefined();
    expect(zero.Contents).toBeUndefined();
    // DeleteObjects: a result document with each key refused; nothing deleted.
    const keys = ['train/scan-1.raw', 'train/a&b <c>.txt'];
    const del = await alpha.send(new DeleteObjectsCommand({ Bucket: DATASET, Delete: { Objects: keys.map((Key) => ({ Key })) } }));
    expect(del.Deleted).toBeUndefined();
    expect(del.Errors?.map((e) => [e.Key, e.Code])).toEqual(keys.map((k) => [k, 'AccessDenied']));
    // Any write to a dataset bucket is 403, a multipart one included (not 501).
    expect(await s3Error(alpha.send(new CreateMultipartUploadCommand({ Bucket: DATASET, Key: 'train/m.raw' })))).toMatchObject({
      code: 'AccessDenied',
      status: 403,
    });
    expect(
      await s3Error(
        alpha.send(new UploadPartCommand({ Bucket: DATASET, Key: 'train/m.raw', UploadId: 'u', PartNumber: 1, Body: Buffer.from('x') })),
      ),
    ).toMatchObject({ code: 'AccessDenied', status: 403 });
    expect(await outboxKeys(f)).toEqual(before);
    expect(
      (await f.gateway.get(ObjectStore).head((await f.gateway.get(DatasetRepository).get(DATASET))!.bucket, `${DATASET}/train/scan-1.raw`))
        .size,
    ).toBe(f.objects.get('train/scan-1.raw')!.length);
  });

  it('answers an unauthenticated request with an S3 XML error carrying the request id', async () => {
    const r = await rawRequest(f.gateway.sandboxUrl, 'GET', `/${DATASET}/train/scan-1.raw`);
    expect(r.status).toBe(403);
    expect(r.headers['content-type']).toContain('application/xml');
    const body = r.body.toString();
    expect(body).toContain('<Code>AccessDenied</Code>');
    expect(body).toContain(`<RequestId>${String(r.headers['x-amz-request-id'])}</RequestId>`);
  });

  it('should not serve a revoked job within a second', async () => {
    const job = await f.gateway.get(JobService).issue('alpha', 600, 'test', { requestId: 't', listener: 'internal' });
    const c = client(f, job);
    await c.send(new HeadObjectCommand({ Bucket: DATASET, Key: 'train/scan-1.mhd' }));
    await f.gateway.get(JobService).revoke(job.jobId, 'test', { requestId: 't', listener: 'internal' });
    await new Promise((r) => setTimeout(r, 1000));
    expect(await s3Error(c.send(new GetObjectCommand({ Bucket: DATASET, Key: 'train/scan-1.mhd' })))).toMatchObject({
      code: 'InvalidAccessKeyId',
      status: 403,
    });
    c.destroy();
  });

  it('serves a presigned GET to a client with no SDK', async () => {
    const signer = new SigV4TestClient(f.gateway.sandboxUrl, f.alpha);
    const target = await signer.presign({ method: 'GET', path: `/${DATASET}/train/annotations.csv`, date: new Date(), expiresIn: 300 });
    const r = await rawRequest(f.gateway.sandboxUrl, 'GET', target);
    expect(r.status).toBe(200);
    expect(r.body.equals(f.objects.get('train/annotations.csv')!)).toBe(true);
  });
});
