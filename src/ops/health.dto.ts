import { z } from 'zod';
import { responseModel } from './openapi-models';

export const liveness = responseModel('Liveness', z.object({ status: z.literal('ok') }).strict());
export const readiness = responseModel(
  'Readiness',
  z
    .object({
      status: z.literal('ready'),
      checks: z.record(z.string()).describe('startup, database, objectStore: each "ok" when ready'),
    })
    .strict(),
);
