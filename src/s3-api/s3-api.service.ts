import { type IncomingMessage } from 'node:http';
import { type Readable } from 'node:stream';
import { type RequestMeta } from '../audit/audit-log.service';
import { BadRangeError, httpDate, parseRange } from '../data-plane/byte-range';
import { type DataPlaneService, NotVisibleError } from '../data-plane/data-plane.service';
import { type ListCursors } from '../data-plane/list-cursor';
import { isListKey } from '../data-plane/list-query.dto';
import { type EgressService, type Receipt } from '../egress/egress.service';
import { type MultipartUploads } from './multipart/multipart-uploads.service';
import { type OutboxNames } from './outbox-names/outbox-names.service';
import { S3Error, accessDenied, invalidArgument, noSuchBucket, noSuchKey, unsupported } from './s3-error';
import { OUTBOX } from './s3-request';
import { type VerifiedPayload, verifiedPayload } from './s3-payload';
import { readSmallDocument, S3_NS, s3Document, xmlText, type XmlNode } from './s3-xml';
import { type S3Caller } from './s3-signature.strategy';
import { headerValues, type HeaderList, uriEncode } from './sigv4/canonical-request';

/** What the controller sends: status, headers and an XML document, a stream or nothing. */
export interface S3Reply {
  status: number;
  headers: Record<string, string>;
  body?: string | Readable;
}

const XML = { 'content-type': 'application/xml' };
const MAX_KEYS = 1000;
const KIND_RE = /^[a-z][a-z0-9-]{0,31}$/;

/**
 * S3 operations, translated onto the data plane and the egress pipeline: nothing here decides
 * or logs on its own. Dataset buckets are read-only; `outbox` takes PutObject and nothing else
 * (it is never listed or read: released artifacts are fetched on the control listener).
 */
export class S3ApiService {
  constructor(
    private readonly dataPlane: DataPlaneService,
    private readonly egress: EgressService,
    private readonly region: string,
    private readonly cursors: ListCursors,
    private readonly multipart: MultipartUploads,
    private readonly names: OutboxNames,
  ) {}

  async listBuckets(caller: S3Caller, meta: RequestMeta): Promise<S3Reply> {
    const datasets = await this.dataPlane.listDatasets(caller, meta);
    const created = datasets
      .map((d) => d.createdAt)
      .filter((c): c is string => c !== null)
      .sort();
    const buckets = [
      ...datasets.map((d) => ({ Name: d.id, CreationDate: d.createdAt ?? created[0] })),
      { Name: OUTBOX, CreationDate: created[0] ?? new Date(0).toISOString() },
    ];
    return xml(200, 'ListAllMyBucketsResult', {
      Owner: { ID: caller.team, DisplayName: caller.team },
      Buckets: { Bucket: buckets.sort((a, b) => (a.Name < b.Name ? -1 : 1)) },
    });
  }

  async headBucket(caller: S3Caller, bucket: string, meta: RequestMeta): Promise<S3Reply> {
    if (bucket !== OUTBOX) await this.visibleBucket(caller, bucket, meta);
    return { status: 200, headers: { 'x-amz-bucket-region': this.region } };
  }

  async bucketLocation(caller: S3Caller, bucket: string, meta: RequestMeta): Promise<S3Reply> {
    if (bucket !== OUTBOX) await this.visibleBucket(caller, bucket, meta);
    // S3 answers us-east-1 with an empty constraint.
    const text = this.region === 'us-east-1' ? '' : xmlText(this.region);
    return {
      status: 200,
      headers: XML,
      body: `<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="${S3_NS}">${text}</LocationConstraint>`,
    };
  }

