import { createHmac } from 'node:crypto';
import { type HeaderList } from '../sigv4/canonical-request';
import { isSigV2, parseHttpDate, type SigV2Request, verifySigV2 } from './sigv2-verifier';

// The example credentials and requests of S3's SigV2 documentation ("Signing and authenticating
// REST requests"), with the signatures the documentation gives.
const KEY = 'AKIAIOSFODNN7EXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const lookupSecret = (id: string) => Promise.resolve(id === KEY ? SECRET : undefined);
const at = (iso: string) => ({ lookupSecret, now: () => new Date(iso) });
const sign = (s: string) => createHmac('sha1', SECRET).update(s).digest('base64');

const get = (headers: HeaderList, target = '/photos/puppy.jpg', hostBucket: string | null = 'johnsmith'): SigV2Request => ({
  method: 'GET',
  rawTarget: target,
  headers,
  ...(hostBucket === null ? {} : { hostBucket }),
});

describe('SigV2 verification', () => {
  it("accepts the documentation's header-signed GET (virtual-hosted: the bucket leads the resource)", async () => {
    const r = await verifySigV2(
      get([
        ['Host', 'johnsmith.s3.amazonaws.com'],
        ['Date', 'Tue, 27 Mar 2007 19:36:42 +0000'],
        ['Authorization', `AWS ${KEY}:bWq2s1WEIj+Ydj0vQ697zp+IXMU=`],
      ]),
      at('2007-03-27T19:40:00Z'),
    );
    expect(r).toEqual({ ok: true, version: 2, mode: 'header', accessKeyId: KEY });
  });

  it("accepts the documentation's upload: Content-MD5, Content-Type and repeated, mixed-case x-amz-* headers", async () => {
    const r = await verifySigV2(
      {
        method: 'PUT',
        rawTarget: '/db-backup.dat.gz',
        hostBucket: 'static.johnsmith.net',
        headers: [
          ['Date', 'Tue, 27 Mar 2007 21:06:08 +0000'],
          ['x-amz-acl', 'public-read'],
          ['content-type', 'application/x-download'],
          ['Content-MD5', '4gJE4saaMU4BqNR0kLY+lw=='],
          ['X-Amz-Meta-ReviewedBy', 'joe@johnsmith.net'],
          ['X-Amz-Meta-ReviewedBy', 'jane@johnsmith.net'],
          ['X-Amz-Meta-FileChecksum', '0x02661779'],
          ['X-Amz-Meta-ChecksumAlgorithm', 'crc32'],
          ['Content-Disposition', 'attachment; filename=database.dat'],
          ['Authorization', `AWS ${KEY}:ilyl83RwaSoYIEdixDQcA4OnAnc=`],
        ],
      },
      at('2007-03-27T21:10:00Z'),
    );
    expect(r).toEqual({ ok: true, version: 2, mode: 'header', accessKeyId: KEY, contentMd5: '4gJE4saaMU4BqNR0kLY+lw==' });
  });

  it("accepts the documentation's presigned URL until Expires, and not after", async () => {
    const target = `/photos/puppy.jpg?AWSAccessKeyId=${KEY}&Expires=1175139620&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D`;
    expect(await verifySigV2(get([], target), at('2007-03-29T03:40:00Z'))).toMatchObject({ ok: true, mode: 'presigned' });
    expect(await verifySigV2(get([], target), at('2007-03-29T03:40:21Z'))).toEqual({
      ok: false,
      code: 'AccessDenied',
      message: 'Request has expired',
    });
  });

  it('should not accept a path-style request signed for another resource, a changed header or another method', async () => {
    const headers: HeaderList = [
      ['Date', 'Tue, 27 Mar 2007 19:36:42 +0000'],
      ['Authorization', `AWS ${KEY}:bWq2s1WEIj+Ydj0vQ697zp+IXMU=`],
    ];
    const now = at('2007-03-27T19:40:00Z');
    // Path-style: the resource is the path as sent, so the same path without the host's bucket differs.
    expect(await verifySigV2(get(headers, '/photos/puppy.jpg', null), now)).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
    expect(await verifySigV2(get(headers, '/johnsmith/photos/puppy.jpg', null), now)).toMatchObject({ ok: true });
    expect(await verifySigV2(get(headers, '/johnsmith/photos/kitten.jpg', null), now)).toMatchObject({ ok: false });
    expect(await verifySigV2({ ...get(headers, '/johnsmith/photos/puppy.jpg', null), method: 'HEAD' }, now)).toMatchObject({
      ok: false,
    });
    expect(await verifySigV2(get([...headers, ['x-amz-meta-extra', '1']], '/johnsmith/photos/puppy.jpg', null), now)).toMatchObject({
      ok: false,
    });
    expect(await verifySigV2(get([...headers, ['Content-Type', 'text/plain']], '/johnsmith/photos/puppy.jpg', null), now)).toMatchObject({
      ok: false,
    });
  });

  it('should not tell an unknown key from a wrong signature', async () => {
    const now = at('2007-03-27T19:40:00Z');
    const unknown = await verifySigV2(
      get([
        ['Date', 'Tue, 27 Mar 2007 19:36:42 +0000'],
        ['Authorization', 'AWS AKIAUNKNOWN:bWq2s1WEIj+Ydj0vQ697zp+IXMU='],
      ]),
      now,
    );
    const wrong = await verifySigV2(
      get([
        ['Date', 'Tue, 27 Mar 2007 19:36:42 +0000'],
        ['Authorization', `AWS ${KEY}:AAAAs1WEIj+Ydj0vQ697zp+IXMU=`],
      ]),
      now,
    );
    expect(unknown).toEqual(wrong);
    expect(wrong).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
  });

  it('signs sub-resources sorted, with decoded values, and leaves other parameters out', async () => {
    const toSign = 'POST\n\n\n1175139620\n/outbox/predictions/a.csv?partNumber=2&uploadId=a/b c';
    const target = `/outbox/predictions/a.csv?uploadId=a%2Fb%20c&partNumber=2&x-id=UploadPart&AWSAccessKeyId=${KEY}&Expires=1175139620&Signature=${encodeURIComponent(sign(toSign))}`;
    expect(await verifySigV2({ method: 'POST', rawTarget: target, headers: [] }, at('2007-03-29T03:00:00Z'))).toMatchObject({ ok: true });
    const bare = 'POST\n\n\n1175139620\n/outbox/predictions/a.csv?uploads';
    const create = `/outbox/predictions/a.csv?uploads&AWSAccessKeyId=${KEY}&Expires=1175139620&Signature=${encodeURIComponent(sign(bare))}`;
    expect(await verifySigV2({ method: 'POST', rawTarget: create, headers: [] }, at('2007-03-29T03:00:00Z'))).toMatchObject({ ok: true });
    // A sub-resource added after signing changes the operation: refused.
    expect(await verifySigV2({ method: 'POST', rawTarget: `${create}&uploadId=x`, headers: [] }, at('2007-03-29T03:00:00Z'))).toMatchObject(
      { ok: false, code: 'SignatureDoesNotMatch' },
    );
  });

  it("accepts botocore's spelling of a ListObjectsV2 resource (`/bucket?list-type=2`) as well as S3's (`/bucket`)", async () => {
    const date = 'Tue, 01 Dec 2026 08:00:00 GMT';
    const target = '/ds?list-type=2&prefix=test%2F&encoding-type=url';
    for (const resource of ['/ds', '/ds?list-type=2']) {
      const headers: HeaderList = [
        ['Date', date],
        ['Authorization', `AWS ${KEY}:${sign(`GET\n\n\n${date}\n${resource}`)}`],
      ];
      expect(await verifySigV2({ method: 'GET', rawTarget: target, headers }, at('2026-12-01T08:00:00Z'))).toMatchObject({ ok: true });
    }
    const other = [['Date', date] as const, ['Authorization', `AWS ${KEY}:${sign(`GET\n\n\n${date}\n/ds?list-type=1`)}`] as const];
    expect(await verifySigV2({ method: 'GET', rawTarget: target, headers: other }, at('2026-12-01T08:00:00Z'))).toMatchObject({
      ok: false,
    });
  });

  it('takes the time from x-amz-date (the Date line is then empty) and refuses a skew over 15 minutes', async () => {
    const toSign = 'GET\n\n\n\nx-amz-date:Tue, 01 Dec 2026 08:00:00 GMT\n/bucket/key';
    const headers: HeaderList = [
      ['Date', 'Mon, 01 Jan 2001 00:00:00 GMT'],
      ['X-Amz-Date', 'Tue, 01 Dec 2026 08:00:00 GMT'],
      ['Authorization', `AWS ${KEY}:${sign(toSign)}`],
    ];
    const req = { method: 'GET', rawTarget: '/bucket/key', headers };
    expect(await verifySigV2(req, at('2026-12-01T08:14:00Z'))).toMatchObject({ ok: true });
    expect(await verifySigV2(req, at('2026-12-01T08:16:00Z'))).toMatchObject({ ok: false, code: 'RequestTimeTooSkewed' });
    expect(await verifySigV2({ ...req, headers: [headers[2]] }, at('2026-12-01T08:00:00Z'))).toMatchObject({
      ok: false,
      code: 'AccessDenied',
    });
  });

  it('should not accept a presigned URL valid for more than 7 days, nor both auth forms at once', async () => {
    const expires = Math.floor(Date.parse('2026-12-09T00:00:00Z') / 1000);
    const toSign = `GET\n\n\n${expires}\n/bucket/key`;
    const target = `/bucket/key?AWSAccessKeyId=${KEY}&Expires=${expires}&Signature=${encodeURIComponent(sign(toSign))}`;
    expect(await verifySigV2({ method: 'GET', rawTarget: target, headers: [] }, at('2026-12-01T00:00:01Z'))).toMatchObject({
      ok: false,
      code: 'AuthorizationQueryParametersError',
    });
    expect(await verifySigV2({ method: 'GET', rawTarget: target, headers: [] }, at('2026-12-02T00:00:01Z'))).toMatchObject({ ok: true });
    expect(
      await verifySigV2(
        { method: 'GET', rawTarget: target, headers: [['Authorization', `AWS ${KEY}:${sign(toSign)}`]] },
        at('2026-12-02T00:00:01Z'),
      ),
    ).toMatchObject({ ok: false, code: 'InvalidArgument' });
  });

  it('takes x-amz-* query parameters of a presigned URL into the amz headers (botocore moves them there)', async () => {
    const toSign = 'GET\n\n\n1175139620\nx-amz-security-token:tok\n/bucket/key';
    const target = `/bucket/key?AWSAccessKeyId=${KEY}&Expires=1175139620&x-amz-security-token=tok&Signature=${encodeURIComponent(sign(toSign))}`;
    expect(await verifySigV2({ method: 'GET', rawTarget: target, headers: [] }, at('2007-03-29T03:00:00Z'))).toMatchObject({ ok: true });
    expect(
      await verifySigV2({ method: 'GET', rawTarget: target.replace('tok', 'other'), headers: [] }, at('2007-03-29T03:00:00Z')),
    ).toMatchObject({ ok: false });
  });

  it('tells SigV2 from SigV4 by the Authorization scheme or the presigned parameters', () => {
    expect(isSigV2(`AWS ${KEY}:sig`, '')).toBe(true);
    expect(isSigV2('AWS4-HMAC-SHA256 Credential=x', '')).toBe(false);
    expect(isSigV2(undefined, 'AWSAccessKeyId=a&Expires=1&Signature=s')).toBe(true);
    expect(isSigV2(undefined, 'X-Amz-Algorithm=AWS4-HMAC-SHA256')).toBe(false);
    expect(isSigV2(undefined, '')).toBe(false);
    expect(isSigV2(undefined, 'a=%zz')).toBe(false); // SigV4's to refuse as InvalidURI, not a throw here
  });

  it('reads HTTP dates and refuses anything else', () => {
    expect(parseHttpDate('Tue, 27 Mar 2007 19:36:42 +0000')).toBe(Date.parse('2007-03-27T19:36:42Z'));
    expect(parseHttpDate('Tue, 27 Mar 2007 19:36:42 GMT')).toBe(Date.parse('2007-03-27T19:36:42Z'));
    expect(parseHttpDate('20070327T193642Z')).toBeUndefined();
    expect(parseHttpDate('yesterday')).toBeUndefined();
  });
});
