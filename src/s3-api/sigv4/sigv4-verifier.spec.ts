import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { EMPTY_SHA256, STREAMING_PAYLOAD, UNSIGNED_PAYLOAD, sha256Hex, type HeaderList, type RawSignedRequest } from './canonical-request';
import { parseAmzDate, signingKeyFromSecret, verifySigV4, type SigV4Result, type SigV4VerifierOptions } from './sigv4-verifier';

type SourceData = string | ArrayBuffer | ArrayBufferView;

/** node:crypto behind smithy's hash interface; smithy is used only as the client here. */
class NodeSha256 {
  private readonly h: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuf(secret));
  }
  update(data: SourceData): void {
    this.h.update(toBuf(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(this.h.digest());
  }
}
function toBuf(d: SourceData): Buffer {
  if (typeof d === 'string') return Buffer.from(d, 'utf8');
  if (ArrayBuffer.isView(d)) return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  return Buffer.from(d);
}

const AKID = 'AKIDCAGETEST0001';
const SECRET = 'cage-test-secret/+abcdefghijklmnopqrstuv';
const REGION = 'us-east-1';
const NOW = new Date('2026-03-14T10:00:00Z');
const HOST = 'cage.local:9000';

const signer = new SignatureV4({
  credentials: { accessKeyId: AKID, secretAccessKey: SECRET },
  region: REGION,
  service: 's3',
  sha256: NodeSha256,
  uriEscapePath: false,
  applyChecksum: true,
});

function opts(over: Partial<SigV4VerifierOptions> = {}): SigV4VerifierOptions {
  return {
    region: REGION,
    service: 's3',
    lookupSigningKey: signingKeyFromSecret((id) => Promise.resolve(id === AKID ? SECRET : undefined)),
    now: () => NOW,
    ...over,
  };
}

function enc(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

interface ClientRequest {
  method?: string;
  /** Already URI-encoded once, as the S3 client sends it. */
  path?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string;
}

function toRaw(
  method: string,
  path: string,
  query: Record<string, string | string[] | null> | undefined,
  headers: Record<string, string>,
): RawSignedRequest {
  const qs = Object.entries(query ?? {})
    .map(([k, v]) => `${enc(k)}=${enc(typeof v === 'string' ? v : '')}`)
    .join('&');
  return { method, rawTarget: qs ? `${path}?${qs}` : path, headers: Object.entries(headers) };
}

function base(r: ClientRequest) {
  return {
    method: r.method ?? 'GET',
    protocol: 'http:',
    hostname: 'cage.local',
    port: 9000,
    path: r.path ?? '/bucket/key.dcm',
    query: r.query ?? {},
    headers: { host: HOST, ...(r.headers ?? {}) },
    body: r.body,
  };
}

async function signHeader(r: ClientRequest = {}, signingDate = NOW): Promise<RawSignedRequest> {
  const s = await signer.sign(base(r), { signingDate });
  return toRaw(s.method, s.path, s.query, s.headers);
}

/** As @aws-sdk/s3-request-presigner does: the payload is UNSIGNED-PAYLOAD. */
async function presign(r: ClientRequest = {}, expiresIn = 3600, signingDate = NOW): Promise<RawSignedRequest> {
  const req = base({ ...r, headers: { 'x-amz-content-sha256': UNSIGNED_PAYLOAD, ...(r.headers ?? {}) } });
  const s = await signer.presign(req, { signingDate, expiresIn });
  return toRaw(s.method, s.path, s.query, s.headers);
}

function setHeader(req: RawSignedRequest, name: string, value: string): RawSignedRequest {
  const headers: HeaderList = [...req.headers.filter(([n]) => n.toLowerCase() !== name.toLowerCase()), [name, value]];
  return { ...req, headers };
}

function authOf(req: RawSignedRequest): string {
  return req.headers.find(([n]) => n.toLowerCase() === 'authorization')![1];
}

function withAuth(req: RawSignedRequest, edit: (a: string) => string): RawSignedRequest {
  return setHeader(req, 'authorization', edit(authOf(req)));
}

function withQuery(req: RawSignedRequest, edit: (q: URLSearchParams) => void): RawSignedRequest {
  const [path, qs = ''] = req.rawTarget.split('?');
  const q = new URLSearchParams(qs);
  edit(q);
  const out = [...q.entries()].map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
  return { ...req, rawTarget: `${path}?${out}` };
}

function expectFail(r: SigV4Result, code: string, reason: string): void {
  expect(r.ok).toBe(false);
  if (!r.ok) expect({ code: r.code, reason: r.reason }).toEqual({ code, reason });
}

const at = (ms: number) => () => new Date(NOW.getTime() + ms);

describe('verifySigV4: round trips with @smithy/signature-v4 as the client', () => {
  it('accepts a header-signed GET with the empty-body hash', async () => {
    const r = await verifySigV4(await signHeader(), opts());
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.mode).toBe('header');
      expect(r.accessKeyId).toBe(AKID);
      expect(r.payload).toEqual({ kind: 'sha256', sha256Hex: EMPTY_SHA256 });
      expect(r.signedHeaders).toEqual(expect.arrayContaining(['host', 'x-amz-content-sha256', 'x-amz-date']));
    }
  });

  it('accepts a PUT with a body and says which SHA-256 the body must have', async () => {
    const body = 'DICM-pixels';
    const r = await verifySigV4(await signHeader({ method: 'PUT', body, headers: { 'x-amz-meta-study': 's1' } }), opts());
    expect(r.ok).toBe(true);
    if (r.ok && r.payload.kind === 'sha256') {
      // The body itself is checked against it by s3-payload.ts while it streams (tested through HTTP).
      expect(r.payload.sha256Hex).toBe(sha256Hex(body));
    } else {
      throw new Error('expected a sha256 payload');
    }
  });

  it('accepts keys with %2F, spaces, dot segments and UTF-8 exactly as encoded once by the client', async () => {
    for (const path of ['/bucket/a%2Fb', '/bucket/a%20b/c', '/bucket/a/../b', '/bucket//x', '/bucket/%E1%88%B4%25']) {
      const r = await verifySigV4(await signHeader({ path }), opts());
      expect({ path, ok: r.ok }).toEqual({ path, ok: true });
    }
  });

  it('accepts a query-bearing request (list-type=2&prefix=...)', async () => {
    const r = await verifySigV4(
      await signHeader({ path: '/bucket', query: { 'list-type': '2', prefix: 'a b/c+d', 'max-keys': '10' } }),
      opts(),
    );
    expect(r.ok).toBe(true);
  });

  it('reports UNSIGNED-PAYLOAD and STREAMING-AWS4-HMAC-SHA256-PAYLOAD', async () => {
    const u = await verifySigV4(await signHeader({ method: 'PUT', headers: { 'x-amz-content-sha256': UNSIGNED_PAYLOAD } }), opts());
    expect(u.ok && u.payload).toEqual({ kind: 'unsigned' });
    const s = await verifySigV4(
      await signHeader({
        method: 'PUT',
        headers: { 'x-amz-content-sha256': STREAMING_PAYLOAD, 'x-amz-decoded-content-length': '66560', 'content-encoding': 'aws-chunked' },
      }),
      opts(),
    );
    expect(s.ok && s.payload).toEqual({ kind: 'streaming', decodedContentLength: 66560, signed: true });
    const t = await verifySigV4(
      await signHeader({
        method: 'PUT',
        headers: {
          'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
          'x-amz-decoded-content-length': '5',
          'x-amz-trailer': 'x-amz-checksum-crc32c',
        },
      }),
      opts(),
    );
    expect(t.ok && t.payload).toEqual({ kind: 'streaming', decodedContentLength: 5, signed: false, trailer: 'x-amz-checksum-crc32c' });
    expect(s.ok && s.signingKey.length).toBe(32);
  });

  it('accepts a presigned GET', async () => {
    const pre = await presign();
    expect(pre.rawTarget).toContain('x-amz-content-sha256=UNSIGNED-PAYLOAD');
    const r = await verifySigV4(pre, opts());
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.mode).toBe('presigned');
      expect(r.payload).toEqual({ kind: 'unsigned' });
    }
  });

  it('accepts clock skew of 14m59s either way', async () => {
    const req = await signHeader();
    expect((await verifySigV4(req, opts({ now: at(14 * 60_000 + 59_000) }))).ok).toBe(true);
    expect((await verifySigV4(req, opts({ now: at(-(14 * 60_000 + 59_000)) }))).ok).toBe(true);
  });

  it('accepts a presigned URL until its last second', async () => {
    const req = await presign({}, 60);
    expect((await verifySigV4(req, opts({ now: at(60_000) }))).ok).toBe(true);
  });
});

