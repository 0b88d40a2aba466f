import { BadInputError } from '../ops/http-answer';
/** A single byte range as the client asked for it, before the object size is known. */
export type ByteRangeRequest = { kind: 'from'; start: number; end?: number } | { kind: 'suffix'; length: number };

export class BadRangeError extends BadInputError {}

const NUM = /^\d{1,15}$/;

/**
 * Parses a Range header strictly: one `bytes=` range only. Several ranges are refused (the
 * gateway serves one range per request, as S3 does) and so is anything malformed, so that a
 * client never mistakes a whole object for the slice it asked for.
 */
export function parseRange(header: string | undefined): ByteRangeRequest | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(.*)$/.exec(header.trim());
  if (m === null) throw new BadRangeError('Range must be bytes=start-end, bytes=start- or bytes=-length');
  const spec = m[1] ?? '';
  if (spec.includes(',')) throw new BadRangeError('only one range per request is served');
  const dash = spec.indexOf('-');
  if (dash < 0) throw new BadRangeError('Range must be bytes=start-end, bytes=start- or bytes=-length');
  const a = spec.slice(0, dash).trim();
  const b = spec.slice(dash + 1).trim();
  if (a === '') {
    if (!NUM.test(b)) throw new BadRangeError('suffix range must be bytes=-length');
    const length = Number(b);
    if (length === 0) throw new BadRangeError('suffix range length must be positive');
    return { kind: 'suffix', length };
  }
  if (!NUM.test(a) || (b !== '' && !NUM.test(b))) throw new BadRangeError('range bounds must be decimal byte offsets');
  const start = Number(a);
  if (b === '') return { kind: 'from', start };
  const end = Number(b);
  if (end < start) throw new BadRangeError('range end is before its start');
  return { kind: 'from', start, end };
}

/** Resolves a range against the object size; undefined when unsatisfiable (416). */
export function resolveRange(r: ByteRangeRequest, size: number): { start: number; end: number } | undefined {
  if (r.kind === 'suffix') return size === 0 ? undefined : { start: Math.max(0, size - r.length), end: size - 1 };
  if (r.start >= size) return undefined;
  return { start: r.start, end: Math.min(r.end ?? size - 1, size - 1) };
}

/** RFC 9110 entity-tag list matching; `weak` ignores the W/ prefix (If-None-Match). */
export function etagMatches(header: string, etag: string, weak: boolean): boolean {
  if (header.trim() === '*') return true;
  const norm = (t: string) => (weak ? t.replace(/^W\//, '') : t);
  const target = norm(etag);
  return header
    .split(',')
    .map((t) => t.trim())
    .some((t) => t !== '' && (weak || !t.startsWith('W/')) && norm(t) === target);
}

/** An HTTP date header (IMF-fixdate and the obsolete forms Date parses); undefined if absent or invalid, which RFC 9110 says to ignore. */
export function httpDate(header: string | undefined): Date | undefined {
  if (header === undefined) return undefined;
  const t = Date.parse(header);
  return Number.isNaN(t) ? undefined : new Date(t);
}
