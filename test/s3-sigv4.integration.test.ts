import { createHash } from 'node:crypto';
import { cpSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PolicyWatcher } from '../src/policy/policy-watcher';
import { PolicyEngine } from '../src/policy/policy.types';
import { egressExpectationsWithout, policyDirWith } from './support/policies';
import { OUTBOX_BUCKET } from '../src/egress/egress-release';
import { predictions } from './support/egress';
import { DATASET, type Fixture, POLICY_DIR, startFixture, TestClock } from './support/fixture';
import { type RawResponse, rawRequest } from './support/http';
import { awsChunked, awsChunkedLength, SigV4TestClient } from './support/sigv4-client';
import { AuditRepository } from '../src/audit/audit.repository';
import { EgressRepository } from '../src/egress/egress.repository';
import { ObjectStore } from '../src/storage/object-store.service';

/**
 * The SigV4 rules, each through HTTP against a running gateway whose clock stands still, so
 * skew and expiry are exact. Requests are signed by @smithy/signature-v4 (the AWS SDK's signer)
 * and then, where a rule needs it, altered by hand.
 */
const NOW = new Date('2026-11-26T12:00:00Z');
const OBJECT = `/${DATASET}/train/annotations.csv`;
const MIN = 60_000;

function code(r: RawResponse): string | undefined {
  return /<Code>([^<]*)<\/Code>/.exec(r.body.toString())?.[1];
}

function withoutRequestId(r: RawResponse): string {
  return r.body.toString().replace(/<RequestId>[^<]*<\/RequestId>/, '');
}

