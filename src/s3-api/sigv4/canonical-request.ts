/**
 * SigV4 canonicalization, server side, S3 flavour: built from the raw request as it arrived,
 * never from a router's decoded view of it.
 *
 * - Canonical URI: the raw path split on literal `/`; each segment percent-decoded exactly
 *   once (to bytes) and re-encoded the AWS way (RFC 3986 unreserved set kept, everything else
 *   `%XX` uppercase, `/` inside a segment stays `%2F`). No dot-segment removal, no `//`
 *   collapsing: S3 keys are opaque bytes.
 * - Canonical query: each `name=value` decoded once and re-encoded the same way, sorted by
 *   encoded name then encoded value. `+` is a literal plus (RFC 3986), not a space.
 * - Canonical headers: lowercase names, values trimmed with whitespace runs collapsed, repeated
 *   headers joined with `,` in arrival order, only the signed ones, sorted.
 */
import { createHash, createHmac } from 'node:crypto';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
export const STREAMING_PAYLOAD = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
export const STREAMING_PAYLOAD_TRAILER = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
export const STREAMING_UNSIGNED_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** Header lines as received, in order; a repeated header is repeated entries. */
export type HeaderList = ReadonlyArray<readonly [name: string, value: string]>;

/** Thrown for a request target that cannot be canonicalized (malformed percent-encoding). */
export class CanonicalizationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CanonicalizationError';
  }
}

/** Node's `IncomingMessage.rawHeaders` (flat `[name, value, name, value, …]`) as a HeaderList. */
export function headersFromRaw(rawHeaders: readonly string[]): HeaderList {
  const out: Array<readonly [string, string]> = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) out.push([rawHeaders[i], rawHeaders[i + 1]]);
  return out;
}

function isUnreserved(b: number): boolean {
  return (
    (b >= 0x41 && b <= 0x5a) || // A-Z
    (b >= 0x61 && b <= 0x7a) || // a-z
    (b >= 0x30 && b <= 0x39) || // 0-9
    b === 0x2d ||
    b === 0x2e ||
    b === 0x5f ||
    b === 0x7e // - . _ ~
  );
}

const HEX = '0123456789ABCDEF';

/** AWS UriEncode over bytes (strings are taken as UTF-8). `/` is encoded unless `keepSlash`. */
export function uriEncode(input: string | Uint8Array, keepSlash = false): string {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  let out = '';
  for (const b of bytes) {
    if (isUnreserved(b) || (keepSlash && b === 0x2f)) out += String.fromCharCode(b);
    else out += '%' + HEX[b >> 4] + HEX[b & 0x0f];
  }
  return out;
}

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

/** Percent-decode once, to bytes. Non-`%` characters are taken as their UTF-8 bytes. */
export function percentDecode(raw: string): Buffer {
  const src = Buffer.from(raw, 'utf8');
  const out = Buffer.alloc(src.length);
  let n = 0;
  for (let i = 0; i < src.length; i++) {
    const b = src[i];
    if (b !== 0x25) {
      out[n++] = b;
      continue;
    }
    const hi = i + 2 < src.length ? hexVal(src[i + 1]) : -1;
    const lo = i + 2 < src.length ? hexVal(src[i + 2]) : -1;
    if (hi < 0 || lo < 0) throw new CanonicalizationError('malformed percent-encoding');
    out[n++] = (hi << 4) | lo;
    i += 2;
  }
  return out.subarray(0, n);
}

/** Split a request-target into raw path and raw query (neither decoded). */
export function splitTarget(rawTarget: string): { rawPath: string; rawQuery: string } {
  const q = rawTarget.indexOf('?');
  return q < 0 ? { rawPath: rawTarget, rawQuery: '' } : { rawPath: rawTarget.slice(0, q), rawQuery: rawTarget.slice(q + 1) };
}

/** S3 canonical URI: the raw path, each segment decoded once and encoded once. */
export function canonicalUri(rawPath: string): string {
  if (!rawPath.startsWith('/')) throw new CanonicalizationError('request target must be an absolute path');
  return rawPath
    .split('/')
    .map((segment) => uriEncode(percentDecode(segment)))
    .join('/');
}

