import { z } from 'zod';
import { responseModel } from '../ops/openapi-models';

/* The sandbox REST routes' answers (the job's view of the data). */

export const visibleDatasetList = responseModel(
  'VisibleDatasetList',
  z
    .object({
      datasets: z.array(
        z
          .object({
            id: z.string(),
            title: z.string(),
            createdAt: z.string().datetime().nullable(),
            splits: z.array(z.object({ name: z.string(), kind: z.string() }).strict()).describe('only the splits the job may list'),
          })
          .strict(),
      ),
    })
    .strict(),
);

export const objectPage = responseModel(
  'ObjectPage',
  z
    .object({
      objects: z.array(
        z
          .object({
            key: z.string().describe('dataset-relative'),
            size: z.number().int().min(0),
            etag: z.string(),
            lastModified: z.string().datetime().nullable(),
          })
          .strict(),
      ),
      commonPrefixes: z.array(z.string()).optional().describe('with a delimiter: the rolled-up prefixes, each ending in it'),
      nextCursor: z.string().nullable().describe('opaque; null on the last page'),
    })
    .strict(),
);
