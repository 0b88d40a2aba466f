import { createHash } from 'node:crypto';
import { type Clock } from '../clock/clock';
import { type Queryable } from '../db/database';
import { type DatasetRepository } from '../datasets/dataset.repository';
import { type SeriesRepository } from '../datasets/series.repository';
import {
  CompetitionClosedError,
  type ScoredSubmission,
  type SubmissionAnswer,
  type SubmissionScorer,
  ScoringUnavailableError,
} from '../egress/submission-scorer';
import { type SubmissionsKind } from '../policy/egress-kinds/egress-kind.types';
import { type JobPrincipal } from '../principal/principal';
import { ObjectStoreUnavailableError, type ObjectStore } from '../storage/object-store.service';
import { ladder, ladderAnswerBits } from './ladder';
import { type LeaderboardRepository } from './leaderboard.repository';
import { MetricInputError } from './metrics/froc';
import { METRICS } from './metrics/metric';
import { splitScans } from './split';

/** Where submitted predictions are kept: inside the cage, never the outbox, never served to a job. */
export const SUBMISSIONS_BUCKET = 'cage-submissions';

/** Label files larger than this are not read into memory (LUNA16's annotations.csv is 60 KiB). */
const MAX_LABELS_BYTES = 64 * 1024 * 1024;

/**
 * The leaderboard's side of a submission: its predictions scored on the public part against
 * labels no job can read, kept inside, and answered through the Ladder.
 */
export class LeaderboardScorer implements SubmissionScorer {
  constructor(
    private readonly repo: LeaderboardRepository,
    private readonly datasets: DatasetRepository,
    private readonly series: SeriesRepository,
    private readonly store: ObjectStore,
    private readonly clock: Clock,
  ) {}

  answerBits(kind: SubmissionsKind): number {
    return ladderAnswerBits(kind.ladderStep);
  }

  async score(job: JobPrincipal, kind: SubmissionsKind, submissionId: string, canonical: Buffer): Promise<ScoredSubmission> {
    if ((await this.repo.closed(kind.kind)) !== undefined) throw new CompetitionClosedError();
    const parts = await this.parts(kind);
    const publicScore = this.compute(kind, parts.labels, canonical, parts.public);
    const storedKey = `${job.team}/${submissionId}.csv`;
    await this.store.put(SUBMISSIONS_BUCKET, storedKey, canonical, 'text/csv', canonical.length);
    return { id: submissionId, publicScore, predictionsSha256: createHash('sha256').update(canonical).digest('hex'), storedKey };
  }

  async record(tx: Queryable, job: JobPrincipal, kind: SubmissionsKind, scored: ScoredSubmission, day: string): Promise<SubmissionAnswer> {
    const best = await this.repo.bestShown(tx, kind.kind, job.team);
    const { shown, improved } = ladder(best, scored.publicScore, kind.ladderStep);
    await this.repo.insert(tx, {
      id: scored.id,
      kind: kind.kind,
      team: job.team,
      jobId: job.jobId,
      day,
      createdAt: this.clock.now().toISOString(),
      predictionsSha256: scored.predictionsSha256,
      storedKey: scored.storedKey,
      publicScore: scored.publicScore,
      shownScore: shown,
      improved,
      privateScore: null,
      selected: false,
    });
    // Canonical JSON (sorted keys): the answer is a function of the Ladder's state alone.
    const released = Buffer.from(JSON.stringify({ improved, publicScore: shown, submission: scored.id }));
    return { released, shown, improved };
  }

  async discard(scored: ScoredSubmission): Promise<void> {
    await this.store.delete(SUBMISSIONS_BUCKET, scored.storedKey).catch(() => undefined);
  }

  /** The labels and the public and private scans of a competition. */
  async parts(
    kind: SubmissionsKind,
  ): Promise<{ labels: { annotations: string; excluded?: string }; public: Set<string>; private: Set<string> }> {
    const dataset = await this.datasets.get(kind.labels.dataset);
    if (dataset === undefined) throw new ScoringUnavailableError(`the competition's dataset ${kind.labels.dataset} is not registered`);
    // Hidden means in a split of kind `labels`, which no grant opens to a job.
    for (const key of [kind.labels.annotations, kind.labels.excluded].filter((k) => k !== undefined))
      if (!dataset.splits.some((s) => s.kind === 'labels' && key.startsWith(s.prefix)))
        throw new ScoringUnavailableError(`the competition's labels ${key} are not in a labels split of ${dataset.id}`);
    const read = async (key: string) => {
      try {
        return (await this.store.getBuffer(dataset.bucket, `${dataset.prefix}${key}`, MAX_LABELS_BYTES)).toString('utf8');
      } catch (err) {
        if (err instanceof ObjectStoreUnavailableError) throw err;
        throw new ScoringUnavailableError(`the competition's labels ${key} cannot be read`, { cause: err });
      }
    };
    const annotations = await read(kind.labels.annotations);
    const excluded = kind.labels.excluded === undefined ? undefined : await read(kind.labels.excluded);
    const tests = dataset.splits.filter((s) => s.kind === 'test').map((s) => ({ dataset: dataset.id, split: s.name }));
    const scans = [...(await this.series.boxes(tests)).keys()];
    let split: { public: Set<string>; private: Set<string> };
    try {
      split = splitScans(await this.repo.splitSeed(this.clock.now()), scans, kind.publicFraction);
    } catch (err) {
      throw new ScoringUnavailableError(`the competition cannot be split: ${(err as Error).message}`);
    }
    return { labels: { annotations, ...(excluded === undefined ? {} : { excluded }) }, ...split };
  }

  /** The competition's metric on `scans`; a metric or labels it cannot use fail closed. */
  compute(kind: SubmissionsKind, labels: { annotations: string; excluded?: string }, predictions: Buffer, scans: Set<string>): number {
    const metric = METRICS.get(kind.metric);
    if (metric === undefined) throw new ScoringUnavailableError(`the metric ${kind.metric} is not built in`);
    try {
      return metric.score({ labels: labels.annotations, excluded: labels.excluded, predictions: predictions.toString('utf8') }, scans)
        .score;
    } catch (err) {
      if (err instanceof MetricInputError) throw new ScoringUnavailableError(`the competition cannot be scored: ${err.message}`);
      throw err;
    }
  }
}
