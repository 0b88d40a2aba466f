/**
 * Server-side SigV4 verification (header and presigned-query forms), S3 rules.
 *
 * Order matters for the unknown-key rule: every check that does not need the secret runs
 * first; then the signing key is looked up and the signature computed whether or not the key
 * exists (a dummy key, kept per scope like a known one, stands in), and an unknown key yields
 * exactly the same failure as a wrong signature.
 *
 * The payload is not read here: the result says whether it is unsigned, aws-chunked streaming
 * (the caller must verify the chunk signature chain, seeded by `seedSignature`/`signingKey`),
 * or a SHA-256 the caller must check against the body (s3-payload.ts does both).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import {
  ALGORITHM,
  CanonicalizationError,
  STREAMING_PAYLOAD,
  STREAMING_PAYLOAD_TRAILER,
  STREAMING_UNSIGNED_TRAILER,
  UNSIGNED_PAYLOAD,
  buildCanonicalRequest,
  canonicalHeaders,
  canonicalQueryString,
  canonicalUri,
  credentialScope,
  headerValues,
  parseQuery,
  signature as computeSignature,
  signingKey as deriveSigningKey,
  splitTarget,
  stringToSign as buildStringToSign,
  type HeaderList,
  type QueryParam,
  type RawSignedRequest,
} from './canonical-request';

export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;
export const MAX_PRESIGNED_EXPIRES_S = 604800;

/** S3 error codes the caller renders as XML. */
export type S3AuthErrorCode =
  | 'AccessDenied'
  | 'AuthorizationHeaderMalformed'
  | 'AuthorizationQueryParametersError'
  | 'InvalidArgument'
  | 'InvalidRequest'
  | 'InvalidURI'
  | 'NotImplemented' // S3 error code: the answer S3 gives for an unsupported request variant
  | 'RequestTimeTooSkewed'
  | 'SignatureDoesNotMatch';

/** One reason per rule; the unknown-key case deliberately reports `signature-mismatch`. */
export type SigV4FailureReason =
  | 'missing-auth'
  | 'ambiguous-auth'
  | 'unsupported-algorithm'
  | 'malformed-authorization'
  | 'malformed-credential'
  | 'malformed-signed-headers'
  | 'malformed-signature'
  | 'missing-date'
  | 'malformed-date'
  | 'scope-date-mismatch'
  | 'region-mismatch'
  | 'service-mismatch'
  | 'host-not-signed'
  | 'amz-header-not-signed'
  | 'signed-header-missing'
  | 'clock-skew'
  | 'invalid-expires'
  | 'not-yet-valid'
  | 'expired'
  | 'missing-content-sha256'
  | 'invalid-content-sha256'
  | 'unsupported-payload'
  | 'missing-decoded-content-length'
  | 'invalid-uri'
  | 'signature-mismatch';

export interface SigV4Failure {
  ok: false;
  code: S3AuthErrorCode;
  reason: SigV4FailureReason;
  message: string;
}

export type PayloadMode =
  | { kind: 'unsigned' }
  | { kind: 'sha256'; sha256Hex: string }
  /** aws-chunked: chunks signed in chain (`signed`) or plain; `trailer` the one trailing checksum header declared. */
  | { kind: 'streaming'; decodedContentLength: number; signed: boolean; trailer?: string };

export interface SigV4Success {
  ok: true;
  version: 4;
  mode: 'header' | 'presigned';
  accessKeyId: string;
  /** `YYYYMMDDTHHMMSSZ` as signed. */
  amzDate: string;
  scope: string;
  signedHeaders: string[];
  payload: PayloadMode;
  /** The verified request signature: the seed of an aws-chunked signature chain. */
  seedSignature: string;
  /** Derived key for this scope, for verifying aws-chunked chunk signatures. */
  signingKey: Buffer;
}

export type SigV4Result = SigV4Success | SigV4Failure;

export type SecretLookup = (accessKeyId: string) => Promise<string | undefined>;

/** A signing key's scope: the day (`YYYYMMDD`), region and service it signs for. */
export interface SigningScope {
  date: string;
  region: string;
  service: string;
}

/** The derived signing key of an access key for a scope; undefined for a key no one holds. */
export type SigningKeyLookup = (accessKeyId: string, scope: SigningScope) => Promise<Buffer | undefined>;

