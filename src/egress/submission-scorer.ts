import { ConflictException } from '@nestjs/common';
import { type Queryable } from '../db/database';
import { type JobPrincipal } from '../principal/principal';
import { type SubmissionsKind } from '../policy/egress-kinds/egress-kind.types';
import { ReleaseFailedError } from './egress-release';

/**
 * What the egress pipeline asks of the leaderboard for a `predictions-score` kind: the
 * predictions are scored and kept inside, and only the score is released. Implemented in
 * src/leaderboard (above egress); attached at start-up.
 */
export interface SubmissionScorer {
  /** The bits the released answer can carry (its space of values), before anything is read. */
  answerBits(kind: SubmissionsKind): number;
  /**
   * Scores canonical predictions on the public part and keeps them inside (never in the
   * outbox). Throws ScoringUnavailableError when it cannot (labels unreadable, a metric unknown).
   */
  score(job: JobPrincipal, kind: SubmissionsKind, submissionId: string, canonical: Buffer): Promise<ScoredSubmission>;
  /**
   * Under the team's lock, in the transaction that records the artifact: the Ladder's step (the
   * score shown now) and the submission's row. Returns the answer released (canonical JSON).
   */
  record(tx: Queryable, job: JobPrincipal, kind: SubmissionsKind, scored: ScoredSubmission, day: string): Promise<SubmissionAnswer>;
  /** A scored submission the policy then refused: what `score` kept is dropped. */
  discard(scored: ScoredSubmission): Promise<void>;
}

export interface ScoredSubmission {
  id: string;
  /** The exact public score (organizers only; never released as it is). */
  publicScore: number;
  predictionsSha256: string;
  /** Where the predictions are kept inside. */
  storedKey: string;
}

export interface SubmissionAnswer {
  /** The canonical JSON released (the artifact's bytes). */
  released: Buffer;
  shown: number;
  improved: boolean;
}

/** Scoring cannot happen now: the submission fails closed (503), nothing charged or released. */
export class ScoringUnavailableError extends ReleaseFailedError {}

/** The competition is closed: a submission is not scored (409; an abort leaf, nothing charged). */
export class CompetitionClosedError extends ConflictException {
  constructor() {
    super('the competition is closed: submissions are no longer scored');
  }
}