describe('SigV4 on the S3 API (pglite, s3rver, fixed clock)', () => {
  let f: Fixture;
  let dir: string;
  let alpha: SigV4TestClient;
  let beta: SigV4TestClient;
  const clock = new TestClock(NOW);
  beforeAll(async () => {
    dir = policyDirWith({});
    f = await startFixture({ db: 'pglite', clock, policyDir: dir });
    alpha = new SigV4TestClient(f.gateway.sandboxUrl, f.alpha);
    beta = new SigV4TestClient(f.gateway.sandboxUrl, f.beta);
  });
  afterAll(async () => {
    await f?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    clock.at = NOW;
  });

  const get = (date: Date, tamper?: Parameters<SigV4TestClient['send']>[1]) => alpha.send({ method: 'GET', path: OBJECT, date }, tamper);
  const outbox = async () => (await f.gateway.get(ObjectStore).list(OUTBOX_BUCKET, '', undefined, 1000)).objects.map((o) => o.key).sort();

  describe('clock skew (header auth)', () => {
    it.each([
      ['14m59s behind', -(14 * MIN + 59_000)],
      ['14m59s ahead', 14 * MIN + 59_000],
      ['exactly now', 0],
    ])('accepts a request signed %s', async (_, offset) => {
      const r = await get(new Date(NOW.getTime() + offset));
      expect(r.status).toBe(200);
      expect(r.body.equals(f.objects.get('train/annotations.csv')!)).toBe(true);
    });

    it.each([
      ['15m01s behind', -(15 * MIN + 1000)],
      ['15m01s ahead', 15 * MIN + 1000],
    ])('should not accept a request signed %s: RequestTimeTooSkewed', async (_, offset) => {
      const r = await get(new Date(NOW.getTime() + offset));
      expect(r.status).toBe(403);
      expect(code(r)).toBe('RequestTimeTooSkewed');
    });
  });

  describe('presigned URLs', () => {
    const presigned = (expiresIn: number) => alpha.presign({ method: 'GET', path: OBJECT, date: NOW, expiresIn });

    it.each([1, 604800])('accepts X-Amz-Expires=%s', async (expires) => {
      const r = await rawRequest(f.gateway.sandboxUrl, 'GET', await presigned(expires));
      expect(r.status).toBe(200);
    });

    it.each(['0', '-7', '604801', 'abc'])('should not accept X-Amz-Expires=%s', async (expires) => {
      const target = (await presigned(60)).replace(/X-Amz-Expires=\d+/, `X-Amz-Expires=${expires}`);
      const r = await rawRequest(f.gateway.sandboxUrl, 'GET', target);
      expect(r.status).toBe(403);
      expect(code(r)).toBe('AuthorizationQueryParametersError');
    });

    it('should not accept a URL past its expiry', async () => {
      const target = await presigned(60);
      clock.at = new Date(NOW.getTime() + 60_000);
      expect((await rawRequest(f.gateway.sandboxUrl, 'GET', target)).status).toBe(200);
      clock.at = new Date(NOW.getTime() + 61_000);
      const r = await rawRequest(f.gateway.sandboxUrl, 'GET', target);
      expect(r.status).toBe(403);
      expect(code(r)).toBe('AccessDenied');
    });

    it('should not accept a presigned URL whose path was changed', async () => {
      const target = (await presigned(60)).replace('annotations.csv', 'scan-1.raw');
      const r = await rawRequest(f.gateway.sandboxUrl, 'GET', target);
      expect(r.status).toBe(403);
      expect(code(r)).toBe('SignatureDoesNotMatch');
    });
  });

  describe('the Authorization header', () => {
    const authOf = (h: Record<string, string>) => Object.keys(h).find((k) => k.toLowerCase() === 'authorization')!;
    const edit = (fn: (auth: string) => string) => (s: { headers: Record<string, string> }) => {
      const k = authOf(s.headers);
      s.headers[k] = fn(s.headers[k]);
    };

    it.each([
      [
        'a scope date other than X-Amz-Date',
        edit((a) => a.replace(/Credential=([^/]+)\/\d{8}\//, '$1/20261125/'.replace('$1', 'Credential=$1'))),
      ],
      ['AWS4-HMAC-SHA512', edit((a) => a.replace('AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA512'))],
      ['host not signed', edit((a) => a.replace(/SignedHeaders=host;/, 'SignedHeaders='))],
      ['a 63-character signature', edit((a) => a.replace(/Signature=([0-9a-f]{64})/, (_, s: string) => `Signature=${s.slice(1)}`))],
      ['a 65-character signature', edit((a) => a.replace(/Signature=([0-9a-f]{64})/, (_, s: string) => `Signature=${s}0`))],
      ['an upper-case signature', edit((a) => a.replace(/Signature=([0-9a-f]{64})/, (_, s: string) => `Signature=${s.toUpperCase()}`))],
      [
        'one flipped signature digit',
        edit((a) => a.replace(/Signature=([0-9a-f])/, (_, c: string) => `Signature=${c === '0' ? '1' : '0'}`)),
      ],
    ])('should not accept %s: 403', async (_, tamper) => {
      const r = await get(NOW, tamper);
      expect(r.status).toBe(403);
      expect(r.body.toString()).not.toContain(f.objects.get('train/annotations.csv')!.toString());
    });

    it.each([
      ['region', { region: 'eu-west-1' }],
      ['service', { service: 'iam' }],
    ])('should not accept a credential scope with the wrong %s: 403', async (_, over) => {
      const r = await alpha.send({ method: 'GET', path: OBJECT, date: NOW, ...over });
      expect(r.status).toBe(403);
      expect(code(r)).toBe('AuthorizationHeaderMalformed');
    });

    it.each(['x-amz-meta-note', 'x-amz-copy-source', 'x-amz-tagging'])('should not accept an unsigned %s header: 403', async (header) => {
      const r = await get(NOW, (s) => {
        s.headers[header] = header === 'x-amz-copy-source' ? `${DATASET}/test/scan-9.raw` : 'k=v';
      });
      expect(r.status).toBe(403);
      expect(code(r)).toBe('AccessDenied');
    });

    it('answers an unknown access key exactly as a bad signature', async () => {
      const stranger = new SigV4TestClient(f.gateway.sandboxUrl, {
        accessKeyId: 'CAGEUNKNOWNKEY000000',
        secretAccessKey: f.alpha.secretAccessKey,
      });
      const unknown = await stranger.send({ method: 'GET', path: OBJECT, date: NOW });
      const wrongSecret = await new SigV4TestClient(f.gateway.sandboxUrl, {
        accessKeyId: f.alpha.accessKeyId,
        secretAccessKey: 'not-the-secret',
      }).send({ method: 'GET', path: OBJECT, date: NOW });
      expect(unknown.status).toBe(403);
      expect(wrongSecret.status).toBe(unknown.status);
      expect(withoutRequestId(wrongSecret)).toBe(withoutRequestId(unknown));
      expect(code(unknown)).toBe('SignatureDoesNotMatch');
    });

    it('should not accept the key of one job signing as another team', async () => {
      // beta's keys: the test split is beta's, the train split is not.
      const r = await beta.send({ method: 'GET', path: OBJECT, date: NOW });
      expect(r.status).toBe(404);
      expect(code(r)).toBe('NoSuchKey');
    });
  });

  describe('signed payloads (PutObject into the outbox)', () => {
    const body = predictions(['scan-9,10.2,-20.7,30.1,0.91234']);
    /** An authenticated upload leaves exactly one egress leaf; this one an abort naming why. */
    const expectOneAbortLeaf = async (r: { headers: Record<string, string | string[] | undefined> }, reason: string) => {
      const leaves = (await f.gateway.get(AuditRepository).find({ limit: 100_000 })).filter(
        (l) => l.leaf.requestId === r.headers['x-amz-request-id'],
      );
      expect(leaves.map((l) => l.leaf.action)).toEqual(['egress.abort']);
      expect(leaves[0].leaf).toMatchObject({ decision: 'deny', team: 'beta', detail: { reason } });
    };
    const put = (name: string, tamper?: Parameters<SigV4TestClient['send']>[1], payloadHash?: string) =>
      beta.send(
        { method: 'PUT', path: `/outbox/predictions/${name}`, date: NOW, body, headers: { 'content-type': 'text/csv' }, payloadHash },
        tamper,
      );

    it('releases a body whose SHA-256 was signed', async () => {
      const r = await put('ok.csv');
      expect(r.status).toBe(200);
      expect(r.headers['x-cage-egress-status']).toBe('released');
    });

    it('should not accept one flipped byte in a signed body: XAmzContentSHA256Mismatch, outbox unchanged', async () => {
      const before = await outbox();
      const leaves = await f.gateway.get(AuditRepository).size();
      const r = await put('flipped.csv', (s) => {
        s.body = Buffer.from(s.body!);
        s.body[s.body.length - 3] ^= 0x01;
      });
      expect(r.status).toBe(400);
      expect(code(r)).toBe('XAmzContentSHA256Mismatch');
      expect(await outbox()).toEqual(before);
      // The attempt was authenticated: exactly one leaf, an abort naming why.
      expect(await f.gateway.get(AuditRepository).size()).toBe(leaves + 1);
      const [leaf] = await f.gateway.get(AuditRepository).find({ after: leaves - 1, limit: 1 });
      expect(leaf.leaf).toMatchObject({ action: 'egress.abort', decision: 'deny', detail: { reason: 'XAmzContentSHA256Mismatch' } });
    });

    it('should not refuse on bytes the signature does not cover: a tampered first line is an abort, not a charged refusal', async () => {
      const r = await put('first-byte.csv', (sent) => {
        sent.body = Buffer.from(sent.body!);
        sent.body[0] = 0x23; // '#': a comment line the checker would refuse at line 1
      });
      expect(r.status).toBe(400);
      expect(code(r)).toBe('XAmzContentSHA256Mismatch');
      await expectOneAbortLeaf(r, 'XAmzContentSHA256Mismatch');
      expect(
        (await f.gateway.get(EgressRepository).list({ team: 'beta', status: 'rejected', limit: 1000 })).filter((a) =>
          a.reasons.some((x) => x.code === 'comment_line'),
        ),
      ).toEqual([]);
    });

    it('should not accept an outbox write with a sub-resource the gateway does not offer without its leaf', async () => {
      const tagging = await beta.send({
        method: 'PUT',
        path: '/outbox/predictions/x.csv',
        query: { tagging: '' },
        date: NOW,
        body,
        headers: { 'content-type': 'text/csv' },
      });
      expect(tagging.status).toBe(501);
      await expectOneAbortLeaf(tagging, 'NotImplemented');
      const restore = await beta.send({
        method: 'POST',
        path: '/outbox/predictions/x.csv',
        query: { restore: '' },
        date: NOW,
        body: Buffer.alloc(0),
      });
      expect(restore.status).toBe(501);
      await expectOneAbortLeaf(restore, 'NotImplemented');
    });

    it('should not accept a body whose Content-MD5 does not match: BadDigest, one abort leaf, outbox unchanged', async () => {
      const before = await outbox();
      const wrong = createHash('md5').update('something else').digest('base64');
      const r = await beta.send({
        method: 'PUT',
        path: '/outbox/predictions/md5.csv',
        date: NOW,
        body,
        headers: { 'content-type': 'text/csv', 'content-md5': wrong },
      });
      expect(r.status).toBe(400);
      expect(code(r)).toBe('BadDigest');
      expect(await outbox()).toEqual(before);
      await expectOneAbortLeaf(r, 'BadDigest');
    });

    it('should not accept an upload refused on its headers without a leaf (a key that names no kind, a malformed digest)', async () => {
      const noKind = await beta.send({
        method: 'PUT',
        path: '/outbox/no-kind-here',
        date: NOW,
        body,
        headers: { 'content-type': 'text/csv' },
      });
      expect(noKind.status).toBe(400);
      await expectOneAbortLeaf(noKind, 'InvalidArgument');
      const badDigest = await beta.send({
        method: 'PUT',
        path: '/outbox/predictions/d.csv',
        date: NOW,
        body,
        headers: { 'content-type': 'text/csv', 'content-md5': 'not-base64!' },
      });
      expect(badDigest.status).toBe(400);
      await expectOneAbortLeaf(badDigest, 'InvalidDigest');
    });

    it('releases an UNSIGNED-PAYLOAD upload by default (checked and charged like any other), and reads may be unsigned', async () => {
      const r = await put('unsigned.csv', undefined, 'UNSIGNED-PAYLOAD');
      expect(r.status).toBe(200);
      expect(r.headers['x-cage-egress-status']).toBe('released');
      const read = await alpha.send({ method: 'GET', path: OBJECT, date: NOW, payloadHash: 'UNSIGNED-PAYLOAD' });
      expect(read.status).toBe(200);
    });

    it('should not release an UNSIGNED-PAYLOAD upload once the operator activates egress-signed-payload-only', async () => {
      const forbid =
        '@id("egress-signed-payload-only")\nforbid (principal, action == Cage::Action::"egress", resource)\nwhen { context.payload == "unsigned" };\n';
      writeFileSync(join(dir, 'signed-only.cedar'), forbid);
      writeFileSync(
        join(dir, 'tests', 'egress.json'),
        egressExpectationsWithout(
          'an S3 upload with an unsigned body (UNSIGNED-PAYLOAD, the unsigned trailer, SigV2) leaves, checked like any other',
        ),
      );
      await f.gateway.get(PolicyWatcher).reload();
      expect(f.gateway.get(PolicyEngine).active.files).toContain('signed-only.cedar');
      try {
        const before = await outbox();
        // Alpha's job: beta's daily cap is the other tests'.
        const r = await alpha.send({
          method: 'PUT',
          path: '/outbox/predictions/unsigned-refused.csv',
          date: NOW,
          body,
          headers: { 'content-type': 'text/csv' },
          payloadHash: 'UNSIGNED-PAYLOAD',
        });
        expect(r.status).toBe(403);
        expect(code(r)).toBe('AccessDenied');
        expect(r.body.toString()).toContain('egress-signed-payload-only');
        expect(await outbox()).toEqual(before);
      } finally {
        unlinkSync(join(dir, 'signed-only.cedar'));
        cpSync(join(POLICY_DIR, 'tests', 'egress.json'), join(dir, 'tests', 'egress.json'));
        await f.gateway.get(PolicyWatcher).reload();
      }
    });

    it('should not accept SigV4a streaming (501), nor a trailer form that declares no trailing checksum (400)', async () => {
      const sigv4a = await put('sigv4a.csv', undefined, 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD');
      expect([sigv4a.status, code(sigv4a)]).toEqual([501, 'NotImplemented']);
      for (const hash of ['STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER']) {
        const r = await put('trailer.csv', undefined, hash);
        expect([r.status, code(r)]).toEqual([400, 'InvalidRequest']);
      }
    });

    describe('aws-chunked (STREAMING-AWS4-HMAC-SHA256-PAYLOAD)', () => {
      const parts = [Buffer.from(body.slice(0, 20)), Buffer.from(body.slice(20, 50)), Buffer.from(body.slice(50))];
      /** `flip`: which chunk gets one byte of its data flipped. */
      const chunkedPut = async (name: string, order?: number[], flip?: number) => {
        const headers = {
          'content-encoding': 'aws-chunked',
          'content-type': 'text/csv',
          'x-amz-decoded-content-length': String(body.length),
          'content-length': String(awsChunkedLength(parts.map((p) => p.length))),
        };
        return beta.send(
          { method: 'PUT', path: `/outbox/predictions/${name}`, date: NOW, headers, payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' },
          (s) => {
            const auth = Object.entries(s.headers).find(([k]) => k.toLowerCase() === 'authorization')![1];
            const seed = /Signature=([0-9a-f]{64})/.exec(auth)![1];
            const signed = awsChunked(
              parts,
              seed,
              { secret: f.beta.secretAccessKey, date: '20261126', region: 'us-east-1' },
              '20261126T120000Z',
            );
            const encoded = signed.encode(order);
            if (flip !== undefined) {
              // The last data byte of chunk `flip`: just before its closing CRLF.
              const end = signed.chunks.slice(0, flip + 1).reduce((n, c) => n + c.length, 0);
              encoded[end - 3] ^= 0x01;
            }
            s.body = encoded;
          },
        );
      };

      it('releases a body whose chunk signatures chain', async () => {
        const r = await chunkedPut('chunked.csv');
        expect(r.status).toBe(200);
        expect(r.headers['x-cage-egress-status']).toBe('released');
      });

      it('should not accept a tampered chunk, outbox unchanged', async () => {
        const before = await outbox();
        const r = await chunkedPut('tampered.csv', undefined, 1);
        expect(r.status).toBe(403);
        expect(code(r)).toBe('SignatureDoesNotMatch');
        expect(await outbox()).toEqual(before);
        await expectOneAbortLeaf(r, 'SignatureDoesNotMatch');
      });

      it('should not read an upload that declares more than the kind allows: EntityTooLarge at once', async () => {
        const before = await outbox();
        const headers = {
          'content-encoding': 'aws-chunked',
          'x-amz-decoded-content-length': String(64 * 1024 * 1024),
          'content-length': String(awsChunkedLength([3])),
        };
        const r = await beta.send(
          { method: 'PUT', path: '/outbox/predictions/huge.csv', date: NOW, headers, payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' },
          (s) => {
            const seed = /Signature=([0-9a-f]{64})/.exec(
              Object.entries(s.headers).find(([k]) => k.toLowerCase() === 'authorization')![1],
            )![1];
            s.body = awsChunked(
              [Buffer.from('abc')],
              seed,
              { secret: f.beta.secretAccessKey, date: '20261126', region: 'us-east-1' },
              '20261126T120000Z',
            ).encode();
          },
        );
        expect(r.status).toBe(413);
        expect(code(r)).toBe('EntityTooLarge');
        expect(await outbox()).toEqual(before);
      });

      it('should not accept reordered chunks, outbox unchanged', async () => {
        const before = await outbox();
        const r = await chunkedPut('reordered.csv', [1, 0, 2, 3]);
        expect(r.status).toBe(403);
        expect(code(r)).toBe('SignatureDoesNotMatch');
        expect(await outbox()).toEqual(before);
        await expectOneAbortLeaf(r, 'SignatureDoesNotMatch');
      });
    });
  });
});
