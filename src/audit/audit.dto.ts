import { z } from 'zod';
import { responseModel } from '../ops/openapi-models';

/* The audit routes' shapes: the log, its tree heads and proofs, its keys, and the reports. */

const isoQuery = (name: string, what: string) =>
  z
    .string()
    .datetime({ offset: true, message: `${name} must be an ISO 8601 time` })
    .optional()
    .describe(what);
const limit = () => z.coerce.number().int().min(1, 'limit must be 1..1000').max(1000, 'limit must be 1..1000').default(100);
const index = () => z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const count = () => z.number().int().min(0);
const hex = () => z.string().regex(/^[0-9a-f]*$/);

export const auditQuery = z
  .object({
    from: isoQuery('from', 'ISO 8601, inclusive'),
    to: isoQuery('to', 'ISO 8601, exclusive'),
    principal: z.string().max(200).optional().describe('job:<id> or user:<sub>'),
    team: z.string().max(64).optional(),
    action: z.string().max(64).optional(),
    decision: z.enum(['allow', 'deny', 'error', 'info']).optional(),
    cursor: z
      .string()
      .regex(/^\d{1,15}$/, 'cursor must be the nextCursor of a previous page')
      .optional(),
    limit: limit(),
  })
  .strict();

export const checkpointsQuery = z.object({ maxSize: index().optional().describe('only checkpoints of at most this many leaves') });
export const inclusionQuery = z
  .object({ index: index(), size: index().optional().describe('tree size (default: the latest checkpoint)') })
  .strict();
export const consistencyQuery = z
  .object({ from: index(), to: index().optional().describe('tree size (default: the latest checkpoint)') })
  .strict();
export const leafHashesQuery = z
  .object({ from: index().default(0), to: index().optional().describe('exclusive (default: the latest checkpoint size)') })
  .strict();
export const exportQuery = leafHashesQuery.extend({ format: z.enum(['jsonl', 'csv']).default('jsonl') }).strict();

export const reportQuery = z
  .object({
    from: z.string().datetime({ offset: true, message: 'from must be an ISO 8601 time' }).default('1970-01-01T00:00:00Z'),
    to: isoQuery('to', 'exclusive (default: now)'),
    format: z.enum(['json', 'csv']).default('json'),
  })
  .strict();

export const auditLeaf = responseModel(
  'AuditLeaf',
  z
    .object({
      v: z.literal(1),
      time: z.string().datetime(),
      requestId: z.string(),
      principal: z.string().describe('job:<id>, user:<sub>, or gateway for its own acts'),
      team: z.string().nullable(),
      listener: z.enum(['sandbox', 'control', 'internal']),
      action: z.string(),
      decision: z.enum(['allow', 'deny', 'error', 'info']),
      status: z.number().int().nullable().describe('the HTTP status answered, when the leaf records a request'),
      resource: z
        .object({
          type: z.string(),
          dataset: z.string().optional(),
          keyHex: hex().optional().describe('object key bytes as sent to the store, hex'),
          id: z.string().optional(),
        })
        .strict()
        .nullable(),
      range: z.string().nullable().describe('the single range served, start-end inclusive'),
      policies: z.array(z.string()).describe('the policy ids that determined the decision'),
      policySet: hex().nullable().describe('SHA-256 of the policy set that decided'),
      bytes: count(),
      sha256: hex().nullable().describe('of what was egressed, for egress leaves'),
      detail: z.record(z.unknown()).nullable(),
    })
    .strict()
    .describe('one decision, egress step or change; its bytes (canonical JSON) are what the tree hashes'),
);

export const storedLeaf = responseModel(
  'StoredLeaf',
  z.object({ index: count(), hash: hex().describe('RFC 6962 leaf hash'), leaf: auditLeaf }).strict(),
);
export const auditPage = responseModel(
  'AuditPage',
  z.object({ leaves: z.array(storedLeaf), nextCursor: z.string().nullable().describe('null on the last page') }).strict(),
);

export const signingKey = responseModel(
  'SigningKey',
  z
    .object({
      keyId: hex().describe('the checkpoint note key id (8 hex digits)'),
      verifierKey: z.string().describe('name+keyid+base64(0x01‖Ed25519 key): what a verifier pins'),
      kid: z.string().describe('the same key in JWT headers'),
      notBefore: z.string().datetime(),
      notAfter: z.string().datetime().nullable().describe('null: the active key'),
      tokensUntil: z.string().datetime().nullable().describe("until when the retired key's tokens are accepted"),
      active: z.boolean(),
    })
    .strict(),
);
export const signingKeyList = responseModel('SigningKeyList', z.object({ keys: z.array(signingKey) }).strict());

export const checkpointList = responseModel(
  'CheckpointList',
  z
    .object({
      checkpoints: z.array(
        z
          .object({ size: count(), root: hex(), createdAt: z.string().datetime(), note: z.string().describe('C2SP tlog-checkpoint') })
          .strict(),
      ),
    })
    .strict(),
);

export const inclusionProof = responseModel(
  'InclusionProof',
  z.object({ index: count(), size: count(), leafHash: hex(), root: hex(), proof: z.array(hex()) }).strict(),
);
export const consistencyProof = responseModel(
  'ConsistencyProof',
  z.object({ from: count(), to: count(), fromRoot: hex(), toRoot: hex(), proof: z.array(hex()) }).strict(),
);

export const teamReportList = responseModel(
  'TeamReportList',
  z
    .object({
      teams: z.array(
        z
          .object({
            team: z.string(),
            released: z.record(count()).describe('artifacts released, per kind'),
            rejected: z.record(count()).describe('artifacts rejected, per kind'),
            rejectedByReason: z.record(count()),
            bitsReleased: z.number(),
            bitsBudgetPerDay: z.number(),
            bytesReadByDataset: z.record(count()),
            readsDenied: count(),
          })
          .strict(),
      ),
    })
    .strict(),
);

export const auditEventList = responseModel(
  'AuditEventList',
  z
    .object({
      events: z.array(
        z
          .object({
            index: count(),
            time: z.string().datetime(),
            principal: z.string(),
            team: z.string().nullable(),
            action: z.string(),
            decision: z.string(),
            resource: z.string().nullable(),
            detail: z.string().describe("the leaf's detail, as JSON text"),
          })
          .strict(),
      ),
    })
    .strict(),
);
