import { z } from 'zod';
import { requestModel, responseModel } from '../ops/openapi-models';
import { slug, instant, count, splitKind } from '../ops/dto-fields';

/* The dataset routes' shapes: requests as they are validated, responses as they are sent (the OpenAPI document and the CLI's types are generated from these). */

export const newDataset = requestModel(
  'NewDataset',
  z
    .object({
      id: slug('id'),
      bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'bucket must be an S3 bucket name'),
      prefix: z.string().max(512).describe("the dataset's key prefix in the bucket: '' or ending in /"),
      title: z.string().max(200).optional(),
      splits: z
        .array(
          z
            .object({
              name: slug('split name'),
              kind: splitKind(),
              prefix: z.string().min(2).max(512).describe('relative to the dataset prefix, ending in /; splits do not nest'),
            })
            .strict(),
        )
        .min(1),
    })
    .strict(),
);

export const split = responseModel('Split', z.object({ name: z.string(), kind: splitKind(), prefix: z.string() }).strict());

export const dataset = responseModel(
  'Dataset',
  z
    .object({
      id: z.string(),
      bucket: z.string(),
      prefix: z.string(),
      title: z.string(),
      splits: z.array(split),
      manifestEnforced: z.boolean().optional().describe('ingested: only the objects its manifest lists are served'),
      objects: count().nullable().describe('null until indexed'),
      bytes: count().nullable().describe('null until indexed'),
      series: count(),
      indexedAt: instant().nullable(),
      createdAt: instant(),
      createdBy: z.string(),
    })
    .strict(),
);
export const datasetList = responseModel('DatasetList', z.object({ datasets: z.array(dataset) }).strict());

export const indexRun = responseModel(
  'IndexRun',
  z
    .object({
      id: z.string(),
      dataset: z.string(),
      state: z.enum(['running', 'done', 'failed']),
      objectsSeen: count(),
      bytesSeen: count(),
      seriesIndexed: count(),
      startedAt: instant(),
      finishedAt: instant().nullable(),
      error: z.string().nullable(),
    })
    .strict(),
);

export const manifestReport = responseModel(
  'ManifestReport',
  z
    .object({
      dataset: z.string(),
      checked: count().describe('objects found in the bucket under the dataset prefix'),
      listed: count().describe('entries in the manifest'),
      unexpected: z.array(z.string()).describe('in the bucket, not in the manifest (never served)'),
      changed: z.array(z.string()).describe('in both, with another size or ETag (never served)'),
      missing: z.array(z.string()).describe('in the manifest, gone from the bucket'),
    })
    .strict(),
);