describe('verifySigV4: refusals', () => {
  it('should not accept a tampered signature', async () => {
    const req = withAuth(await signHeader(), (a) => a.replace(/Signature=(.)/, (_m, c: string) => `Signature=${c === '0' ? '1' : '0'}`));
    expectFail(await verifySigV4(req, opts()), 'SignatureDoesNotMatch', 'signature-mismatch');
  });

  it('should not accept a request whose path, query, method, signed header or body hash changed', async () => {
    const req = await signHeader({ path: '/bucket/a', query: { x: '1' }, headers: { 'x-amz-meta-a': '1' } });
    const bad: RawSignedRequest[] = [
      { ...req, rawTarget: req.rawTarget.replace('/bucket/a', '/bucket/b') },
      { ...req, rawTarget: req.rawTarget.replace('x=1', 'x=2') },
      { ...req, method: 'DELETE' },
      setHeader(req, 'x-amz-meta-a', '2'),
      setHeader(req, 'host', 'evil.local'),
      setHeader(req, 'x-amz-content-sha256', sha256Hex('other')),
    ];
    for (const b of bad) expectFail(await verifySigV4(b, opts()), 'SignatureDoesNotMatch', 'signature-mismatch');
  });

  it('should not double-decode: a%252F signed is not a%2F', async () => {
    const req = await signHeader({ path: '/bucket/a%252Fb' });
    expect((await verifySigV4(req, opts())).ok).toBe(true);
    expectFail(await verifySigV4({ ...req, rawTarget: '/bucket/a%2Fb' }, opts()), 'SignatureDoesNotMatch', 'signature-mismatch');
  });

  it('should not distinguish an unknown access key from a bad signature (same result object)', async () => {
    const other = new SignatureV4({
      credentials: { accessKeyId: 'AKIDUNKNOWN0000', secretAccessKey: SECRET },
      region: REGION,
      service: 's3',
      sha256: NodeSha256,
      uriEscapePath: false,
    });
    const s = await other.sign(base({}), { signingDate: NOW });
    const unknown = await verifySigV4(toRaw(s.method, s.path, s.query, s.headers), opts());
    const tampered = await verifySigV4(
      withAuth(await signHeader(), (a) => a.replace(/Signature=[0-9a-f]{64}/, `Signature=${'ab'.repeat(32)}`)),
      opts(),
    );
    expect(unknown).toEqual(tampered);
    expectFail(unknown, 'SignatureDoesNotMatch', 'signature-mismatch');
  });

  it('should not accept an algorithm other than AWS4-HMAC-SHA256', async () => {
    const req = withAuth(await signHeader(), (a) => a.replace('AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA512'));
    expectFail(await verifySigV4(req, opts()), 'AuthorizationHeaderMalformed', 'unsupported-algorithm');
    const pre = withQuery(await presign(), (q) => q.set('X-Amz-Algorithm', 'AWS4-ECDSA-P256-SHA256'));
    expectFail(await verifySigV4(pre, opts()), 'AuthorizationQueryParametersError', 'unsupported-algorithm');
  });

  it('should not accept a malformed Authorization header', async () => {
    const req = await signHeader();
    const edits: Array<(a: string) => string> = [
      (a) => a.replace('Credential=', 'Credentials='),
      (a) => a.replace(', Signature=', ', Signature=x, Signature='),
      (a) => a + ', Extra=1',
      (a) => a.replace('SignedHeaders=', 'SignedHeaders=Host;'),
      (a) => a.replace(/SignedHeaders=([^,]+)/, (_m, h: string) => `SignedHeaders=${h.split(';').reverse().join(';')}`),
      (a) => a.replace('/aws4_request', '/aws4_reqest'),
      (a) => a.replace(/Credential=[^/]+/, 'Credential='),
    ];
    for (const e of edits) {
      const r = await verifySigV4(withAuth(req, e), opts());
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.code).toBe('AuthorizationHeaderMalformed');
    }
  });

  it('should not accept a scope date different from X-Amz-Date', async () => {
    const req = withAuth(await signHeader(), (a) => a.replace(/\/(\d{8})\//, '/20260313/'));
    expectFail(await verifySigV4(req, opts()), 'AuthorizationHeaderMalformed', 'scope-date-mismatch');
  });

  it("should not accept another region or service than the server's", async () => {
    const req = await signHeader();
    expectFail(await verifySigV4(req, opts({ region: 'eu-west-1' })), 'AuthorizationHeaderMalformed', 'region-mismatch');
    expectFail(await verifySigV4(req, opts({ service: 'sts' })), 'AuthorizationHeaderMalformed', 'service-mismatch');
    const pre = await presign();
    expectFail(await verifySigV4(pre, opts({ region: 'eu-west-1' })), 'AuthorizationQueryParametersError', 'region-mismatch');
  });

  it('should not accept a request that does not sign host', async () => {
    const req = withAuth(await signHeader(), (a) => a.replace('host;', ''));
    expectFail(await verifySigV4(req, opts()), 'AuthorizationHeaderMalformed', 'host-not-signed');
  });

  it('should not accept an x-amz-* header that is not signed (e.g. x-amz-copy-source)', async () => {
    const req = setHeader(await signHeader({ method: 'PUT' }), 'X-Amz-Copy-Source', '/other-bucket/secret');
    expectFail(await verifySigV4(req, opts()), 'AccessDenied', 'amz-header-not-signed');
    const pre = setHeader(await presign(), 'x-amz-copy-source', '/other-bucket/secret');
    expectFail(await verifySigV4(pre, opts()), 'AccessDenied', 'amz-header-not-signed');
  });

  it('should not accept a signed header that is absent', async () => {
    const req = await signHeader({ headers: { 'content-type': 'application/dicom' } });
    const without = { ...req, headers: req.headers.filter(([n]) => n.toLowerCase() !== 'content-type') };
    expectFail(await verifySigV4(without, opts()), 'AccessDenied', 'signed-header-missing');
  });

  it('should not accept a signature of 63 or 65 chars, or uppercase hex', async () => {
    const req = await signHeader();
    const sig = /Signature=([0-9a-f]{64})/.exec(authOf(req))![1];
    for (const bad of [sig.slice(1), sig + '0', sig.toUpperCase()]) {
      expectFail(
        await verifySigV4(
          withAuth(req, (a) => a.replace(sig, bad)),
          opts(),
        ),
        'AuthorizationHeaderMalformed',
        'malformed-signature',
      );
    }
    const pre = await presign();
    const psig = new URLSearchParams(pre.rawTarget.split('?')[1]).get('X-Amz-Signature')!;
    expectFail(
      await verifySigV4(
        withQuery(pre, (q) => q.set('X-Amz-Signature', psig.toUpperCase())),
        opts(),
      ),
      'AuthorizationQueryParametersError',
      'malformed-signature',
    );
  });

  it('should not accept clock skew of 15m01s either way', async () => {
    const req = await signHeader();
    expectFail(await verifySigV4(req, opts({ now: at(15 * 60_000 + 1000) })), 'RequestTimeTooSkewed', 'clock-skew');
    expectFail(await verifySigV4(req, opts({ now: at(-(15 * 60_000 + 1000)) })), 'RequestTimeTooSkewed', 'clock-skew');
  });

  it('should not accept a missing or malformed x-amz-date', async () => {
    const req = await signHeader();
    const without = { ...req, headers: req.headers.filter(([n]) => n.toLowerCase() !== 'x-amz-date') };
    expectFail(await verifySigV4(without, opts()), 'AccessDenied', 'missing-date');
    expectFail(await verifySigV4(setHeader(req, 'x-amz-date', '20260230T100000Z'), opts()), 'AccessDenied', 'malformed-date');
    expect(parseAmzDate('20260314T100000Z')).toBe(NOW.getTime());
    expect(parseAmzDate('2026-03-14T10:00:00Z')).toBeUndefined();
  });

  it('should not accept X-Amz-Expires of 0, -7, 604801 or abc', async () => {
    const pre = await presign();
    for (const bad of ['0', '-7', '604801', 'abc', '1.5', '']) {
      expectFail(
        await verifySigV4(
          withQuery(pre, (q) => q.set('X-Amz-Expires', bad)),
          opts(),
        ),
        'AuthorizationQueryParametersError',
        'invalid-expires',
      );
    }
  });

  it('accepts X-Amz-Expires of 604800 (signed by the client)', async () => {
    expect((await verifySigV4(await presign({}, 604800), opts({ now: at(604800_000) }))).ok).toBe(true);
  });

  it('should not accept an expired presigned URL, or one dated in the future', async () => {
    const pre = await presign({}, 60);
    expectFail(await verifySigV4(pre, opts({ now: at(61_000) })), 'AccessDenied', 'expired');
    expectFail(await verifySigV4(pre, opts({ now: at(-(16 * 60_000)) })), 'AccessDenied', 'not-yet-valid');
  });

  it('should not accept a presigned URL whose payload hash was swapped', async () => {
    const pre = withQuery(await presign({ method: 'PUT' }), (q) => q.set('x-amz-content-sha256', sha256Hex('other')));
    expectFail(await verifySigV4(pre, opts()), 'SignatureDoesNotMatch', 'signature-mismatch');
  });

  it('should not accept a presigned URL whose expiry was edited', async () => {
    const pre = withQuery(await presign({}, 60), (q) => q.set('X-Amz-Expires', '604800'));
    expectFail(await verifySigV4(pre, opts({ now: at(120_000) })), 'SignatureDoesNotMatch', 'signature-mismatch');
  });

  it('should not accept both auth mechanisms, or none', async () => {
    const pre = await presign();
    const req = await signHeader();
    expectFail(
      await verifySigV4({ ...pre, headers: [...pre.headers, ['Authorization', authOf(req)]] }, opts()),
      'InvalidArgument',
      'ambiguous-auth',
    );
    expectFail(
      await verifySigV4({ method: 'GET', rawTarget: '/bucket/k', headers: [['host', HOST]] }, opts()),
      'AccessDenied',
      'missing-auth',
    );
  });

  it('should not accept header auth without x-amz-content-sha256, or with a bad value', async () => {
    const signedNoHash = await new SignatureV4({
      credentials: { accessKeyId: AKID, secretAccessKey: SECRET },
      region: REGION,
      service: 's3',
      sha256: NodeSha256,
      uriEscapePath: false,
      applyChecksum: false,
    }).sign(base({}), { signingDate: NOW });
    expectFail(
      await verifySigV4(toRaw(signedNoHash.method, signedNoHash.path, signedNoHash.query, signedNoHash.headers), opts()),
      'InvalidRequest',
      'missing-content-sha256',
    );
    const bad = await signHeader({ headers: { 'x-amz-content-sha256': EMPTY_SHA256.toUpperCase() } });
    expectFail(await verifySigV4(bad, opts()), 'InvalidArgument', 'invalid-content-sha256');
  });

  it('should not accept unsupported streaming variants, a trailer form without its declared checksum, or aws-chunked without x-amz-decoded-content-length', async () => {
    const sigv4a = await signHeader({ method: 'PUT', headers: { 'x-amz-content-sha256': 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD' } });
    expectFail(await verifySigV4(sigv4a, opts()), 'NotImplemented', 'unsupported-payload'); // S3 error code
    for (const trailer of [undefined, 'x-amz-checksum-md5', 'x-amz-meta-note']) {
      const req = await signHeader({
        method: 'PUT',
        headers: {
          'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
          'x-amz-decoded-content-length': '5',
          ...(trailer === undefined ? {} : { 'x-amz-trailer': trailer }),
        },
      });
      expectFail(await verifySigV4(req, opts()), 'InvalidRequest', 'unsupported-payload');
    }
    const noLen = await signHeader({ method: 'PUT', headers: { 'x-amz-content-sha256': STREAMING_PAYLOAD } });
    expectFail(await verifySigV4(noLen, opts()), 'InvalidRequest', 'missing-decoded-content-length');
  });

  it('should not accept malformed percent-encoding in the target', async () => {
    const req = await signHeader();
    expectFail(await verifySigV4({ ...req, rawTarget: '/bucket/%zz' }, opts()), 'InvalidURI', 'invalid-uri');
  });
});
