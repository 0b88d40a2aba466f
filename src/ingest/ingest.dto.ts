import { z } from 'zod';
import { requestModel, responseModel } from '../ops/openapi-models';

const column = z.string().min(1).max(128);

export const newIngest = requestModel(
  'NewIngest',
  z
    .object({
      source: z
        .string()
        .min(1)
        .max(1024)
        .describe("a directory under the gateway's CAGE_INGEST_ROOT, or s3://bucket/prefix on the raw-data store"),
      target: z
        .string()
        .max(512)
        .regex(/^([A-Za-z0-9._-]+\/)+$/, 'target must be a dataset-relative prefix ending in "/", e.g. train/')
        .refine((t) => t.split('/').every((seg) => seg !== '.' && seg !== '..'), 'target may not have "." or ".." segments'),
      csvColumns: z.array(column).max(64).optional().describe('label CSV columns that survive (without it CSVs are refused)'),
      csvPseudonymize: z.array(column).max(16).optional().describe('of those, the columns holding series or patient identifiers'),
      domain: z
        .string()
        .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'domain must be a slug')
        .default('default')
        .describe('pseudonym domain: datasets in one domain share pseudonyms'),
      limit: z.number().int().min(1).optional().describe('cleanse at most this many files in this run'),
    })
    .strict()
    .refine(
      (b) => (b.csvPseudonymize ?? []).every((c) => (b.csvColumns ?? []).includes(c)),
      'csvPseudonymize columns must be among csvColumns',
    ),
);

const count = () => z.number().int().min(0);
const shownToOrganizers = 'shown to organizers only; others see "(shown to organizers only)"';

export const ingestRun = responseModel(
  'IngestRun',
  z
    .object({
      id: z.string(),
      dataset: z.string(),
      source: z.string().describe(shownToOrganizers),
      target: z.string(),
      state: z.enum(['running', 'done', 'partial', 'cancelled', 'failed', 'interrupted']),
      filesTotal: count(),
      filesDone: count(),
      filesWritten: count(),
      filesSkipped: count(),
      filesRefused: count(),
      bytesWritten: count(),
      summary: z
        .object({
          stripped: z
            .record(count())
            .describe(
              'how many attributes, keys or columns each rule applied to, by reason code (`DICOM E.1-1 X`, `DICOM default deny`, `CSV columns (X)`): counts only, never a name or value from the export',
            ),
          refused: z
            .array(z.object({ path: z.string().describe(shownToOrganizers), reason: z.string() }).strict())
            .describe('at most 1000 listed'),
          refusedTotal: count(),
          withdrawn: count().describe('earlier outputs of this source it no longer yields, taken out of the manifest and the bucket'),
          manifestSha256: z.string().nullable(),
          manifestEntries: count(),
        })
        .strict()
        .nullable()
        .describe('when the run is over'),
      startedAt: z.string().datetime(),
      startedBy: z.string(),
      finishedAt: z.string().datetime().nullable(),
      error: z.string().nullable(),
    })
    .strict(),
);
export const ingestRunList = responseModel('IngestRunList', z.object({ runs: z.array(ingestRun) }).strict());
