/**
 * Which S3 operation a path-style request is, read from the raw request target. The bucket and
 * key are percent-decoded exactly once, here, from the same raw path SigV4 signed, so the key
 * that policy decides on is the key that was signed and the key the store is asked for.
 */
import { BadKeyError, decodePathSegment, validateObjectKey } from '../data-plane/object-key';
import { S3Error, invalidArgument, unsupported } from './s3-error';
import { SIGV2_QUERY_PARAMS } from './sigv2/sigv2-verifier';
import { parseQuery, splitTarget } from './sigv4/canonical-request';

/** The bucket every job may write to (PutObject runs the egress pipeline); never listed or read. */
export const OUTBOX = 'outbox';

export type S3Operation =
  | { op: 'ListBuckets' }
  | { op: 'HeadBucket'; bucket: string }
  | { op: 'GetBucketLocation'; bucket: string }
  | { op: 'ListObjects'; bucket: string; version: 1 | 2; query: Map<string, string> }
  | { op: 'GetObject' | 'HeadObject'; bucket: string; key: string }
  | { op: 'PutObject'; bucket: string; key: string }
  /** PUT on a bucket: buckets are the organizers', so only "it is yours already" (S3's answer to re-creating one). */
  | { op: 'CreateBucket'; bucket: string }
  /** POST ?delete: answered per key (AccessDenied), as S3 answers a multi-object delete. */
  | { op: 'DeleteObjects'; bucket: string }
  /** Multipart uploads, into the outbox only. */
  | { op: 'CreateMultipartUpload'; bucket: string; key: string }
  | { op: 'UploadPart'; bucket: string; key: string; uploadId: string; partNumber: number }
  | { op: 'ListParts'; bucket: string; key: string; uploadId: string; maxParts: number; marker: number }
  | { op: 'CompleteMultipartUpload' | 'AbortMultipartUpload'; bucket: string; key: string; uploadId: string }
  | { op: 'ListMultipartUploads'; bucket: string };

const readOnlyDataset = () => new S3Error(403, 'AccessDenied', 'Dataset buckets are read-only; artifacts leave through the outbox bucket.');

/** Query parameters that are part of authentication or client bookkeeping, not of the operation. */
const IGNORED = new Set([
  'x-id',
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
  'X-Amz-Security-Token',
  'X-Amz-Content-Sha256',
  'x-amz-content-sha256',
  // SigV2's presigned form (its x-amz-* parameters are signed headers moved into the query).
  ...SIGV2_QUERY_PARAMS,
]);
const LIST_PARAMS = new Set([
  'list-type',
  'prefix',
  'delimiter',
  'max-keys',
  'continuation-token',
  'start-after',
  'encoding-type',
  'fetch-owner',
  'marker',
]);
const UTF8 = new TextDecoder('utf-8', { fatal: true });

function queryOf(rawQuery: string): Map<string, string> {
  const out = new Map<string, string>();
  let params;
  try {
    params = parseQuery(rawQuery);
  } catch {
    throw new S3Error(400, 'InvalidURI', "Couldn't parse the specified URI.");
  }
  for (const p of params) {
    let name: string;
    let value: string;
    try {
      name = UTF8.decode(p.name);
      value = UTF8.decode(p.value);
    } catch {
      throw new S3Error(400, 'InvalidURI', 'Query parameters must be UTF-8.');
    }
    // Headers a presigned URL carries in its query are read as headers (s3.controller.ts), not as the operation's.
    if (IGNORED.has(name) || name.startsWith('x-amz-') || name === 'content-md5' || name === 'content-type') continue;
    if (out.has(name)) throw invalidArgument(`query parameter ${name} given more than once`);
    out.set(name, value);
  }
  return out;
}

/** Names the unsupported sub-resource or parameter, if any. */
function unknownParam(query: Map<string, string>, allowed: ReadonlySet<string>): string | undefined {
  return [...query.keys()].find((k) => !allowed.has(k));
}

