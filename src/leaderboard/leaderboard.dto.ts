import { z } from 'zod';
import { requestModel, responseModel } from '../ops/openapi-models';
import { count } from '../ops/dto-fields';

const boardRow = responseModel(
  'LeaderboardRow',
  z.object({ rank: z.number().int().min(1), team: z.string(), score: z.number(), submissions: count() }).strict(),
);

export const leaderboard = responseModel(
  'Leaderboard',
  z
    .object({
      competition: z.string().describe('the competition’s egress kind (policies/egress/<kind>.json)'),
      metric: z.string(),
      ladderStep: z.number(),
      closed: z.boolean(),
      closedAt: z.string().nullable(),
      public: z.array(boardRow).describe('each team’s shown score (the Ladder’s, on the public part), best first'),
      private: z.array(boardRow).nullable().describe('after the close: each team’s best private score among its final submissions'),
    })
    .strict(),
);

export const submissionView = responseModel(
  'Submission',
  z
    .object({
      id: z.string(),
      team: z.string(),
      day: z.string(),
      shownScore: z.number().describe('the score the Ladder showed after this submission'),
      improved: z.boolean(),
      selected: z.boolean().describe('one of the team’s final submissions (scored on the private part at the close)'),
      publicScore: z.number().optional().describe('organizers and auditors only: the exact public score'),
      privateScore: z.number().nullable().optional().describe('organizers and auditors only: the private score (after the close)'),
    })
    .strict(),
);

export const submissionList = responseModel('SubmissionList', z.object({ submissions: z.array(submissionView) }).strict());

export const submissionQuery = z.object({ team: z.string().max(64).optional().describe('one team (a contestant: always their own)') });

export const selection = requestModel(
  'SubmissionSelection',
  z.object({ selected: z.boolean().describe('true: a final submission; false: not') }).strict(),
);