export interface QueryParam {
  /** Decoded once, as bytes. */
  name: Buffer;
  value: Buffer;
  /** AWS-encoded, as they enter the canonical query string. */
  encodedName: string;
  encodedValue: string;
}

/** Parse a raw query string (no leading `?`), decoding each name and value exactly once. */
export function parseQuery(rawQuery: string): QueryParam[] {
  const params: QueryParam[] = [];
  if (rawQuery === '') return params;
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = percentDecode(eq < 0 ? part : part.slice(0, eq));
    const value = percentDecode(eq < 0 ? '' : part.slice(eq + 1));
    params.push({ name, value, encodedName: uriEncode(name), encodedValue: uriEncode(value) });
  }
  return params;
}

/** Canonical query string; `exclude` names (exact, decoded) are left out, e.g. `X-Amz-Signature`. */
export function canonicalQueryString(params: readonly QueryParam[], exclude: readonly string[] = []): string {
  return params
    .filter((p) => !exclude.includes(p.name.toString('latin1')))
    .map((p) => [p.encodedName, p.encodedValue] as const)
    .sort(([an, av], [bn, bv]) => (an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([n, v]) => `${n}=${v}`)
    .join('&');
}

/** Trim and collapse internal whitespace runs to one space. */
export function canonicalHeaderValue(value: string): string {
  return value.trim().replace(/\s+/g, ' ');
}

/** All values of one header (case-insensitive name), in arrival order. */
export function headerValues(headers: HeaderList, lowerName: string): string[] {
  return headers.filter(([n]) => n.toLowerCase() === lowerName).map(([, v]) => v);
}

/**
 * Canonical header block (each line ends with `\n`) for the given signed header names, which
 * must already be lowercase. `missing` lists signed names the request does not carry.
 */
export function canonicalHeaders(headers: HeaderList, signedHeaders: readonly string[]): { block: string; missing: string[] } {
  const missing: string[] = [];
  let block = '';
  for (const name of [...signedHeaders].sort()) {
    const values = headerValues(headers, name);
    if (values.length === 0) missing.push(name);
    block += `${name}:${values.map(canonicalHeaderValue).join(',')}\n`;
  }
  return { block, missing };
}

export interface CanonicalRequestParts {
  method: string;
  canonicalUri: string;
  canonicalQuery: string;
  /** From `canonicalHeaders(...).block`: one `name:value\n` line per signed header. */
  canonicalHeaders: string;
  signedHeaders: readonly string[];
  payloadHash: string;
}

export function buildCanonicalRequest(p: CanonicalRequestParts): string {
  return [p.method, p.canonicalUri, p.canonicalQuery, p.canonicalHeaders, [...p.signedHeaders].sort().join(';'), p.payloadHash].join('\n');
}

export interface RawSignedRequest {
  method: string;
  /** The request-target exactly as sent: raw path plus optional `?query`. */
  rawTarget: string;
  headers: HeaderList;
}

/**
 * Canonical request straight from a raw request. Throws CanonicalizationError for a target that
 * cannot be decoded.
 */
export function canonicalRequestFromRaw(
  req: RawSignedRequest,
  signedHeaders: readonly string[],
  payloadHash: string,
  excludeQuery: readonly string[] = [],
): string {
  const { rawPath, rawQuery } = splitTarget(req.rawTarget);
  return buildCanonicalRequest({
    method: req.method,
    canonicalUri: canonicalUri(rawPath),
    canonicalQuery: canonicalQueryString(parseQuery(rawQuery), excludeQuery),
    canonicalHeaders: canonicalHeaders(req.headers, signedHeaders).block,
    signedHeaders,
    payloadHash,
  });
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** `date/region/service/aws4_request`. */
export function credentialScope(date: string, region: string, service: string): string {
  return `${date}/${region}/${service}/aws4_request`;
}

export function stringToSign(algorithm: string, amzDate: string, scope: string, canonicalRequest: string): string {
  return [algorithm, amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request"). */
export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
}

/** Lowercase hex HMAC-SHA256 of the string to sign. */
export function signature(key: Buffer, toSign: string): string {
  return createHmac('sha256', key).update(toSign, 'utf8').digest('hex');
}
