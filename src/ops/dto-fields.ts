import { z } from 'zod';

/* Field shapes the request and response models share. */

export const slug = (what: string) => z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, `${what} must be a slug: a-z, 0-9 and -, at most 63`);
export const time = (what: string) =>
  z
    .string()
    .datetime({ offset: true, message: `${what} must be an ISO 8601 time` })
    .transform((v) => new Date(v));
/** A time the gateway sends: ISO 8601, UTC. */
export const instant = () => z.string().datetime();
export const count = () => z.number().int().min(0);
export const splitKind = () => z.enum(['train', 'val', 'test', 'labels']);
export const active = () =>
  z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional();
