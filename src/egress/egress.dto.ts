import { z } from 'zod';
import { apiError } from '../ops/error.dto';
import { requestModel, responseModel } from '../ops/openapi-models';

/* The egress routes' shapes: receipts and budgets (sandbox), artifact rows and reviews (control). */

const count = () => z.number().int().min(0);
const sha256 = () => z.string().regex(/^[0-9a-f]{64}$/);
const status = () => z.enum(['releasing', 'released', 'pending_review', 'rejected', 'failed']);

export const egressListQuery = z
  .object({
    status: status().optional(),
    kind: z.string().max(64).optional(),
    team: z.string().max(64).optional(),
    cursor: z.string().max(100).optional().describe('the nextCursor of the previous page'),
    limit: z.coerce.number().int().min(1, 'limit must be 1..1000').max(1000, 'limit must be 1..1000').default(100),
  })
  .strict();

export const reviewBody = requestModel(
  'NewReview',
  z
    .object({
      decision: z.enum(['approve', 'reject'], { errorMap: () => ({ message: 'decision must be approve or reject' }) }),
      comment: z.string().trim().min(1, 'a comment is required').max(4000),
    })
    .strict(),
);

const reason = () =>
  z
    .object({
      code: z.string().describe('a stable reason code'),
      line: z.number().int().optional(),
      field: z.string().optional(),
      message: z.string().describe('never an echo of the content'),
    })
    .strict();

export const artifact = responseModel(
  'Artifact',
  z
    .object({
      id: z.string(),
      team: z.string(),
      jobId: z.string(),
      kind: z.string(),
      status: status(),
      day: z
        .string()
        .regex(/^\d{4}-\d{2}-\d{2}$/)
        .describe('the UTC day it is charged to'),
      submittedSha256: sha256(),
      submittedBytes: count(),
      sha256: sha256().nullable().describe('of the canonical bytes (released or held)'),
      bytes: count().nullable(),
      bits: z.number().min(0).describe('charged to the team'),
      reasons: z.array(reason()),
      outboxKey: z.string().nullable(),
      auditIndex: count().nullable(),
      createdAt: z.string().datetime(),
      decidedAt: z.string().datetime().nullable(),
    })
    .strict()
    .describe('an egress row, whole (organizers and auditors)'),
);

/**
 * An artifact as its own team's contestants see it: only what is charged to the team's budget
 * or fixed by the gateway. Not the size or hash of what was submitted (the submitter chose
 * them), not when in the day it came (the day only), not the audit index (it counts every
 * team's activity); a refusal's message is the fixed text of its code.
 */
export const teamArtifactView = responseModel(
  'TeamArtifactView',
  z
    .object({
      id: z.string(),
      team: z.string(),
      kind: z.string(),
      status: status(),
      day: z.string(),
      sha256: sha256().nullable(),
      bytes: count().nullable(),
      bits: z.number().min(0),
      reasons: z.array(reason()),
    })
    .strict()
    .describe("an egress row as its team's contestants see it"),
);

export const review = responseModel(
  'Review',
  z
    .object({
      reviewer: z.string(),
      decision: z.enum(['approve', 'reject']),
      comment: z.string(),
      createdAt: z.string().datetime(),
      auditIndex: count(),
    })
    .strict(),
);
export const teamReview = responseModel('TeamReview', z.object({ decision: z.enum(['approve', 'reject']), comment: z.string() }).strict());

export const egressPage = responseModel(
  'EgressPage',
  z
    .object({
      artifacts: z.union([z.array(artifact), z.array(teamArtifactView)]).describe('whole rows, or a contestant their team’s views'),
      nextCursor: z.string().nullable(),
    })
    .strict(),
);

export const artifactWithReviews = responseModel('ArtifactWithReviews', z.object({ artifact, reviews: z.array(review) }).strict());
export const teamArtifactWithReviews = responseModel(
  'TeamArtifactWithReviews',
  z.object({ artifact: teamArtifactView, reviews: z.array(teamReview) }).strict(),
);
export const artifactDetail = responseModel('ArtifactDetail', z.union([artifactWithReviews, teamArtifactWithReviews]));

export const receipt = responseModel(
  'Receipt',
  z
    .object({
      id: z.string(),
      status: status(),
      kind: z.string(),
      sha256: sha256().describe('of the canonical bytes released (or held)'),
      bits: z.number().min(0),
      bytes: count(),
      auditIndex: count(),
      score: z
        .object({
          public: z.number().describe("the team's public score as the Ladder shows it (rounded to its step)"),
          improved: z.boolean().describe('whether this submission moved it'),
        })
        .strict()
        .optional()
        .describe('a scored submission (kind `submissions`): the only thing about its predictions that leaves'),
    })
    .strict(),
);

export const budget = responseModel(
  'Budget',
  z
    .object({
      team: z.string(),
      day: z.string(),
      dailyBits: z.number(),
      bitsUsed: z.number(),
      bitsRemaining: z.number(),
      submissions: z.record(z.object({ used: count(), limit: count(), remaining: count() }).strict()).describe('per kind'),
      refusalBits: z.record(z.number()).describe('what one refusal of each kind costs, the attempt included'),
    })
    .strict(),
);

/** 413, 422 and 429 of an egress attempt. */
export const egressRefused = responseModel(
  'EgressRefused',
  apiError
    .extend({
      artifactId: z.string().nullable().describe('the row the refusal was logged under (null when none was made)'),
      reasons: z.array(reason()),
      remaining: z.record(z.number()).optional().describe('429: what is left today (bits, submissions)'),
    })
    .strict(),
);

export type ArtifactRow = z.infer<typeof artifact>;
export type ReviewRow = z.infer<typeof review>;
export type TeamArtifactView = z.infer<typeof teamArtifactView>;
