import { BadRequestException } from '@nestjs/common';
import { z } from 'zod';
import { parseOrThrow } from '../ops/validation';

const listQuery = z
  .object({
    prefix: z
      .string()
      .max(1024, 'prefix is longer than 1024 characters')
      // eslint-disable-next-line no-control-regex
      .refine((p) => !/[\u0000-\u001f\u007f]/.test(p), 'prefix has a control character')
      .default(''),
    cursor: z.string().max(4096).optional(),
    limit: z.coerce.number().int('limit must be an integer').min(1, 'limit must be 1..1000').max(1000, 'limit must be 1..1000').default(100),
  })
  .strict();

export interface ListQuery {
  prefix: string;
  cursor: string | undefined;
  limit: number;
}

/** Validates ?prefix=&cursor=&limit=; unknown parameters are refused. */
export function parseListQuery(q: unknown): ListQuery {
  const r = parseOrThrow(listQuery, q);
  return { prefix: r.prefix, cursor: r.cursor === undefined ? undefined : decodeCursor(r.cursor), limit: r.limit };
}

/** Cursors are opaque to clients: base64url of the last key returned. */
export function encodeCursor(lastKey: string): string {
  return Buffer.from(JSON.stringify({ k: lastKey }), 'utf8').toString('base64url');
}

function decodeCursor(c: string): string {
  try {
    const v = JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) as { k?: unknown };
    // eslint-disable-next-line no-control-regex
    if (typeof v.k === 'string' && v.k.length > 0 && Buffer.byteLength(v.k) <= 1024 && !/[\u0000-\u001f\u007f]/.test(v.k)) return v.k;
  } catch {
    // fall through
  }
  throw new BadRequestException('cursor is not one this gateway issued');
}
