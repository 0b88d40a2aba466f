import { z } from 'zod';
import { requestModel, responseModel } from '../ops/openapi-models';
import { slug, instant, count } from '../ops/dto-fields';

/* The team routes' shapes: requests as they are validated, responses as they are sent (the OpenAPI document and the CLI's types are generated from these). */

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
