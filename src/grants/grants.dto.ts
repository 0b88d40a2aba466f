import { z } from 'zod';
import { requestModel, responseModel } from '../ops/openapi-models';
import { slug, time, instant, count, active } from '../ops/dto-fields';

/* The grant routes' shapes: requests as they are validated, responses as they are sent (the OpenAPI document and the CLI's types are generated from these). */

export const newGrant = requestModel(
  'NewGrant',
  z
    .object({
      team: slug('team'),
      dataset: slug('dataset'),
      split: slug('split'),
      notBefore: time('notBefore'),
      notAfter: time('notAfter'),
      byteQuota: z.number().int().min(0).optional().describe('bytes the team may read under this grant (default: no quota)'),
    })
    .strict(),
);

export const grantQuery = z.object({ team: z.string().optional(), dataset: z.string().optional(), active: active() }).strict();

export const grant = responseModel(
  'Grant',
  z
    .object({
      id: z.string(),
      team: z.string(),
      dataset: z.string(),
      split: z.string(),
      notBefore: instant(),
      notAfter: instant(),
      byteQuota: count().nullable(),
      createdAt: instant(),
      createdBy: z.string(),
      revokedAt: instant().nullable(),
      revokedBy: z.string().nullable(),
      state: z.enum(['active', 'scheduled', 'expired', 'revoked']),
    })
    .strict(),
);
export const grantList = responseModel('GrantList', z.object({ grants: z.array(grant) }).strict());

export type GrantView = z.infer<typeof grant>;
