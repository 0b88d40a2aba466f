import { z } from 'zod';
import { requestModel, responseModel } from '../ops/openapi-models';
import { slug, instant, count } from '../ops/dto-fields';

/* The token and issuer routes' shapes: requests as they are validated, responses as they are sent (the OpenAPI document and the CLI's types are generated from these). */

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
        .optional()
        .describe('default: 12 h for an organizer or auditor, 7 days for a contestant'),
    })
    .strict()
    .refine((t) => t.role !== 'contestant' || t.team !== undefined, 'a contestant token needs a team'),
);

export const issuedToken = responseModel(
  'IssuedToken',
  z.object({ token: z.string(), tokenId: z.string().describe('its id: what `cage token revoke` names'), expiresAt: instant() }).strict(),
);

export const tokenRevocation = responseModel(
  'TokenRevocation',
  z
    .object({
      tokenId: z.string().optional(),
      subject: z.string().optional(),
      revokedAt: instant().describe('refused on every replica within 1 s of this'),
    })
    .strict(),
);

export const subjectRevocation = requestModel(
  'SubjectRevocation',
  z.object({ subject: z.string().min(1).max(200).describe('every token of this subject issued up to now') }).strict(),
);

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