/** A signing key lookup that derives the key from the secret every time (no cache). */
export function signingKeyFromSecret(lookupSecret: SecretLookup): SigningKeyLookup {
  return async (accessKeyId, { date, region, service }) => {
    const secret = await lookupSecret(accessKeyId);
    return secret === undefined ? undefined : deriveSigningKey(secret, date, region, service);
  };
}

export interface SigV4VerifierOptions {
  region: string;
  /** `s3` for the S3 API. */
  service: string;
  /** The key the request must have been signed with (a caller may keep derived keys: S3SigningKeys). */
  lookupSigningKey: SigningKeyLookup;
  now?: () => Date;
}

interface ParsedCredential {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
}

interface ParsedAuth {
  mode: 'header' | 'presigned';
  credential: ParsedCredential;
  signedHeaders: string[];
  signature: string;
  amzDate: string;
  amzTime: number;
  expiresS?: number;
}

const DUMMY_SECRET = randomBytes(30).toString('base64');
const dummyKeys = new Map<string, Buffer>();

/** The key an unknown access key is checked against (kept per scope, as a known key's is). */
function dummyKey(date: string, region: string, service: string): Buffer {
  const id = `${date}/${region}/${service}`;
  let key = dummyKeys.get(id);
  if (key === undefined) {
    if (dummyKeys.size >= 8) dummyKeys.clear();
    key = deriveSigningKey(DUMMY_SECRET, date, region, service);
    dummyKeys.set(id, key);
  }
  return key;
}
const SIGNATURE_RE = /^[0-9a-f]{64}$/;
const SHA256_RE = /^[0-9a-f]{64}$/;
const HEADER_NAME_RE = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;
const ACCESS_KEY_RE = /^[A-Za-z0-9._~+=-]{1,128}$/;
const REGION_RE = /^[a-z0-9-]{1,64}$/;
const AMZ_DATE_RE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const PRESIGN_PARAMS = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature'];

class Refusal extends Error {
  constructor(
    readonly code: S3AuthErrorCode,
    readonly reason: SigV4FailureReason,
    message: string,
  ) {
    super(message);
  }
}

function refuse(code: S3AuthErrorCode, reason: SigV4FailureReason, message: string): never {
  throw new Refusal(code, reason, message);
}

/** Parse `YYYYMMDDTHHMMSSZ` strictly; undefined if malformed or not a real instant. */
export function parseAmzDate(value: string): number | undefined {
  const m = AMZ_DATE_RE.exec(value);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  const t = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(t);
  if (
    back.getUTCFullYear() !== y ||
    back.getUTCMonth() !== mo - 1 ||
    back.getUTCDate() !== d ||
    back.getUTCHours() !== h ||
    back.getUTCMinutes() !== mi ||
    back.getUTCSeconds() !== s
  ) {
    return undefined;
  }
  return t;
}

function malformedCode(mode: 'header' | 'presigned'): S3AuthErrorCode {
  return mode === 'header' ? 'AuthorizationHeaderMalformed' : 'AuthorizationQueryParametersError';
}

function parseCredential(value: string, mode: 'header' | 'presigned'): ParsedCredential {
  const parts = value.split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request') {
    refuse(malformedCode(mode), 'malformed-credential', 'Credential must be AKID/YYYYMMDD/region/service/aws4_request');
  }
  const [accessKeyId, date, region, service] = parts;
  if (!ACCESS_KEY_RE.test(accessKeyId) || !/^\d{8}$/.test(date) || !REGION_RE.test(region) || !/^[a-z0-9-]{1,64}$/.test(service)) {
    refuse(malformedCode(mode), 'malformed-credential', 'Credential is malformed');
  }
  return { accessKeyId, date, region, service };
}

function parseSignedHeaders(value: string, mode: 'header' | 'presigned'): string[] {
  const names = value.split(';');
  for (let i = 0; i < names.length; i++) {
    if (!HEADER_NAME_RE.test(names[i]) || (i > 0 && names[i - 1] >= names[i])) {
      refuse(malformedCode(mode), 'malformed-signed-headers', 'SignedHeaders must be lowercase, sorted and unique');
    }
  }
  return names;
}

function checkSignatureFormat(value: string, mode: 'header' | 'presigned'): string {
  if (!SIGNATURE_RE.test(value)) refuse(malformedCode(mode), 'malformed-signature', 'Signature must be 64 lowercase hex characters');
  return value;
}