  async listObjects(caller: S3Caller, bucket: string, version: 1 | 2, q: Map<string, string>, meta: RequestMeta): Promise<S3Reply> {
    if (bucket === OUTBOX) throw accessDenied('The outbox is write-only: released artifacts are fetched by people, on the control API.');
    const prefix = q.get('prefix') ?? '';
    const delimiter = q.get('delimiter') || undefined;
    const encoding = q.get('encoding-type');
    if (encoding !== undefined && encoding !== 'url') throw invalidArgument('encoding-type must be url');
    if (!isListKey(prefix)) throw invalidArgument('prefix must be at most 1024 bytes, without control characters');
    if (delimiter !== undefined && delimiter.length > 16) throw invalidArgument('delimiter is longer than 16 characters');
    const maxKeys = parseMaxKeys(q.get('max-keys'));
    for (const [name, v] of [
      ['start-after', q.get('start-after')],
      ['marker', q.get('marker')],
    ] as const) {
      if (v !== undefined && !isListKey(v)) throw invalidArgument(`${name} must be at most 1024 bytes, without control characters`);
    }
    const token = version === 2 ? q.get('continuation-token') : undefined;
    const startAfter = version === 2 ? q.get('start-after') : q.get('marker');
    let cursor: string | undefined;
    if (token !== undefined) {
      try {
        cursor = this.cursors.open(token);
      } catch {
        throw invalidArgument('The continuation token provided is incorrect');
      }
    } else if (startAfter !== undefined && startAfter !== '') {
      // A v1 marker is a key a client chose, or the NextMarker (one of our cursors) it was sent.
      cursor = version === 1 && this.cursors.isCursor(startAfter) ? this.cursors.open(startAfter) : startAfter;
    }

    let page;
    try {
      page = await this.dataPlane.listObjects(caller, bucket, { prefix, cursor, limit: Math.max(1, maxKeys), delimiter }, meta);
    } catch (err) {
      if (err instanceof NotVisibleError) throw noSuchBucket();
      throw err;
    }
    const objects = maxKeys === 0 ? [] : page.objects;
    const prefixes = maxKeys === 0 ? [] : page.commonPrefixes;
    // MaxKeys=0: an empty page that is not truncated, as S3 answers (no token past a key never shown).
    const truncated = maxKeys === 0 ? false : page.nextCursor !== null;
    const enc = (s: string) => (encoding === 'url' ? uriEncode(s, true) : s);
    const body: XmlNode = {
      Name: bucket,
      Prefix: enc(prefix),
      ...(version === 1 ? { Marker: enc(startAfter ?? '') } : {}),
      ...(version === 2 && token !== undefined ? { ContinuationToken: token } : {}),
      ...(version === 2 && startAfter !== undefined ? { StartAfter: enc(startAfter) } : {}),
      ...(version === 2 ? { KeyCount: objects.length + prefixes.length } : {}),
      MaxKeys: maxKeys,
      Delimiter: delimiter === undefined ? undefined : enc(delimiter),
      EncodingType: encoding,
      IsTruncated: truncated,
      ...(truncated && page.nextCursor !== null && version === 2 ? { NextContinuationToken: this.cursors.seal(page.nextCursor) } : {}),
      // S3 sends NextMarker only with a delimiter; without one the client continues from its last key.
      ...(truncated && page.nextCursor !== null && version === 1 && delimiter !== undefined
        ? { NextMarker: enc(this.cursors.seal(page.nextCursor)) }
        : {}),
      Contents: objects.map((o) => ({
        Key: enc(o.key),
        LastModified: o.lastModified ?? undefined,
        ETag: quoted(o.etag),
        Size: o.size,
        StorageClass: 'STANDARD',
      })),
      CommonPrefixes: prefixes.map((p) => ({ Prefix: enc(p) })),
    };
    return xml(200, 'ListBucketResult', body);
  }

