import { z } from 'zod';
import { apiError } from '../ops/error.dto';
import { requestModel, responseModel } from '../ops/openapi-models';

export const policyFiles = requestModel(
  'PolicyFiles',
  z
    .object({
      files: z
        .record(z.string().max(200), z.string().max(1024 * 1024))
        .describe('the whole policy directory by relative path: schema.cedarschema, *.cedar, egress/*.json, budget.json, tests/*.json'),
    })
    .strict(),
);
export const rollback = requestModel(
  'PolicyRollback',
  z.object({ version: z.number().int().min(1).describe('the version whose files to activate again') }).strict(),
);

export const policyVersion = responseModel(
  'PolicyVersion',
  z
    .object({
      version: z.number().int().min(1),
      sha256: z.string().describe('of the policy set'),
      activatedAt: z.string().datetime(),
      activatedBy: z.string(),
      files: z.array(z.string()),
      active: z.boolean(),
    })
    .strict(),
);
export const policyVersionList = responseModel('PolicyVersionList', z.object({ versions: z.array(policyVersion) }).strict());

const expectation = z.object({ name: z.string(), passed: z.boolean(), message: z.string() }).strict();

export const policyCheck = responseModel(
  'PolicyCheck',
  z
    .object({
      ok: z.boolean(),
      sha256: z.string().nullable().describe('of the candidate set; null when it does not compile'),
      errors: z.array(z.string()).describe('schema and validation errors'),
      expectations: z.array(expectation).describe("the set's tests/*.json, each run against the candidate"),
    })
    .strict(),
);

/** 422: the set was refused; the active one keeps deciding. */
export const policyRefused = responseModel(
  'PolicyRefused',
  apiError
    .extend({
      errors: z.array(z.string()),
      failures: z.array(z.object({ expectation: z.string(), message: z.string() }).strict()),
    })
    .strict(),
);
