import { z } from 'zod';
import { requestModel, responseModel } from '../ops/openapi-models';
import { slug, instant, active } from '../ops/dto-fields';

/* The job routes' shapes: requests as they are validated, responses as they are sent (the OpenAPI document and the CLI's types are generated from these). */

export const newJob = requestModel(
  'NewJob',
  z
    .object({
      team: slug('team'),
      ttlSeconds: z
        .number()
        .int('ttlSeconds must be an integer')
        .min(60, 'ttlSeconds must be at least 60')
        .max(86400, 'ttlSeconds must be at most 86400 (24 h)')
        .default(3600),
    })
    .strict(),
);

export const jobQuery = z.object({ team: z.string().optional(), active: active() }).strict();

export const jobCredentials = responseModel(
  'JobCredentials',
  z
    .object({
      jobId: z.string(),
      team: z.string(),
      token: z.string().describe('the job JWT (sandbox listener, REST)'),
      accessKeyId: z.string(),
      secretAccessKey: z.string().describe('shown once, at issue; the gateway keeps it only sealed'),
      expiresAt: instant(),
    })
    .strict(),
);

export const job = responseModel(
  'Job',
  z
    .object({
      jobId: z.string(),
      team: z.string(),
      accessKeyId: z.string().nullable(),
      createdAt: instant(),
      createdBy: z.string(),
      expiresAt: instant(),
      revokedAt: instant().nullable(),
      state: z.enum(['active', 'expired', 'revoked']),
    })
    .strict(),
);
export const jobList = responseModel('JobList', z.object({ jobs: z.array(job) }).strict());

export type JobCredentials = z.infer<typeof jobCredentials>;
export type JobView = z.infer<typeof job>;
