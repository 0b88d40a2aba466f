import { createHash } from 'node:crypto';
import { rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditRepository } from '../src/audit/audit.repository';
import { OUTBOX_BUCKET } from '../src/egress/egress-release';
import { JobService } from '../src/jobs/job.service';
import { PolicyWatcher } from '../src/policy/policy-watcher';
import { ObjectStore } from '../src/storage/object-store.service';
import { predictions } from './support/egress';
import { DATASET, type Fixture, startFixture } from './support/fixture';
import { type RawResponse, rawRequest } from './support/http';
import { policyDirWith } from './support/policies';
import { sigV2Headers, sigV2Presign } from './support/sigv2-client';
import { SigV4TestClient } from './support/sigv4-client';

/**
 * SigV2 on the S3 API (issue 19, item 1): header and presigned forms, their bounds, and the policy
 * switch that refuses it (policies/s3-api.cedar). The signer is test/support's; real clients
 * (botocore's default presign, s3cmd) are in test/e2e/s3-clients.e2e.ts.
 */
const code = (r: RawResponse) => /<Code>([^<]*)<\/Code>/.exec(r.body.toString())?.[1];
const OBJECT = `/${DATASET}/train/annotations.csv`;

describe('SigV2 on the S3 API (pglite, s3rver)', () => {
  let f: Fixture;
  let dir: string;
  beforeAll(async () => {
    dir = policyDirWith({});
    f = await startFixture({ db: 'pglite', policyDir: dir });
  });
  afterAll(async () => {
    await f?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const send = (method: string, path: string, headers: Record<string, string>, body?: Buffer) =>
    rawRequest(f.gateway.sandboxUrl, method, path, headers, body);
  const leaves = async (action: string) => (await f.gateway.get(AuditRepository).find({ action, limit: 10_000 })).map((l) => l.leaf);
  const soon = () => Math.floor(Date.now() / 1000) + 300;

  it('serves a presigned GET byte for byte, decided and logged like any read', async () => {
    const before = (await leaves('read')).length;
    const r = await send('GET', sigV2Presign(f.alpha, 'GET', OBJECT, soon()), {});
    expect(r.status).toBe(200);
    expect(r.body.equals(f.objects.get('train/annotations.csv')!)).toBe(true);
    const reads = (await leaves('read')).slice(before);
    expect(reads).toEqual([expect.objectContaining({ decision: 'allow', principal: `job:${f.alpha.jobId}`, status: 200 })]);
  });

  it('should not serve a presigned URL whose key, method or expiry was changed, nor one expired or valid past 7 days', async () => {
    const url = sigV2Presign(f.alpha, 'GET', OBJECT, soon());
    for (const tampered of [url.replace('annotations.csv', 'scan-1.raw'), url.replace(/Expires=\d+/, `Expires=${soon() + 60}`)]) {
      const r = await send('GET', tampered, {});
      expect(r.status).toBe(403);
      expect(code(r)).toBe('SignatureDoesNotMatch');
    }
    expect((await send('HEAD', url, {})).status).toBe(403);
    const expired = await send('GET', sigV2Presign(f.alpha, 'GET', OBJECT, Math.floor(Date.now() / 1000) - 1), {});
    expect([expired.status, code(expired)]).toEqual([403, 'AccessDenied']);
    expect(expired.body.toString()).toContain('Request has expired');
    const tooLong = await send('GET', sigV2Presign(f.alpha, 'GET', OBJECT, Math.floor(Date.now() / 1000) + 8 * 86_400), {});
    expect([tooLong.status, code(tooLong)]).toEqual([403, 'AuthorizationQueryParametersError']);
  });

  it('should not let a job read what its team is not granted, whatever the signature', async () => {
    const r = await send('GET', sigV2Presign(f.alpha, 'GET', `/${DATASET}/test/scan-9.raw`, soon()), {});
    expect(r.status).toBe(404);
    expect(code(r)).toBe('NoSuchKey');
  });

  it('lists and reads with a header-signed request; a skewed Date is refused', async () => {
    const list = await send('GET', `/${DATASET}?list-type=2&prefix=train/`, sigV2Headers(f.alpha, 'GET', `/${DATASET}`));
    expect(list.status).toBe(200);
    expect(list.body.toString()).toContain('<Key>train/annotations.csv</Key>');
    const skewed = await send('GET', OBJECT, sigV2Headers(f.alpha, 'GET', OBJECT, {}, new Date(Date.now() - 16 * 60_000)));
    expect([skewed.status, code(skewed)]).toEqual([403, 'RequestTimeTooSkewed']);
  });

  it('releases a header-signed upload to the outbox (payload "unsigned"); a Content-MD5 that does not match releases nothing', async () => {
    const body = Buffer.from(predictions(['scan-9,1,2,3,0.5']));
    const md5 = createHash('md5').update(body).digest('base64');
    const path = '/outbox/predictions/sigv2.csv';
    const ok = await send('PUT', path, sigV2Headers(f.beta, 'PUT', path, { 'content-type': 'text/csv', 'content-md5': md5 }), body);
    expect(ok.status).toBe(200);
    expect(ok.headers['x-cage-egress-status']).toBe('released');
    const before = (await f.gateway.get(ObjectStore).list(OUTBOX_BUCKET, '', undefined, 1000)).objects.length;
    const wrong = createHash('md5').update('other').digest('base64');
    const bad = await send('PUT', path, sigV2Headers(f.beta, 'PUT', path, { 'content-type': 'text/csv', 'content-md5': wrong }), body);
    expect([bad.status, code(bad)]).toEqual([400, 'BadDigest']);
    expect((await f.gateway.get(ObjectStore).list(OUTBOX_BUCKET, '', undefined, 1000)).objects.length).toBe(before);
  });

  it('should not release a presigned PUT whose signed query checksum or Content-MD5 does not match the body, nor an aws-chunked SigV2 body', async () => {
    const body = Buffer.from(predictions(['scan-9,1,2,3,0.25']));
    const before = (await f.gateway.get(ObjectStore).list(OUTBOX_BUCKET, '', undefined, 1000)).objects.length;
    const wrongCrc = sigV2Presign(f.beta, 'PUT', '/outbox/predictions/q1.csv', soon(), { 'x-amz-checksum-crc32': 'AAAAAA==' });
    const r1 = await send('PUT', wrongCrc, { 'content-length': String(body.length) }, body);
    expect([r1.status, code(r1)]).toEqual([400, 'BadDigest']);
    const wrongMd5 = sigV2Presign(f.beta, 'PUT', '/outbox/predictions/q2.csv', soon(), {
      'content-md5': createHash('md5').update('other').digest('base64'),
    });
    const r2 = await send('PUT', wrongMd5, { 'content-length': String(body.length) }, body);
    expect([r2.status, code(r2)]).toEqual([400, 'BadDigest']);
    const path = '/outbox/predictions/chunked.csv';
    const chunked = await send(
      'PUT',
      path,
      sigV2Headers(f.beta, 'PUT', path, {
        'content-encoding': 'aws-chunked',
        'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      }),
      body,
    );
    expect([chunked.status, code(chunked)]).toEqual([400, 'InvalidArgument']);
    expect((await f.gateway.get(ObjectStore).list(OUTBOX_BUCKET, '', undefined, 1000)).objects.length).toBe(before);
  });

  it('should not answer a query it cannot read with a 500, signed or not', async () => {
    const r = await send('GET', `/${DATASET}?a=%zz`, {});
    expect([r.status, code(r)]).toEqual([400, 'InvalidURI']);
  });

  it('should not accept a revoked job’s SigV2 signature', async () => {
    const job = await f.gateway.get(JobService).issue('alpha', 3600, 'test', { requestId: 'test', listener: 'control' });
    const url = sigV2Presign(job, 'GET', OBJECT, soon());
    expect((await send('GET', url, {})).status).toBe(200);
    await f.gateway.get(JobService).revoke(job.jobId, 'test', { requestId: 'test', listener: 'control' });
    await new Promise((r) => setTimeout(r, 600)); // the job cache's 500 ms
    const r = await send('GET', url, {});
    expect([r.status, code(r)]).toEqual([403, 'InvalidAccessKeyId']);
  });

  it('should not accept SigV2 once the policy refuses it: 403 and one authenticate denial; SigV4 is unaffected', async () => {
    unlinkSync(join(dir, 's3-api.cedar'));
    writeFileSync(join(dir, 'tests', 'data-plane.json'), JSON.stringify({ expectations: [] }));
    await f.gateway.get(PolicyWatcher).reload();
    const before = (await leaves('authenticate')).length;
    const r = await send('GET', sigV2Presign(f.alpha, 'GET', OBJECT, soon()), {});
    expect([r.status, code(r)]).toEqual([403, 'AccessDenied']);
    expect(r.body.toString()).toContain('SigV4');
    expect((await leaves('authenticate')).slice(before)).toEqual([
      expect.objectContaining({
        decision: 'deny',
        status: 403,
        principal: `job:${f.alpha.jobId}`,
        resource: { type: 'signature', id: 'sigv2' },
      }),
    ]);
    const v4 = await new SigV4TestClient(f.gateway.sandboxUrl, f.alpha).send({ method: 'GET', path: OBJECT, date: new Date() });
    expect(v4.status).toBe(200);
  });
});