  async getObject(
    caller: S3Caller,
    method: 'GET' | 'HEAD',
    bucket: string,
    key: string,
    headers: HeaderList,
    meta: RequestMeta,
  ): Promise<S3Reply> {
    if (bucket === OUTBOX) {
      if (method === 'GET') throw accessDenied('The outbox is write-only: released artifacts are fetched by people, on the control API.');
      // HEAD before an upload expects 404, and after one (rclone's check) the upload's own size
      // and ETag: answered to the job that uploaded the key only, from what it sent.
      const mine = await this.names.head(caller, key, meta);
      if (mine === undefined) throw noSuchKey();
      return {
        status: 200,
        headers: {
          etag: quoted(mine.etag),
          'content-length': String(mine.size),
          'content-type': 'application/octet-stream',
          'last-modified': mine.uploadedAt.toUTCString(),
          'x-cage-receipt-id': mine.artifactId,
        },
      };
    }
    const one = (name: string) => {
      const v = headerValues(headers, name);
      return v.length === 0 ? undefined : v.join(',');
    };
    let range;
    try {
      range = parseRange(one('range'));
    } catch (err) {
      if (err instanceof BadRangeError) throw invalidArgument(err.message);
      throw err;
    }
    let res;
    try {
      res = await this.dataPlane.openObject(
        caller,
        {
          dataset: bucket,
          key,
          method,
          range,
          ifMatch: one('if-match'),
          ifNoneMatch: one('if-none-match'),
          ifModifiedSince: httpDate(one('if-modified-since')),
          ifUnmodifiedSince: httpDate(one('if-unmodified-since')),
        },
        meta,
      );
    } catch (err) {
      if (err instanceof NotVisibleError) throw noSuchKey();
      throw err;
    }
    const h: Record<string, string> = { etag: quoted(res.meta.etag), 'accept-ranges': 'bytes', 'cache-control': 'private, no-store' };
    if (res.meta.lastModified !== undefined) h['last-modified'] = res.meta.lastModified.toUTCString();
    if (res.status === 412)
      throw new S3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', {}, h);
    if (res.status === 304) return { status: 304, headers: h };
    h['content-type'] = res.meta.contentType ?? 'application/octet-stream';
    h['content-length'] = String(res.contentLength);
    if (res.range !== undefined) h['content-range'] = `bytes ${res.range.start}-${res.range.end}/${res.meta.size}`;
    return { status: res.status, headers: h, body: res.body };
  }

  /** PutObject into `outbox/{kind}/{name}`: the egress pipeline, fed only bytes the signature covers. */
  async putObject(
    caller: S3Caller,
    bucket: string,
    key: string,
    raw: IncomingMessage,
    headers: HeaderList,
    meta: RequestMeta,
  ): Promise<S3Reply> {
    if (bucket !== OUTBOX) throw accessDenied('Dataset buckets are read-only; artifacts leave through the outbox bucket.');
    const slash = key.indexOf('/');
    const kind = slash < 0 ? '' : key.slice(0, slash);
    let payload: VerifiedPayload;
    try {
      if (headerValues(headers, 'x-amz-copy-source').length > 0) throw unsupported('CopyObject');
      if (!KIND_RE.test(kind) || slash === key.length - 1)
        throw invalidArgument('outbox keys are {kind}/{name}, e.g. predictions/run-1.csv');
      payload = verifiedPayload(raw, caller.auth, headers);
    } catch (err) {
      // An authenticated upload refused on its headers is an egress attempt too: one leaf.
      await this.egress.recordUnread(caller, kind, err instanceof S3Error ? err.code : 'bad_request', meta);
      throw err;
    }
    const declared =
      caller.auth.version === 4 && caller.auth.payload.kind === 'streaming'
        ? caller.auth.payload.decodedContentLength
        : headerValues(headers, 'content-length').map(Number)[0];
    const receipt = await this.egress.submit(caller, kind, payload.body, meta, payload.auth, declared);
    // S3's ETag of a single-part upload: the MD5 of the bytes sent (what was released is their canonical rewrite).
    await this.names.uploaded(caller, key, receipt, declared ?? 0, payload.md5());
    return { status: 200, headers: { etag: `"${payload.md5()}"`, ...receiptHeaders(receipt) } };
  }

