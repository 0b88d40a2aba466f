import { z } from 'zod';

/**
 * A key-shaped listing parameter (prefix, start-after, marker), on either API: at most 1024
 * UTF-8 bytes like a key, and no control characters.
 */
export function isListKey(v: string): boolean {
  // eslint-disable-next-line no-control-regex
  return Buffer.byteLength(v, 'utf8') <= 1024 && !/[\u0000-\u001f\u007f]/.test(v);
}

/** ?prefix=&cursor=&limit=&delimiter=; unknown parameters are refused. */
export const listQuery = z
  .object({
    prefix: z.string().refine(isListKey, 'prefix must be at most 1024 bytes, without control characters').default(''),
    cursor: z.string().max(4096).optional().describe('the nextCursor of the previous page (opaque, sealed)'),
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
