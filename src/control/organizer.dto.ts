import { z } from 'zod';

const slug = (what: string) => z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, `${what} must be a slug: a-z, 0-9 and -, at most 63`);
const time = (what: string) =>
  z
    .string()
    .datetime({ offset: true, message: `${what} must be an ISO 8601 time` })
    .transform((v) => new Date(v));

export const newDataset = z
  .object({
    id: slug('id'),
    bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'bucket must be an S3 bucket name'),
    prefix: z.string().max(512),
    title: z.string().max(200).optional(),
    splits: z
      .array(
        z
          .object({ name: slug('split name'), kind: z.enum(['train', 'val', 'test', 'labels']), prefix: z.string().min(2).max(512) })
          .strict(),
      )
      .min(1),
  })
  .strict();

export const newTeam = z.object({ id: slug('id'), name: z.string().trim().min(1).max(200) }).strict();
export const newMember = z
  .object({ subject: z.string().min(1).max(200), issuer: z.string().url('issuer must be a URL').optional() })
  .strict();

export const newGrant = z
  .object({
    team: slug('team'),
    dataset: slug('dataset'),
    split: slug('split'),
    notBefore: time('notBefore'),
    notAfter: time('notAfter'),
    byteQuota: z.number().int().min(0).optional(),
  })
  .strict();

export const grantQuery = z
  .object({
    team: z.string().optional(),
    dataset: z.string().optional(),
    active: z
      .enum(['true', 'false'])
      .transform((v) => v === 'true')
      .optional(),
  })
  .strict();

export const newJob = z
  .object({
    team: slug('team'),
    ttlSeconds: z
      .number()
      .int('ttlSeconds must be an integer')
      .min(60, 'ttlSeconds must be at least 60')
      .max(86400, 'ttlSeconds must be at most 86400 (24 h)')
      .default(3600),
  })
  .strict();

export const jobQuery = z
  .object({
    team: z.string().optional(),
    active: z
      .enum(['true', 'false'])
      .transform((v) => v === 'true')
      .optional(),
  })
  .strict();

export const policyFiles = z.object({ files: z.record(z.string().max(200), z.string().max(1024 * 1024)) }).strict();
export const rollback = z.object({ version: z.number().int().min(1) }).strict();

export const newToken = z
  .object({
    subject: z.string().min(1).max(200),
    role: z.enum(['organizer', 'auditor', 'contestant']),
    team: slug('team').optional(),
    ttlSeconds: z
      .number()
      .int()
      .min(60)
      .max(366 * 24 * 3600)
      .default(30 * 24 * 3600),
  })
  .strict()
  .refine((t) => t.role !== 'contestant' || t.team !== undefined, 'a contestant token needs a team');

export const newIssuer = z
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
  .strict();