  /** CreateMultipartUpload into `outbox/{kind}/{name}`: the parts will be held inside until Complete. */
  async createMultipartUpload(caller: S3Caller, key: string, meta: RequestMeta): Promise<S3Reply> {
    outboxKind(key);
    const { uploadId } = await this.multipart.create(caller, key, meta);
    return xml(200, 'InitiateMultipartUploadResult', { Bucket: OUTBOX, Key: key, UploadId: uploadId });
  }

  async uploadPart(
    caller: S3Caller,
    key: string,
    uploadId: string,
    partNumber: number,
    raw: IncomingMessage,
    headers: HeaderList,
    meta: RequestMeta,
  ): Promise<S3Reply> {
    const { etag } = await this.multipart.uploadPart(caller, key, uploadId, partNumber, raw, headers, meta);
    return { status: 200, headers: { etag: `"${etag}"` } };
  }

  async listParts(caller: S3Caller, key: string, uploadId: string, marker: number, maxParts: number, meta: RequestMeta): Promise<S3Reply> {
    const { parts, truncated } = await this.multipart.listParts(caller, key, uploadId, marker, maxParts, meta);
    return xml(200, 'ListPartsResult', {
      Bucket: OUTBOX,
      Key: key,
      UploadId: uploadId,
      PartNumberMarker: marker,
      ...(truncated ? { NextPartNumberMarker: parts[parts.length - 1].partNumber } : {}),
      MaxParts: maxParts,
      IsTruncated: truncated,
      Part: parts.map((p) => ({ PartNumber: p.partNumber, LastModified: p.storedAt.toISOString(), ETag: quoted(p.etag), Size: p.size })),
    });
  }

  async completeMultipartUpload(
    caller: S3Caller,
    key: string,
    uploadId: string,
    raw: IncomingMessage,
    meta: RequestMeta,
  ): Promise<S3Reply> {
    const { receipt, etag, bytes } = await this.multipart.complete(caller, key, uploadId, raw, meta);
    await this.names.uploaded(caller, key, receipt, bytes, etag);
    const reply = xml(200, 'CompleteMultipartUploadResult', {
      Location: `/${OUTBOX}/${key}`,
      Bucket: OUTBOX,
      Key: key,
      ETag: quoted(etag),
    });
    return { ...reply, headers: { ...reply.headers, ...receiptHeaders(receipt) } };
  }

  async abortMultipartUpload(caller: S3Caller, key: string, uploadId: string, meta: RequestMeta): Promise<S3Reply> {
    await this.multipart.abort(caller, key, uploadId, meta);
    return { status: 204, headers: {} };
  }

  async listMultipartUploads(caller: S3Caller, meta: RequestMeta): Promise<S3Reply> {
    const uploads = await this.multipart.listUploads(caller, meta);
    return xml(200, 'ListMultipartUploadsResult', {
      Bucket: OUTBOX,
      KeyMarker: '',
      UploadIdMarker: '',
      MaxUploads: 1000,
      IsTruncated: false,
      Upload: uploads.map((u) => ({ Key: u.objectKey, UploadId: u.id, Initiated: u.createdAt.toISOString(), StorageClass: 'STANDARD' })),
    });
  }

  /**
   * A write to the outbox refused before it could be parsed (multipart, a sub-resource) is an
   * authenticated egress attempt too: one leaf, like every other.
   */
  async recordRefusedWrite(caller: S3Caller, method: string, rawUrl: string, err: unknown, meta: RequestMeta): Promise<void> {
    if (method !== 'PUT' && method !== 'POST') return;
    const segments = rawUrl.split('?')[0].split('/');
    if (segments[1] !== OUTBOX) return;
    await this.egress.recordUnread(caller, segments[2] ?? '', err instanceof S3Error ? err.code : 'bad_request', meta);
  }

