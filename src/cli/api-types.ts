/*
 * The control API's shapes the CLI uses, by name. They are generated (api.generated.ts, from
 * openapi/control.json, from the server's zod models): nothing here is copied by hand, so a
 * change on the server that the CLI does not follow fails the type check.
 */

import { type components } from './api.generated';

type Schemas = components['schemas'];

export type ApiError = Schemas['ApiError'];

export type Split = Schemas['Split'];
export type Dataset = Schemas['Dataset'];
export type DatasetList = Schemas['DatasetList'];
export type NewDataset = Schemas['NewDataset'];
export type IndexRun = Schemas['IndexRun'];
export type ManifestReport = Schemas['ManifestReport'];

export type IngestRun = Schemas['IngestRun'];
export type IngestRunList = Schemas['IngestRunList'];
export type NewIngest = Schemas['NewIngest'];

export type Team = Schemas['Team'];
export type TeamList = Schemas['TeamList'];
export type NewTeam = Schemas['NewTeam'];
export type Member = Schemas['Member'];
export type MemberList = Schemas['MemberList'];
export type NewMember = Schemas['NewMember'];

export type Grant = Schemas['Grant'];
export type GrantList = Schemas['GrantList'];
export type NewGrant = Schemas['NewGrant'];

export type JobCredentials = Schemas['JobCredentials'];
export type Job = Schemas['Job'];
export type JobList = Schemas['JobList'];
export type NewJob = Schemas['NewJob'];

export type PolicyVersion = Schemas['PolicyVersion'];
export type PolicyVersionList = Schemas['PolicyVersionList'];
export type PolicyCheck = Schemas['PolicyCheck'];
export type PolicyFiles = Schemas['PolicyFiles'];
export type PolicyRollback = Schemas['PolicyRollback'];

export type IssuedToken = Schemas['IssuedToken'];
export type TokenRevocation = Schemas['TokenRevocation'];
export type SubjectRevocation = Schemas['SubjectRevocation'];
export type NewToken = Schemas['NewToken'];
export type Role = NewToken['role'];
/** The roles `--role` offers, in help order; the type check holds them to the server's. */
export const ROLES = ['organizer', 'auditor', 'contestant'] as const satisfies readonly Role[];

export type SigningKey = Schemas['SigningKey'];
export type SigningKeyList = Schemas['SigningKeyList'];
export type SigningKeyRotation = Schemas['SigningKeyRotation'];
export type RotateSigningKey = Schemas['RotateSigningKey'];

export type AuditPage = Schemas['AuditPage'];
export type StoredLeaf = Schemas['StoredLeaf'];
export type CheckpointList = Schemas['CheckpointList'];

export type Leaderboard = Schemas['Leaderboard'];
export type Submission = Schemas['Submission'];
export type SubmissionList = Schemas['SubmissionList'];
export type SubmissionSelection = Schemas['SubmissionSelection'];