function parseAuthorizationHeader(value: string): Omit<ParsedAuth, 'amzDate' | 'amzTime'> {
  const sp = value.indexOf(' ');
  const algorithm = sp < 0 ? value : value.slice(0, sp);
  if (algorithm !== ALGORITHM) refuse('AuthorizationHeaderMalformed', 'unsupported-algorithm', `only ${ALGORITHM} is supported`);
  const fields = new Map<string, string>();
  for (const item of value.slice(sp + 1).split(',')) {
    const m = /^ ?([A-Za-z]+)=(\S+)$/.exec(item);
    if (!m || fields.has(m[1])) refuse('AuthorizationHeaderMalformed', 'malformed-authorization', 'Authorization header is malformed');
    fields.set(m[1], m[2]);
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (fields.size !== 3 || credential === undefined || signedHeaders === undefined || signature === undefined) {
    refuse(
      'AuthorizationHeaderMalformed',
      'malformed-authorization',
      'Authorization needs exactly Credential, SignedHeaders and Signature',
    );
  }
  return {
    mode: 'header',
    credential: parseCredential(credential, 'header'),
    signedHeaders: parseSignedHeaders(signedHeaders, 'header'),
    signature: checkSignatureFormat(signature, 'header'),
  };
}

function singleQueryValue(params: readonly QueryParam[], name: string, caseInsensitive = false): string | undefined {
  const key = caseInsensitive ? name.toLowerCase() : name;
  const hits = params.filter((p) => (caseInsensitive ? p.name.toString('latin1').toLowerCase() : p.name.toString('latin1')) === key);
  if (hits.length > 1) refuse('AuthorizationQueryParametersError', 'malformed-authorization', `${name} given more than once`);
  if (hits.length === 0) return undefined;
  const text = new TextDecoder('utf-8', { fatal: true });
  try {
    return text.decode(hits[0].value);
  } catch {
    return refuse('AuthorizationQueryParametersError', 'malformed-authorization', `${name} is not UTF-8`);
  }
}

function parsePresigned(params: readonly QueryParam[]): ParsedAuth {
  const get = (n: string): string => {
    const v = singleQueryValue(params, n);
    if (v === undefined) refuse('AuthorizationQueryParametersError', 'malformed-authorization', `${n} is required`);
    return v;
  };
  if (get('X-Amz-Algorithm') !== ALGORITHM)
    refuse('AuthorizationQueryParametersError', 'unsupported-algorithm', `only ${ALGORITHM} is supported`);
  const credential = parseCredential(get('X-Amz-Credential'), 'presigned');
  const amzDate = get('X-Amz-Date');
  const amzTime = parseAmzDate(amzDate);
  if (amzTime === undefined) refuse('AuthorizationQueryParametersError', 'malformed-date', 'X-Amz-Date must be YYYYMMDDTHHMMSSZ');
  const expires = get('X-Amz-Expires');
  const expiresS = /^[1-9]\d{0,6}$/.test(expires) ? Number(expires) : NaN;
  if (!(expiresS >= 1 && expiresS <= MAX_PRESIGNED_EXPIRES_S)) {
    refuse('AuthorizationQueryParametersError', 'invalid-expires', `X-Amz-Expires must be an integer 1..${MAX_PRESIGNED_EXPIRES_S}`);
  }
  return {
    mode: 'presigned',
    credential,
    signedHeaders: parseSignedHeaders(get('X-Amz-SignedHeaders'), 'presigned'),
    signature: checkSignatureFormat(get('X-Amz-Signature'), 'presigned'),
    amzDate,
    amzTime,
    expiresS,
  };
}

function singleHeader(headers: HeaderList, name: string, mode: 'header' | 'presigned'): string | undefined {
  const values = headerValues(headers, name);
  if (values.length > 1)
    refuse(
      mode === 'header' ? 'AuthorizationHeaderMalformed' : 'InvalidArgument',
      'malformed-authorization',
      `${name} given more than once`,
    );
  return values[0];
}

/** The checksums a trailer may carry (`x-amz-trailer`). */
export const TRAILER_CHECKSUMS = [
  'x-amz-checksum-crc32',
  'x-amz-checksum-crc32c',
  'x-amz-checksum-crc64nvme',
  'x-amz-checksum-sha1',
  'x-amz-checksum-sha256',
] as const;

function payloadMode(hash: string, headers: HeaderList, mode: 'header' | 'presigned'): PayloadMode {
  if (hash === UNSIGNED_PAYLOAD) return { kind: 'unsigned' };
  if (hash === STREAMING_PAYLOAD || hash === STREAMING_PAYLOAD_TRAILER || hash === STREAMING_UNSIGNED_TRAILER) {
    const raw = singleHeader(headers, 'x-amz-decoded-content-length', mode);
    if (raw === undefined || !/^(0|[1-9]\d{0,15})$/.test(raw)) {
      refuse('InvalidRequest', 'missing-decoded-content-length', 'aws-chunked uploads need x-amz-decoded-content-length');
    }
    const decodedContentLength = Number(raw);
    if (hash === STREAMING_PAYLOAD) return { kind: 'streaming', decodedContentLength, signed: true };
    // A trailer form declares its one trailing checksum up front, in a header the signature covers.
    const trailer = singleHeader(headers, 'x-amz-trailer', mode)?.trim().toLowerCase();
    if (trailer === undefined || !(TRAILER_CHECKSUMS as readonly string[]).includes(trailer))
      refuse('InvalidRequest', 'unsupported-payload', `${hash} needs x-amz-trailer naming one of ${TRAILER_CHECKSUMS.join(', ')}`);
    return { kind: 'streaming', decodedContentLength, signed: hash === STREAMING_PAYLOAD_TRAILER, trailer };
  }
  if (SHA256_RE.test(hash)) return { kind: 'sha256', sha256Hex: hash };
  // SigV4a (ECDSA) streaming is refused outright: NotImplemented is the S3 error code for that refusal.
  if (hash.startsWith('STREAMING-')) {
    refuse('NotImplemented', 'unsupported-payload', `${hash} is not supported: sign with SigV4 (HMAC-SHA256), not SigV4a`); // S3 error code
  }
  return refuse(
    'InvalidArgument',
    'invalid-content-sha256',
    'x-amz-content-sha256 must be a lowercase hex SHA-256, UNSIGNED-PAYLOAD or one of the STREAMING- forms',
  );
}

/** Verify a request's SigV4 signature. Never throws for a bad request; rethrows lookup failures. */
export async function verifySigV4(req: RawSignedRequest, opts: SigV4VerifierOptions): Promise<SigV4Result> {
  let prepared: { auth: ParsedAuth; canonicalRequest: string; payload: PayloadMode };
  try {
    prepared = prepare(req, opts);
  } catch (e) {
    if (e instanceof Refusal) return { ok: false, code: e.code, reason: e.reason, message: e.message };
    throw e;
  }
  const { auth, canonicalRequest, payload } = prepared;
  const { accessKeyId, date } = auth.credential;

  const found = await opts.lookupSigningKey(accessKeyId, { date, region: opts.region, service: opts.service });
  const known = found !== undefined;
  const scope = credentialScope(date, opts.region, opts.service);
  const key = found ?? dummyKey(date, opts.region, opts.service);
  const expected = Buffer.from(computeSignature(key, buildStringToSign(ALGORITHM, auth.amzDate, scope, canonicalRequest)), 'hex');
  const matches = timingSafeEqual(expected, Buffer.from(auth.signature, 'hex'));
  if (!(matches && known)) {
    return {
      ok: false,
      code: 'SignatureDoesNotMatch',
      reason: 'signature-mismatch',
      message: 'The request signature we calculated does not match the signature you provided.',
    };
  }
  return {
    ok: true,
    version: 4,
    mode: auth.mode,
    accessKeyId,
    amzDate: auth.amzDate,
    scope,
    signedHeaders: auth.signedHeaders,
    payload,
    seedSignature: auth.signature,
    signingKey: key,
  };
}

function prepare(req: RawSignedRequest, opts: SigV4VerifierOptions): { auth: ParsedAuth; canonicalRequest: string; payload: PayloadMode } {
  const { rawPath, rawQuery } = splitTarget(req.rawTarget);
  let params: QueryParam[];
  let uri: string;
  try {
    params = parseQuery(rawQuery);
    uri = canonicalUri(rawPath);
  } catch (e) {
    if (e instanceof CanonicalizationError) refuse('InvalidURI', 'invalid-uri', e.message);
    throw e;
  }

  const authHeaders = headerValues(req.headers, 'authorization');
  const presignedParams = params.some((p) => PRESIGN_PARAMS.includes(p.name.toString('latin1')));
  if (authHeaders.length > 0 && presignedParams) refuse('InvalidArgument', 'ambiguous-auth', 'Only one auth mechanism allowed');
  if (authHeaders.length === 0 && !presignedParams) {
    const sigV2 = params.some((p) => p.name.toString('latin1') === 'AWSAccessKeyId');
    refuse(
      'AccessDenied',
      'missing-auth',
      sigV2
        ? `SigV2 presigned URLs are not accepted; presign with ${ALGORITHM} (boto3: Config(signature_version='s3v4'))`
        : 'No SigV4 authentication in the request',
    );
  }
  if (authHeaders.length > 1) refuse('AuthorizationHeaderMalformed', 'malformed-authorization', 'more than one Authorization header');

  let auth: ParsedAuth;
  if (authHeaders.length === 1) {
    const partial = parseAuthorizationHeader(authHeaders[0]);
    const amzDate = singleHeader(req.headers, 'x-amz-date', 'header');
    if (amzDate === undefined) refuse('AccessDenied', 'missing-date', 'SigV4 needs an x-amz-date header');
    const amzTime = parseAmzDate(amzDate.trim());
    if (amzTime === undefined) refuse('AccessDenied', 'malformed-date', 'x-amz-date must be YYYYMMDDTHHMMSSZ');
    auth = { ...partial, amzDate: amzDate.trim(), amzTime };
  } else {
    auth = parsePresigned(params);
  }
  const mode = auth.mode;
  const { credential } = auth;

  if (credential.date !== auth.amzDate.slice(0, 8))
    refuse(malformedCode(mode), 'scope-date-mismatch', 'credential scope date must equal the X-Amz-Date date');
  if (credential.region !== opts.region) refuse(malformedCode(mode), 'region-mismatch', `the region is wrong; expecting '${opts.region}'`);
  if (credential.service !== opts.service)
    refuse(malformedCode(mode), 'service-mismatch', `the service is wrong; expecting '${opts.service}'`);
  if (!auth.signedHeaders.includes('host')) refuse(malformedCode(mode), 'host-not-signed', 'the host header must be signed');
  for (const [name] of req.headers) {
    const lower = name.toLowerCase();
    if (lower.startsWith('x-amz-') && !auth.signedHeaders.includes(lower)) {
      refuse('AccessDenied', 'amz-header-not-signed', 'There were headers present in the request which were not signed');
    }
  }

  const now = (opts.now ?? (() => new Date()))().getTime();
  if (mode === 'header') {
    if (Math.abs(now - auth.amzTime) > MAX_CLOCK_SKEW_MS) {
      refuse('RequestTimeTooSkewed', 'clock-skew', 'The difference between the request time and the current time is too large.');
    }
  } else {
    if (auth.amzTime - now > MAX_CLOCK_SKEW_MS) refuse('AccessDenied', 'not-yet-valid', 'Request is not valid yet');
    if (now > auth.amzTime + (auth.expiresS ?? 0) * 1000) refuse('AccessDenied', 'expired', 'Request has expired');
  }

  const headerHash = singleHeader(req.headers, 'x-amz-content-sha256', mode);
  let payloadHash: string;
  if (mode === 'header') {
    if (headerHash === undefined)
      refuse('InvalidRequest', 'missing-content-sha256', 'Missing required header for this request: x-amz-content-sha256');
    payloadHash = headerHash.trim();
  } else {
    // Clients hoist the header into the query in either spelling (smithy keeps it lowercase).
    payloadHash = singleQueryValue(params, 'X-Amz-Content-Sha256', true) ?? headerHash?.trim() ?? UNSIGNED_PAYLOAD;
  }
  const payload = payloadMode(payloadHash, req.headers, mode);

  const headerBlock = canonicalHeaders(req.headers, auth.signedHeaders);
  if (headerBlock.missing.length > 0)
    refuse('AccessDenied', 'signed-header-missing', `signed header(s) not in the request: ${headerBlock.missing.join(', ')}`);

  const canonicalRequest = buildCanonicalRequest({
    method: req.method,
    canonicalUri: uri,
    canonicalQuery: canonicalQueryString(params, mode === 'presigned' ? ['X-Amz-Signature'] : []),
    canonicalHeaders: headerBlock.block,
    signedHeaders: auth.signedHeaders,
    payloadHash,
  });
  return { auth, canonicalRequest, payload };
}
