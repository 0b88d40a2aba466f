import { z } from 'zod';
import { requestModel, responseModel } from '../ops/openapi-models';

/*
 * The organizer routes' shapes: requests as they are validated, responses as they are sent.
 * The OpenAPI document, and from it the CLI's types, are generated from these.
 */

const slug = (what: string) => z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, `${what} must be a slug: a-z, 0-9 and -, at most 63`);
const time = (what: string) =>
  z
    .string()
    .datetime({ offset: true, message: `${what} must be an ISO 8601 time` })
    .transform((v) => new Date(v));
/** A time the gateway sends: ISO 8601, UTC. */
const instant = () => z.string().datetime();
const count = () => z.number().int().min(0);
const splitKind = () => z.enum(['train', 'val', 'test', 'labels']);
const active = () =>
  z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional();

// Datasets

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

// Teams

export const newTeam = requestModel('NewTeam', z.object({ id: slug('id'), name: z.string().trim().min(1).max(200) }).strict());
export const newMember = requestModel(
  'NewMember',
  z
    .object({
      subject: z.string().min(1).max(200).describe("the person's `sub`"),
      issuer: z.string().url('issuer must be a URL').optional().describe("who issued the subject (default: the gateway's own tokens)"),
    })
    .strict(),
);
export const memberQuery = z.object({ issuer: z.string().max(2048).optional().describe('the issuer of the subject (default: none)') });

export const team = responseModel('Team', z.object({ id: z.string(), name: z.string(), members: count(), createdAt: instant() }).strict());
export const teamList = responseModel('TeamList', z.object({ teams: z.array(team) }).strict());
export const member = responseModel(
  'Member',
  z.object({ team: z.string(), subject: z.string(), issuer: z.string(), addedAt: instant() }).strict(),
);
export const memberList = responseModel('MemberList', z.object({ members: z.array(member) }).strict());

// Grants

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

// Jobs

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

// Tokens

export const newToken = requestModel(
  'NewToken',
  z
    .object({
      subject: z.string().min(1).max(200),
      role: z.enum(['organizer', 'auditor', 'contestant']),
      team: slug('team').optional().describe('required for a contestant, refused otherwise'),
      ttlSeconds: z
        .number()
        .int()
        .min(60)
        .max(366 * 24 * 3600)
        .default(30 * 24 * 3600),
    })
    .strict()
    .refine((t) => t.role !== 'contestant' || t.team !== undefined, 'a contestant token needs a team'),
);

export const issuedToken = responseModel('IssuedToken', z.object({ token: z.string(), expiresAt: instant() }).strict());

// External OIDC issuers

export const newIssuer = requestModel(
  'NewIssuer',
  z
    .object({
      issuer: z
        .string()
        .url('issuer must be a URL')
        .refine((u) => u !== 'cage', 'issuer "cage" is the gateway itself'),
      jwksUrl: z
        .string()
        .url('jwksUrl must be a URL')
        .refine((u) => /^https?:\/\//.test(u), 'jwksUrl must be http(s)'),
      audience: z.string().min(1).max(200),
      roleClaim: z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_:.-]{0,63}$/)
        .default('cage_role'),
    })
    .strict(),
);

const issuerFields = { issuer: z.string(), jwksUrl: z.string(), audience: z.string(), roleClaim: z.string() };
export const issuer = responseModel('Issuer', z.object(issuerFields).strict());
export const issuerList = responseModel('IssuerList', z.object({ issuers: z.array(issuer) }).strict());
export const registeredIssuer = responseModel(
  'RegisteredIssuer',
  z.object({ ...issuerFields, keys: count().describe('keys its JWKS holds now') }).strict(),
);

export type GrantView = z.infer<typeof grant>;
export type JobCredentials = z.infer<typeof jobCredentials>;
export type JobView = z.infer<typeof job>;