export function parseS3Request(method: string, rawTarget: string): S3Operation {
  const { rawPath, rawQuery } = splitTarget(rawTarget);
  const query = queryOf(rawQuery);
  if (!rawPath.startsWith('/')) throw new S3Error(400, 'InvalidURI', "Couldn't parse the specified URI.");
  const slash = rawPath.indexOf('/', 1);
  const rawBucket = slash < 0 ? rawPath.slice(1) : rawPath.slice(1, slash);
  const rawKey = slash < 0 ? '' : rawPath.slice(slash + 1);

  if (rawBucket === '') {
    if (rawKey !== '') throw new S3Error(400, 'InvalidURI', "Couldn't parse the specified URI.");
    if (method !== 'GET') throw unsupported(`${method} on the service`);
    if (query.size > 0) throw unsupported(`the ${[...query.keys()][0]} parameter on ListBuckets`);
    return { op: 'ListBuckets' };
  }
  const bucket = bucketName(rawBucket);

  if (rawKey === '') {
    switch (method) {
      case 'HEAD':
        return { op: 'HeadBucket', bucket };
      case 'GET': {
        if (query.has('location')) {
          if (query.size > 1) throw unsupported('GetBucketLocation with other parameters');
          return { op: 'GetBucketLocation', bucket };
        }
        if (query.has('uploads')) {
          if (bucket !== OUTBOX) throw unsupported('ListMultipartUploads on a dataset bucket');
          return { op: 'ListMultipartUploads', bucket };
        }
        const odd = unknownParam(query, LIST_PARAMS);
        if (odd !== undefined) throw unsupported(`the ${odd} sub-resource`);
        const listType = query.get('list-type');
        if (listType !== undefined && listType !== '2') throw invalidArgument('list-type must be 2');
        return { op: 'ListObjects', bucket, version: listType === '2' ? 2 : 1, query };
      }
      case 'PUT':
        if (query.size === 0) return { op: 'CreateBucket', bucket };
        throw new S3Error(403, 'AccessDenied', 'Buckets are managed by the organizers; jobs cannot create, change or delete them.');
      case 'POST':
        if (query.has('delete') && query.size === 1) return { op: 'DeleteObjects', bucket };
        throw new S3Error(403, 'AccessDenied', 'Buckets are managed by the organizers; jobs cannot create, change or delete them.');
      case 'DELETE':
        throw new S3Error(403, 'AccessDenied', 'Buckets are managed by the organizers; jobs cannot create, change or delete them.');
      default:
        throw unsupported(`${method} on a bucket`);
    }
  }

  let key: string;
  try {
    key = validateObjectKey(decodePathSegment(rawKey, 'object key'));
  } catch (err) {
    if (err instanceof BadKeyError) throw invalidArgument(err.message);
    throw err;
  }
  const uploadId = query.get('uploadId');
  switch (method) {
    case 'GET':
    case 'HEAD': {
      if (uploadId !== undefined && method === 'GET') {
        if (bucket !== OUTBOX) throw readOnlyDataset();
        const odd = unknownParam(query, new Set(['uploadId', 'max-parts', 'part-number-marker', 'encoding-type']));
        if (odd !== undefined) throw unsupported(`the ${odd} parameter on ListParts`);
        return {
          op: 'ListParts',
          bucket,
          key,
          uploadId: uploadIdOf(uploadId),
          maxParts: Math.min(intParam(query, 'max-parts', 1000), 1000),
          marker: intParam(query, 'part-number-marker', 0),
        };
      }
      const odd = unknownParam(query, new Set());
      if (odd !== undefined) throw unsupported(`the ${odd} parameter on ${method === 'GET' ? 'GetObject' : 'HeadObject'}`);
      return { op: method === 'GET' ? 'GetObject' : 'HeadObject', bucket, key };
    }
    case 'PUT': {
      // A dataset bucket is read-only whatever the write (a part upload included): 403, not 501.
      if (bucket !== OUTBOX) throw readOnlyDataset();
      if (uploadId !== undefined || query.has('partNumber')) {
        const odd = unknownParam(query, new Set(['uploadId', 'partNumber']));
        if (odd !== undefined || uploadId === undefined) throw unsupported(`the ${odd ?? 'partNumber'} parameter on UploadPart`);
        return { op: 'UploadPart', bucket, key, uploadId: uploadIdOf(uploadId), partNumber: intParam(query, 'partNumber', 0) };
      }
      const odd = unknownParam(query, new Set());
      if (odd !== undefined) throw unsupported(`the ${odd} parameter on PutObject`);
      return { op: 'PutObject', bucket, key };
    }
    case 'POST':
      if (bucket !== OUTBOX) throw readOnlyDataset();
      if (query.has('uploads') && query.size === 1) {
        if (query.get('uploads') !== '') throw invalidArgument('uploads takes no value');
        return { op: 'CreateMultipartUpload', bucket, key };
      }
      if (uploadId !== undefined && query.size === 1) return { op: 'CompleteMultipartUpload', bucket, key, uploadId: uploadIdOf(uploadId) };
      throw unsupported('POST on an object');
    case 'DELETE':
      if (bucket === OUTBOX && uploadId !== undefined && query.size === 1)
        return { op: 'AbortMultipartUpload', bucket, key, uploadId: uploadIdOf(uploadId) };
      throw new S3Error(403, 'AccessDenied', 'Dataset objects are read-only and the outbox keeps what it released.');
    default:
      throw unsupported(`${method} on an object`);
  }
}

/** An upload id as this gateway issues them (base64url); anything else names no upload. */
function uploadIdOf(v: string): string {
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(v))
    throw new S3Error(
      404,
      'NoSuchUpload',
      'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
    );
  return v;
}

function intParam(query: Map<string, string>, name: string, fallback: number): number {
  const v = query.get(name);
  if (v === undefined) return fallback;
  if (!/^\d{1,9}$/.test(v)) throw invalidArgument(`${name} must be a non-negative integer`);
  return Number(v);
}

function bucketName(raw: string): string {
  let name: string;
  try {
    name = decodePathSegment(raw, 'bucket name');
  } catch {
    throw new S3Error(400, 'InvalidBucketName', 'The specified bucket is not valid.');
  }
  // Dataset ids are slugs; `outbox` is the only other bucket. Anything else cannot exist.
  if (!/^[a-z0-9][a-z0-9.-]{0,62}$/.test(name)) throw new S3Error(400, 'InvalidBucketName', 'The specified bucket is not valid.');
  return name;
}