  /**
   * CreateBucket of a bucket the job can see: S3's answer to re-creating one's own bucket (200 in
   * us-east-1, else 409 BucketAlreadyOwnedByYou), so clients that create before they write go on;
   * any other bucket: AccessDenied (buckets are the organizers').
   */
  async createBucket(caller: S3Caller, bucket: string, meta: RequestMeta): Promise<S3Reply> {
    if (bucket !== OUTBOX) {
      try {
        await this.dataPlane.checkDataset(caller, bucket, meta);
      } catch (err) {
        if (err instanceof NotVisibleError) throw accessDenied('Buckets are managed by the organizers; jobs cannot create them.');
        throw err;
      }
    }
    if (this.region === 'us-east-1') return { status: 200, headers: { location: `/${bucket}` } };
    throw new S3Error(409, 'BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.');
  }

  /** DeleteObjects: nothing is deleted (datasets are read-only, the outbox keeps what it released); each key AccessDenied. */
  async deleteObjects(raw: IncomingMessage): Promise<S3Reply> {
    const body = await readSmallDocument(raw, MAX_DELETE_BODY);
    let keys: string[];
    try {
      keys = [...body.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => xmlUnescape(m[1]));
    } catch {
      keys = []; // a character reference past U+10FFFF: malformed
    }
    if (keys.length === 0 || keys.length > 1000)
      throw new S3Error(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
    return xml(200, 'DeleteResult', {
      Error: keys.map((k) => ({ Key: k, Code: 'AccessDenied', Message: 'Access Denied' })),
    });
  }

  private async visibleBucket(caller: S3Caller, bucket: string, meta: RequestMeta): Promise<void> {
    try {
      await this.dataPlane.checkDataset(caller, bucket, meta);
    } catch (err) {
      if (err instanceof NotVisibleError) throw noSuchBucket();
      throw err;
    }
  }
}

/** A DeleteObjects document: 1,000 keys of at most 1,024 bytes, XML-escaped, fit. */
const MAX_DELETE_BODY = 8 * 1024 * 1024;

function xmlUnescape(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_, e: string) =>
    e === 'amp'
      ? '&'
      : e === 'lt'
        ? '<'
        : e === 'gt'
          ? '>'
          : e === 'quot'
            ? '"'
            : e === 'apos'
              ? "'"
              : String.fromCodePoint(e.startsWith('#x') ? parseInt(e.slice(2), 16) : Number(e.slice(1))),
  );
}

function parseMaxKeys(v: string | undefined): number {
  if (v === undefined) return MAX_KEYS;
  if (!/^\d{1,9}$/.test(v)) throw invalidArgument('max-keys must be a non-negative integer');
  return Math.min(Number(v), MAX_KEYS);
}

/** The egress receipt an upload's answer carries (PutObject, CompleteMultipartUpload). */
function receiptHeaders(receipt: Receipt): Record<string, string> {
  return {
    'x-cage-receipt-id': receipt.id,
    'x-cage-egress-status': receipt.status,
    'x-cage-sha256': receipt.sha256,
    'x-cage-bits': String(receipt.bits),
    'x-cage-audit-index': String(receipt.auditIndex),
    // A leaderboard submission: the score the Ladder shows (what the receipt's `score` says).
    ...(receipt.score === undefined
      ? {}
      : { 'x-cage-public-score': String(receipt.score.public), 'x-cage-score-improved': String(receipt.score.improved) }),
  };
}

/** The kind an outbox key names (`{kind}/{name}`), or InvalidArgument. */
function outboxKind(key: string): string {
  const slash = key.indexOf('/');
  const kind = slash < 0 ? '' : key.slice(0, slash);
  if (!KIND_RE.test(kind) || slash === key.length - 1) throw invalidArgument('outbox keys are {kind}/{name}, e.g. predictions/run-1.csv');
  return kind;
}

function quoted(etag: string): string {
  return etag.startsWith('"') ? etag : `"${etag}"`;
}

function xml(status: number, root: string, body: XmlNode): S3Reply {
  return { status, headers: XML, body: s3Document(root, body) };
}
