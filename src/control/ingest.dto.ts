import { z } from 'zod';

const column = z.string().min(1).max(128);

export const newIngest = z
  .object({
    source: z.string().min(1).max(1024),
    target: z
      .string()
      .max(512)
      .regex(/^([A-Za-z0-9._-]+\/)+$/, 'target must be a dataset-relative prefix ending in "/", e.g. train/')
      .refine((t) => t.split('/').every((seg) => seg !== '.' && seg !== '..'), 'target may not have "." or ".." segments'),
    csvColumns: z.array(column).max(64).optional(),
    csvPseudonymize: z.array(column).max(16).optional(),
    domain: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'domain must be a slug')
      .default('default'),
    limit: z.number().int().min(1).optional(),
  })
  .strict()
  .refine(
    (b) => (b.csvPseudonymize ?? []).every((c) => (b.csvColumns ?? []).includes(c)),
    'csvPseudonymize columns must be among csvColumns',
  );
