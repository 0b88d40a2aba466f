/**
 * Server-side SigV2 verification (S3's HMAC-SHA1 signatures): the `Authorization: AWS key:sig`
 * header and the query-string form (`AWSAccessKeyId`, `Expires`, `Signature`) that boto3 with a
 * custom endpoint, aws-cli v1's `s3 presign` and s3cmd's `signurl` produce by default.
 *
 * Written here, not taken from a library: no maintained npm package verifies SigV2 server-side
 * (the SDKs only sign), and the rules are S3's "Signing and authenticating REST requests" page:
 *
 *   StringToSign = Verb \n Content-MD5 \n Content-Type \n Date|Expires \n
 *                  CanonicalizedAmzHeaders CanonicalizedResource
 *
 * - Date is the `Date` header, or empty when `x-amz-date` is sent (it is then an amz header); the
 *   query form signs `Expires` (seconds since the epoch) in its place.
 * - CanonicalizedAmzHeaders: every `x-amz-*` header, lowercased, sorted, repeated values joined
 *   with ",", each value unfolded and trimmed, `name:value\n` each. The query form also takes
 *   `x-amz-*` parameters (botocore moves the headers of a presigned request there).
 * - CanonicalizedResource: `/bucket` (virtual-hosted) and the path exactly as sent, then the
 *   sub-resources S3 names (`?uploads`, `?partNumber=1&uploadId=…`, `response-*` overrides),
 *   sorted by name, values decoded.
 *
 * Bounds as SigV4's: a header-signed request's date within 15 minutes of ours, a presigned URL
 * valid for at most 7 days from now. As in SigV4, an unknown key is answered exactly like a wrong
 * signature, after the same HMAC. SigV2 never covers the body: only a signed Content-MD5 binds it.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { type HeaderList, headerValues, parseQuery, splitTarget } from '../sigv4/canonical-request';
import { MAX_CLOCK_SKEW_MS, MAX_PRESIGNED_EXPIRES_S, type S3AuthErrorCode } from '../sigv4/sigv4-verifier';

export interface SigV2Request {
  method: string;
  rawTarget: string;
  headers: HeaderList;
  /** The bucket named by the Host (virtual-hosted style), which the resource then begins with. */
  hostBucket?: string;
}

export interface SigV2Success {
  ok: true;
  version: 2;
  mode: 'header' | 'presigned';
  accessKeyId: string;
  /** The Content-MD5 the signature covers, if any (base64, as sent): the only binding of a body. */
  contentMd5?: string;
}

export interface SigV2Failure {
  ok: false;
  code: S3AuthErrorCode;
  message: string;
}

export interface SigV2Options {
  lookupSecret: (accessKeyId: string) => Promise<string | undefined>;
  now: () => Date;
}

/** The sub-resources a SigV2 signature covers (S3's list, as the SDKs sign them). */
const SUB_RESOURCES = new Set([
  'accelerate',
  'acl',
  'analytics',
  'cors',
  'delete',
  'inventory',
  'lifecycle',
  'location',
  'logging',
  'metrics',
  'notification',
  'object-lock',
  'partNumber',
  'policy',
  'replication',
  'requestPayment',
  'response-cache-control',
  'response-content-disposition',
  'response-content-encoding',
  'response-content-language',
  'response-content-type',
  'response-expires',
  'restore',
  'select',
  'select-type',
  'storageClass',
  'tagging',
  'torrent',
  'uploadId',
  'uploads',
  'versionId',
  'versioning',
  'versions',
  'website',
]);

/** Query parameters of the presigned form: authentication, not the operation. */
export const SIGV2_QUERY_PARAMS = ['AWSAccessKeyId', 'Expires', 'Signature'] as const;

const ACCESS_KEY_RE = /^[A-Za-z0-9._~+=-]{1,128}$/;
/** Base64 of a 20-byte HMAC-SHA1. */
const SIGNATURE_RE = /^[A-Za-z0-9+/]{27}=$/;
const DUMMY_SECRET = randomBytes(30).toString('base64');
const UTF8 = new TextDecoder('utf-8', { fatal: true });

