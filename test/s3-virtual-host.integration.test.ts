import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent } from 'node:http';
import { type LookupFunction } from 'node:net';
import { predictions } from './support/egress';
import { DATASET, type Fixture, startFixture } from './support/fixture';
import { type RawResponse, rawRequest } from './support/http';
import { sigV2, sigV2StringToSign } from './support/sigv2-client';
import { SigV4TestClient } from './support/sigv4-client';

/**
 * Issue 19, item 4: virtual-hosted–style addressing with CAGE_S3_API_BASE_DOMAIN. The AWS SDK
 * (forcePathStyle off) sends `Host: <bucket>.s3.cage.test:<port>`; every name under the base
 * domain resolves to the gateway here through the agent's lookup, as a wildcard DNS record would.
 */
const BASE = 's3.cage.test';
const code = (r: RawResponse) => /<Code>([^<]*)<\/Code>/.exec(r.body.toString())?.[1];
const toLoopback: LookupFunction = (_host, opts, cb) => {
  if ((opts as { all?: boolean }).all === true)
    (cb as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: '127.0.0.1', family: 4 }]);
  else cb(null, '127.0.0.1', 4);
};

describe('virtual-hosted–style S3 addressing (pglite, s3rver)', () => {
  let f: Fixture;
  let port: string;
  beforeAll(async () => {
    f = await startFixture({ db: 'pglite', env: { CAGE_S3_API_BASE_DOMAIN: BASE } });
    port = new URL(f.gateway.sandboxUrl).port;
  });
  afterAll(async () => {
    await f?.stop();
  });

  const sdk = (job: 'alpha' | 'beta') =>
    new S3Client({
      endpoint: `http://${BASE}:${port}`,
      region: 'us-east-1',
      forcePathStyle: false,
      credentials: { accessKeyId: f[job].accessKeyId, secretAccessKey: f[job].secretAccessKey },
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ lookup: toLoopback }) }),
    });

  it('lists, reads and uploads with the bucket in the Host (the AWS SDK, path-style off)', async () => {
    const listed = await sdk('alpha').send(new ListObjectsV2Command({ Bucket: DATASET, Prefix: 'train/' }));
    expect(listed.Contents?.map((o) => o.Key)).toContain('train/annotations.csv');
    const got = await sdk('alpha').send(new GetObjectCommand({ Bucket: DATASET, Key: 'train/annotations.csv' }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(f.objects.get('train/annotations.csv')!)).toBe(true);
    const put = await sdk('beta').send(
      new PutObjectCommand({ Bucket: 'outbox', Key: 'predictions/vhost.csv', Body: predictions(['scan-9,1,2,3,0.5']) }),
    );
    expect(put.$metadata.httpStatusCode).toBe(200);
  });

  it('should not read a path-style key through a Host bucket (the path is the key, whole), nor accept a Host the signature does not cover', async () => {
    const client = new SigV4TestClient(f.gateway.sandboxUrl, f.alpha);
    const s = await client.sign({ method: 'GET', path: `/${DATASET}/train/annotations.csv`, date: new Date() });
    // Signed for the gateway's own host, path-style: works.
    expect((await rawRequest(f.gateway.sandboxUrl, 'GET', s.target, s.headers)).status).toBe(200);
    // The same signed request with the Host changed to a bucket's name: the signature covers the Host.
    const moved = await rawRequest(f.gateway.sandboxUrl, 'GET', s.target, { ...s.headers, host: `${DATASET}.${BASE}:${port}` });
    expect([moved.status, code(moved)]).toEqual([403, 'SignatureDoesNotMatch']);
    // With the bucket in the Host, `/ct/train/…` names the key `ct/train/…`, which does not exist.
    const nested = await sdk('alpha')
      .send(new GetObjectCommand({ Bucket: DATASET, Key: `${DATASET}/train/annotations.csv` }))
      .catch((e: unknown) => e);
    expect((nested as S3ServiceException).$metadata.httpStatusCode).toBe(404);
  });

  it('should not let a Host name a bucket the job is not granted, nor serve the test split through it', async () => {
    const r = await sdk('alpha')
      .send(new GetObjectCommand({ Bucket: DATASET, Key: 'test/scan-9.raw' }))
      .catch((e: unknown) => e);
    expect(r).toBeInstanceOf(S3ServiceException);
    expect((r as S3ServiceException).$metadata.httpStatusCode).toBe(404);
    const other = await sdk('alpha')
      .send(new ListObjectsV2Command({ Bucket: 'no-such-dataset' }))
      .catch((e: unknown) => e);
    expect((other as S3ServiceException).name).toBe('NoSuchBucket');
  });

  it('verifies a SigV2 presigned URL of a virtual host with the bucket in its resource', async () => {
    const expires = Math.floor(Date.now() / 1000) + 300;
    const sig = sigV2(f.alpha.secretAccessKey, sigV2StringToSign('GET', `/${DATASET}/train/annotations.csv`, {}, String(expires)));
    const path = `/train/annotations.csv?AWSAccessKeyId=${f.alpha.accessKeyId}&Expires=${expires}&Signature=${encodeURIComponent(sig)}`;
    const ok = await rawRequest(f.gateway.sandboxUrl, 'GET', path, { host: `${DATASET}.${BASE}:${port}` });
    expect(ok.status).toBe(200);
    expect(ok.body.equals(f.objects.get('train/annotations.csv')!)).toBe(true);
    // The same URL sent to another bucket's host: the resource signed names the first bucket.
    const elsewhere = await rawRequest(f.gateway.sandboxUrl, 'GET', path, { host: `outbox.${BASE}:${port}` });
    expect([elsewhere.status, code(elsewhere)]).toEqual([403, 'SignatureDoesNotMatch']);
  });
});
