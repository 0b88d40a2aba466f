import { BadRequestException } from '@nestjs/common';
import { z } from 'zod';

/**
 * A key-shaped listing parameter (prefix, start-after, marker), on either API: at most 1024
 * UTF-8 bytes like a key, and no control characters.
 */
export function isListKey(v: string): boolean {
  // eslint-disable-next-line no-control-regex
  return Buffer.byteLength(v, 'utf8') <= 1024 && !/[\u0000-\u001f\u007f]/.test(v);
}

/** ?prefix=&cursor=&limit=&delimiter=; unknown parameters are refused, a cursor comes out decoded. */
export const listQuery = z
  .object({
    prefix: z.string().refine(isListKey, 'prefix must be at most 1024 bytes, without control characters').default(''),
    cursor: z.string().max(4096).transform(decodeCursor).optional().describe('the nextCursor of the previous page (opaque)'),
    delimiter: z
      .string()
      .min(1)
      .max(16, 'delimiter is longer than 16 characters')
      .optional()
      .describe('roll keys up to the first delimiter after the prefix (commonPrefixes)'),
    limit: z.coerce
      .number()
      .int('limit must be an integer')
      .min(1, 'limit must be 1..1000')
      .max(1000, 'limit must be 1..1000')
      .default(100),
  })
  .strict();

/** Cursors are opaque to clients: base64url of the last key examined (S3: the continuation token). */
export function encodeCursor(lastKey: string): string {
  return Buffer.from(JSON.stringify({ k: lastKey }), 'utf8').toString('base64url');
}

/** A cursor this gateway issued, or 400. The key may end in AFTER_PREFIX (4 UTF-8 bytes). */
export function decodeCursor(c: string): string {
  try {
    const v = JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) as { k?: unknown };
    // eslint-disable-next-line no-control-regex
    if (typeof v.k === 'string' && v.k.length > 0 && Buffer.byteLength(v.k) <= 1024 + 4 && !/[\u0000-\u001f\u007f]/.test(v.k)) return v.k;
  } catch {
    // fall through
  }
  throw new BadRequestException('cursor is not one this gateway issued');
}