class Refusal extends Error {
  constructor(
    readonly code: S3AuthErrorCode,
    message: string,
  ) {
    super(message);
  }
}
const refuse = (code: S3AuthErrorCode, message: string): never => {
  throw new Refusal(code, message);
};

/** Whether a request is signed with SigV2 (header `AWS key:sig`, or the presigned parameters). */
export function isSigV2(authorization: string | undefined, rawQuery: string): boolean {
  if (authorization !== undefined) return /^AWS [^ ]/.test(authorization);
  // A query that cannot be read is SigV4's to refuse (400 InvalidURI), as before SigV2 existed.
  return /(^|&)(AWSAccessKeyId|Signature)=/.test(rawQuery);
}

/** Verify a SigV2 request. Never throws for a bad request; rethrows lookup failures. */
export async function verifySigV2(req: SigV2Request, opts: SigV2Options): Promise<SigV2Success | SigV2Failure> {
  let parsed: { mode: 'header' | 'presigned'; accessKeyId: string; signature: string; toSign: string[]; contentMd5?: string };
  try {
    parsed = prepare(req, opts.now());
  } catch (e) {
    if (e instanceof Refusal) return { ok: false, code: e.code, message: e.message };
    throw e;
  }
  const secret = await opts.lookupSecret(parsed.accessKeyId);
  const given = Buffer.from(parsed.signature, 'base64');
  // Every spelling is computed and compared (constant time each), whatever matched first.
  let matched = false;
  for (const toSign of parsed.toSign) {
    const expected = createHmac('sha1', secret ?? DUMMY_SECRET)
      .update(toSign, 'utf8')
      .digest();
    if (given.length === expected.length && timingSafeEqual(given, expected)) matched = true;
  }
  if (!(matched && secret !== undefined)) {
    return {
      ok: false,
      code: 'SignatureDoesNotMatch',
      message: 'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    };
  }
  return {
    ok: true,
    version: 2,
    mode: parsed.mode,
    accessKeyId: parsed.accessKeyId,
    ...(parsed.contentMd5 === undefined ? {} : { contentMd5: parsed.contentMd5 }),
  };
}

function prepare(req: SigV2Request, now: Date) {
  const { rawPath, rawQuery } = splitTarget(req.rawTarget);
  const params = decodedQuery(rawQuery);
  const one = (name: string): string | undefined => {
    const v = headerValues(req.headers, name);
    if (v.length > 1) refuse('InvalidArgument', `${name} given more than once`);
    return v[0];
  };
  const authorization = one('authorization');
  const queryAuth = params.filter(([n]) => (SIGV2_QUERY_PARAMS as readonly string[]).includes(n));
  if (authorization !== undefined && queryAuth.length > 0)
    refuse('InvalidArgument', 'Only one auth mechanism allowed; only the Authorization header or the query string may sign a request');

  let mode: 'header' | 'presigned';
  let accessKeyId: string;
  let signature: string;
  let dateLine: string;
  const amz = new Map<string, string[]>();
  for (const [name, value] of req.headers) {
    const lower = name.toLowerCase();
    if (lower.startsWith('x-amz-')) amz.set(lower, [...(amz.get(lower) ?? []), value]);
  }
  let contentMd5 = one('content-md5');
  let contentType = one('content-type');

  if (authorization !== undefined) {
    mode = 'header';
    const m = /^AWS ([^:\s]+):(\S+)$/.exec(authorization);
    if (m === null) return refuse('InvalidArgument', 'Authorization must be "AWS AccessKeyId:Signature"');
    [accessKeyId, signature] = [m[1], m[2]];
    const amzDate = amz.get('x-amz-date');
    if (amzDate !== undefined && amzDate.length > 1) refuse('InvalidArgument', 'x-amz-date given more than once');
    const date = amzDate?.[0] ?? one('date');
    if (date === undefined) return refuse('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
    const at = parseHttpDate(date);
    if (at === undefined) return refuse('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
    if (Math.abs(at - now.getTime()) > MAX_CLOCK_SKEW_MS)
      refuse('RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.');
    // With x-amz-date the Date line is empty (the amz header carries the time).
    dateLine = amzDate === undefined ? date : '';
  } else {
    mode = 'presigned';
    const get = (n: string): string => {
      const hits = params.filter(([name]) => name === n);
      if (hits.length !== 1)
        refuse('AccessDenied', 'Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters');
      return hits[0][1];
    };
    accessKeyId = get('AWSAccessKeyId');
    signature = get('Signature');
    const expires = get('Expires');
    if (!/^\d{1,12}$/.test(expires)) return refuse('AccessDenied', 'Expires must be seconds since the epoch');
    const expiresMs = Number(expires) * 1000;
    if (expiresMs <= now.getTime()) refuse('AccessDenied', 'Request has expired');
    if (expiresMs - now.getTime() > MAX_PRESIGNED_EXPIRES_S * 1000)
      refuse(
        'AuthorizationQueryParametersError',
        `a presigned URL is valid for at most ${MAX_PRESIGNED_EXPIRES_S} seconds (7 days) from now`,
      );
    dateLine = expires;
    // botocore puts a presigned request's x-amz-*, Content-Type and Content-MD5 in the query.
    for (const [name, value] of params) {
      const lower = name.toLowerCase();
      if (lower.startsWith('x-amz-')) amz.set(lower, [...(amz.get(lower) ?? []), value]);
      if (lower === 'content-type' && contentType === undefined) contentType = value;
      if (lower === 'content-md5' && contentMd5 === undefined) contentMd5 = value;
    }
  }
  if (!ACCESS_KEY_RE.test(accessKeyId)) refuse('InvalidArgument', 'the access key id is malformed');
  if (!SIGNATURE_RE.test(signature)) refuse('SignatureDoesNotMatch', 'The request signature is not a base64 HMAC-SHA1.');

  const amzLines = [...amz.keys()]
    .sort()
    .map((name) => `${name}:${(amz.get(name) ?? []).map((v) => v.replace(/\s*\r?\n\s*/g, ' ').trim()).join(',')}\n`)
    .join('');
  const subResources = params
    .filter(([name]) => SUB_RESOURCES.has(name))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value, hasValue]) => (hasValue ? `${name}=${value}` : name));
  const path = (req.hostBucket === undefined ? '' : `/${req.hostBucket}`) + rawPath;
  const resources = [path + (subResources.length > 0 ? `?${subResources.join('&')}` : '')];
  // botocore signs the fixed query of ListObjectsV2's URI with its path (`/bucket?list-type=2`):
  // that spelling is accepted too. It says no less than S3's (the parameter is in the request).
  const listType = params.find(([name]) => name === 'list-type');
  if (listType !== undefined && subResources.length === 0) resources.push(`${path}?list-type=${listType[1]}`);
  const head = `${req.method}\n${contentMd5 ?? ''}\n${contentType ?? ''}\n${dateLine}\n${amzLines}`;
  return { mode, accessKeyId, signature, toSign: resources.map((r) => head + r), ...(contentMd5 === undefined ? {} : { contentMd5 }) };
}

/** The query as decoded (name, value, whether it had `=`); text must be UTF-8. */
function decodedQuery(rawQuery: string): [name: string, value: string, hasValue: boolean][] {
  const out: [string, string, boolean][] = [];
  let params;
  try {
    params = parseQuery(rawQuery);
  } catch {
    return refuse('InvalidURI', "Couldn't parse the specified URI.");
  }
  const parts = rawQuery === '' ? [] : rawQuery.split('&').filter((p) => p !== '');
  params.forEach((p, i) => {
    try {
      out.push([UTF8.decode(p.name), UTF8.decode(p.value), parts[i].includes('=')]);
    } catch {
      refuse('InvalidURI', 'Query parameters must be UTF-8.');
    }
  });
  return out;
}

/** An HTTP date (RFC 7231 IMF-fixdate, or RFC 850 / asctime as `Date.parse` reads them) in ms. */
export function parseHttpDate(value: string): number | undefined {
  if (!/^[A-Za-z]{3},? ?\d{1,2}[ -][A-Za-z]{3}[ -]\d{2,4} \d{2}:\d{2}:\d{2} (GMT|UTC|\+0000)$/.test(value.trim())) return undefined;
  const t = Date.parse(value);
  return Number.isFinite(t) ? t : undefined;
}
