import { createHash } from 'node:crypto';
import { type Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { type AuditLog, type RequestMeta } from '../audit/audit-log.service';
import { type JobPrincipal } from '../principal/principal';
import { type Clock } from '../clock/clock';
import { Ids } from '../clock/ids';
import { type DatasetRepository } from '../datasets/dataset.repository';
import { type SeriesRepository } from '../datasets/series.repository';
import { type GrantRepository } from '../grants/grant.repository';
import { type PolicyDecision, type PolicyEngine, type TeamGrants } from '../policy/policy.types';
import { type ObjectStore } from '../storage/object-store.service';
import { EgressLimiter, type EgressLimits } from './egress-limiter';
import { EgressRefusal, type RefusalReason } from './egress-refusal';
import { HELD_BUCKET, outboxKey, type Releaser } from './egress-release';
import { type Artifact, type EgressRepository } from './egress.repository';
import { artifactChecker } from './kinds/check-artifact';
import { type CheckedArtifact, type EgressKind, type SubmissionsKind } from '../policy/egress-kinds/egress-kind.types';
import {
  CompetitionClosedError,
  type ScoredSubmission,
  type SubmissionAnswer,
  type SubmissionScorer,
  ScoringUnavailableError,
} from './submission-scorer';
import { EgressOverBudget, EgressRejection } from './kinds/egress-rejection';
import { roundBitsUp } from './kinds/information-bits';
import { POLICY_REFUSAL_CODE, attemptBits, refusalBits, slotsPerDay } from './kinds/refusal-feedback';

export interface Receipt {
  id: string;
  status: Artifact['status'];
  kind: string;
  sha256: string;
  bits: number;
  bytes: number;
  auditIndex: number;
  /** A scored submission: the score shown (the Ladder's), and whether this one moved it. */
  score?: { public: number; improved: boolean };
}

/** Bytes a scored submission's answer is bounded by, for policy's `bytes` (a JSON of three short fields). */
const SUBMISSION_ANSWER_BYTES = 256;

export type PayloadAuth = 'bearer' | 'sha256' | 'aws-chunked' | 'unsigned';

export interface BudgetView {
  team: string;
  day: string;
  dailyBits: number;
  bitsUsed: number;
  bitsRemaining: number;
  submissions: Record<string, { used: number; limit: number; remaining: number }>;
  /** Bits every refusal of a kind is charged (its feedback), attempt charge included. */
  refusalBits: Record<string, number>;
}

/** What was read of a body before it was refused or failed: for the leaf, never the content. */
interface ReadSoFar {
  sha256: string;
  bytes: number;
  unread: boolean;
}

/**
 * The only way out of the sandbox. An attempt passes, in order: a slot (a few per job) → the
 * daily cap and budget (room for at least a refusal) → the body, checked as it streams (the first
 * broken rule stops the reading) → canonical rewrite → information bits → policy decision with
 * the team's budget → durable audit leaf → outbox → receipt.
 *
 * Every authenticated attempt leaves exactly one leaf: release or hold, refusal, or abort (a body
 * cut off or failing its signature). A refusal the team can see (a row with reasons) is charged
 * its feedback bits and counts against the daily cap; one over the cap or the budget is a 429
 * with no reasons and no row, so it tells the outside nothing. See docs/disclosure.md.
 */
export class EgressService {
  private readonly limiter: EgressLimiter;
  /** Attempts refused by the rate limit, per job, summarized in one leaf a second. */
  private readonly throttled = new Map<string, { team: string; count: number }>();
  private scorer?: SubmissionScorer;

  constructor(
    private readonly policy: PolicyEngine,
    private readonly grants: GrantRepository,
    private readonly datasets: DatasetRepository,
    private readonly series: SeriesRepository,
    private readonly repo: EgressRepository,
    private readonly store: ObjectStore,
    private readonly releaser: Releaser,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly limits: EgressLimits & { overLimitDelayMs: number; publishSeconds: number } = {
      concurrentPerJob: 2,
      attemptsPerSecondPerJob: 2,
      attemptsPerSecondPerTeam: 5,
      overLimitDelayMs: 1000,
      publishSeconds: 60,
    },
    private readonly ids: Ids = new Ids(),
  ) {
    this.limiter = new EgressLimiter(limits);
  }

  /** The leaderboard, for `predictions-score` kinds (attached at start-up; without it they fail closed). */
  attachScorer(scorer: SubmissionScorer): void {
    this.scorer = scorer;
  }

  /**
   * `payload` says how the body was authenticated, for policy: `bearer` (REST: the job token
   * covers the request, not the bytes), `sha256` or `aws-chunked` (S3: SigV4 signs the bytes),
   * `unsigned` (S3 UNSIGNED-PAYLOAD: nothing binds the bytes to the signature).
   */
  async submit(
    job: JobPrincipal,
    kindName: string,
    body: Readable,
    meta: RequestMeta,
    payload: PayloadAuth = 'bearer',
    declaredBytes?: number,
  ): Promise<Receipt> {
    this.admit(job);
    const release = this.limiter.acquire(job.jobId);
    if (release === null) throw await this.refuseUnseen(job, kindName, meta, 'too_many_at_once');
    try {
      return await this.attempt(job, kindName, body, meta, payload, declaredBytes);
    } finally {
      release();
    }
  }

  /**
   * Whether an artifact of this kind could be released to the job now, asked before anything of
   * it is held (a multipart upload's start): the kind exists, a policy permits it, and the day
   * has room for at least a refusal. Nothing is logged or charged; the attempt itself decides.
   */
  async preflight(job: JobPrincipal, kindName: string): Promise<'ok' | 'unknown_kind' | 'not_permitted' | 'over_limits'> {
    const kind = this.policy.egress.kinds.get(kindName);
    if (kind === undefined) return 'unknown_kind';
    const teamGrants = await this.grants.forTeam(job.team);
    const today = await this.repo.usage(this.repo.database, job.team, this.day(), kind.kind);
    const pre = this.decide(job, kind, 'sha256', { bits: 0, bytes: 0, today }, teamGrants, this.refusalCharge(kind));
    if (overBudget(pre)) return 'over_limits';
    return pre.decision === 'allow' ? 'ok' : 'not_permitted';
  }

  /**
   * An attempt that failed below the pipeline (an S3 upload whose headers are refused before
   * the body is read): its one leaf. Nothing is charged: nothing of it is shown outside.
   */
  async recordUnread(job: JobPrincipal, kindName: string, reason: string, meta: RequestMeta): Promise<void> {
    this.admit(job);
    await this.abortLeaf(job, kindName, reason, { sha256: sha(Buffer.alloc(0)), bytes: 0, unread: true }, meta);
  }

  private async attempt(
    job: JobPrincipal,
    kindName: string,
    body: Readable,
    meta: RequestMeta,
    payload: PayloadAuth,
    declaredBytes: number | undefined,
  ): Promise<Receipt> {
    const kind = this.policy.egress.kinds.get(kindName);
    if (kind === undefined) throw await this.refuseUnseen(job, kindName, meta, 'unknown_kind');
    const nothing: ReadSoFar = { sha256: sha(Buffer.alloc(0)), bytes: 0, unread: true };
    const teamGrants = await this.grants.forTeam(job.team);
    // Before a byte is read: room today for at least a refusal, and a permit for what the
    // artifact is whatever it holds (a kind without a permit, an unsigned S3 upload).
    const today = await this.repo.usage(this.repo.database, job.team, this.day(), kind.kind);
    const pre = this.decide(job, kind, payload, { bits: 0, bytes: 0, today }, teamGrants, this.refusalCharge(kind));
    if (overBudget(pre)) throw await this.refuseUnseen(job, kindName, meta, 'over_limits', pre);
    if (pre.decision !== 'allow') throw await this.refuse(job, kind, payload, teamGrants, 422, policyReason(pre), nothing, meta);
    if (declaredBytes !== undefined && declaredBytes > kind.maxBytes) {
      throw await this.refuse(
        job,
        kind,
        payload,
        teamGrants,
        413,
        [{ code: 'too_large', message: `larger than ${kind.maxBytes} bytes` }],
        nothing,
        meta,
      );
    }

    // The body stops being read once it must carry more bits than remain (an upper bound: the
    // decision under the team's lock below is what counts).
    const maxBits = this.policy.egress.budget.dailyBits - Math.ceil(today.bits) - this.attemptCharge();
    const read = await this.readChecked(job, kind, body, meta, payload, maxBits);
    if ('overBudget' in read) throw await this.refuseUnseen(job, kindName, meta, 'over_limits', undefined, read.read);
    if ('rejection' in read) {
      const err = read.rejection;
      const reason: RefusalReason = {
        code: err.code,
        message: err.message,
        ...(err.line === undefined ? {} : { line: err.line }),
        ...(err.field === undefined ? {} : { field: err.field }),
      };
      throw await this.refuse(job, kind, payload, teamGrants, err.code === 'too_large' ? 413 : 422, [reason], read.read, meta);
    }
    return this.decideAndRelease(job, kind, payload, read.checked, read.read, meta);
  }

  /**
   * Reads the body through the kind's checker. A rejection stops the checking where it happened
   * (the stream is paused, not drained) — except for an S3 body whose SHA-256 the signature
   * carries: a refusal must rest on signed bytes, so that body is read to its end (hashing
   * only, at most the kind's cap) and a body that fails its digest is an abort, not a refusal.
   * A body that fails (cut off, a signature or digest that does not match) is logged as an
   * abort and its error rethrown.
   */
  private async readChecked(
    job: JobPrincipal,
    kind: EgressKind,
    body: Readable,
    meta: RequestMeta,
    payload: PayloadAuth,
    maxBits: number,
  ): Promise<
    { checked: CheckedArtifact; read: ReadSoFar } | { rejection: EgressRejection; read: ReadSoFar } | { overBudget: true; read: ReadSoFar }
  > {
    const scans = kind.format === 'predictions-csv' || kind.format === 'predictions-score' ? await this.predictableScans(job) : new Map();
    const checker = artifactChecker(kind, { scans, maxBits });
    const hash = createHash('sha256');
    let bytes = 0;
    const soFar = (): ReadSoFar => ({ sha256: hash.digest('hex'), bytes, unread: !body.readableEnded });
    let stopped: EgressRejection | EgressOverBudget | undefined;
    try {
      // destroyOnReturn: false, so leaving the loop early leaves the connection able to answer.
      for await (const chunk of body.iterator({ destroyOnReturn: false })) {
        const c = chunk as Buffer;
        hash.update(c);
        bytes += c.length;
        if (stopped !== undefined) continue;
        try {
          checker.push(c);
        } catch (err) {
          if (!(err instanceof EgressRejection || err instanceof EgressOverBudget)) throw err;
          stopped = err;
          if (payload !== 'sha256') break;
        }
      }
      if (stopped === undefined) return { checked: checker.end(), read: soFar() };
    } catch (err) {
      if (err instanceof EgressRejection) stopped = err;
      else {
        await this.abortLeaf(job, kind.kind, abortReason(err), soFar(), meta);
        throw err;
      }
    }
    body.pause();
    return stopped instanceof EgressOverBudget ? { overBudget: true, read: soFar() } : { rejection: stopped, read: soFar() };
  }

  private async decideAndRelease(
    job: JobPrincipal,
    kind: EgressKind,
    payload: PayloadAuth,
    checked: CheckedArtifact,
    read: ReadSoFar,
    meta: RequestMeta,
  ): Promise<Receipt> {
    const now = this.clock.now();
    const id = `egr-${this.ids.uuid()}`;
    const bits = roundBitsUp(checked.bits + this.attemptCharge());
    // Read again after the body (cached briefly): the decision that releases uses current grants,
    // and a scan whose grant ended while the body streamed is no longer predictable.
    const teamGrants = await this.grants.forTeam(job.team);
    if (checked.series !== undefined && checked.series.length > 0) {
      const now = await this.predictableScans(job);
      if (checked.series.some((uid) => !now.has(uid))) {
        throw await this.refuse(
          job,
          kind,
          payload,
          teamGrants,
          422,
          [{ code: 'unknown_series', message: 'seriesuid is not a scan this job may predict on', field: 'seriesuid' }],
          read,
          meta,
        );
      }
    }
    if (kind.format === 'predictions-score') return this.scoreAndRelease(job, kind, payload, checked, read, meta, teamGrants);
    const held = kind.review === 'two-person';
    const artifact: Artifact = {
      id,
      team: job.team,
      jobId: job.jobId,
      kind: kind.kind,
      status: held ? 'pending_review' : 'releasing',
      day: this.day(),
      submittedSha256: read.sha256,
      submittedBytes: read.bytes,
      sha256: sha(checked.canonical),
      bytes: checked.canonical.length,
      bits,
      reasons: [],
      outboxKey: outboxKey(job.team, kind.kind, kind.format, id),
      auditIndex: null,
      createdAt: now.toISOString(),
      decidedAt: null,
    };

    // Decide and reserve the budget under the team's lock: concurrent submissions see each other.
    const decision = await this.repo.withTeamLock(job.team, async (tx) => {
      const today = await this.repo.usage(tx, job.team, artifact.day, kind.kind);
      const d = this.decide(job, kind, payload, { bits, bytes: checked.canonical.length, today }, teamGrants, bits, id);
      if (d.decision === 'allow') await this.repo.insert(tx, artifact);
      return d;
    });
    if (overBudget(decision)) throw await this.refuseUnseen(job, kind.kind, meta, 'over_limits', decision, read);
    if (decision.decision !== 'allow') throw await this.refuse(job, kind, payload, teamGrants, 422, policyReason(decision), read, meta);

    const leafBase = { principal: `job:${job.jobId}`, policies: decision.policies, policySet: decision.policySet };
    if (held) {
      const auditIndex = await this.hold(artifact, checked.canonical, leafBase, kind, meta);
      return receipt(artifact, 'pending_review', auditIndex);
    }
    const auditIndex = await this.releaser.release(
      artifact,
      checked.canonical,
      { ...leafBase, detail: { submittedSha256: read.sha256 } },
      meta,
    );
    return receipt(artifact, 'released', auditIndex);
  }

  /**
   * A submission: its predictions scored and kept inside; what is released (and charged) is the
   * score the Ladder shows. Scoring happens before the decision (nothing is recorded or charged
   * if it cannot: 503 with an abort leaf); the Ladder's step is taken under the team's lock with
   * the budget, so concurrent submissions see each other.
   */
  private async scoreAndRelease(
    job: JobPrincipal,
    kind: SubmissionsKind,
    payload: PayloadAuth,
    checked: CheckedArtifact,
    read: ReadSoFar,
    meta: RequestMeta,
    teamGrants: TeamGrants,
  ): Promise<Receipt> {
    const id = `egr-${this.ids.uuid()}`;
    let scored: ScoredSubmission;
    try {
      if (this.scorer === undefined) throw new ScoringUnavailableError('no leaderboard is attached');
      scored = await this.scorer.score(job, kind, id, checked.canonical);
    } catch (err) {
      await this.abortLeaf(
        job,
        kind.kind,
        err instanceof CompetitionClosedError ? 'competition_closed' : 'scoring_unavailable',
        read,
        meta,
      );
      throw err;
    }
    const scorer = this.scorer;
    const bits = roundBitsUp(scorer.answerBits(kind) + this.attemptCharge());
    const artifact: Artifact = {
      id,
      team: job.team,
      jobId: job.jobId,
      kind: kind.kind,
      status: 'releasing',
      day: this.day(),
      submittedSha256: read.sha256,
      submittedBytes: read.bytes,
      sha256: null,
      bytes: null,
      bits,
      reasons: [],
      outboxKey: outboxKey(job.team, kind.kind, 'metrics-json', id),
      auditIndex: null,
      createdAt: this.clock.now().toISOString(),
      decidedAt: null,
    };
    let answer: SubmissionAnswer | undefined;
    const decision = await this.repo
      .withTeamLock(job.team, async (tx) => {
        const today = await this.repo.usage(tx, job.team, artifact.day, kind.kind);
        const d = this.decide(job, kind, payload, { bits, bytes: SUBMISSION_ANSWER_BYTES, today }, teamGrants, bits, id);
        if (d.decision === 'allow') {
          answer = await scorer.record(tx, job, kind, scored, artifact.day);
          artifact.sha256 = sha(answer.released);
          artifact.bytes = answer.released.length;
          await this.repo.insert(tx, artifact);
        }
        return d;
      })
      .catch(async (err: unknown) => {
        await scorer.discard(scored);
        throw err;
      });
    if (decision.decision !== 'allow' || answer === undefined) {
      await scorer.discard(scored);
      if (overBudget(decision)) throw await this.refuseUnseen(job, kind.kind, meta, 'over_limits', decision, read);
      throw await this.refuse(job, kind, payload, teamGrants, 422, policyReason(decision), read, meta);
    }
    const auditIndex = await this.releaser.release(
      artifact,
      answer.released,
      {
        principal: `job:${job.jobId}`,
        policies: decision.policies,
        policySet: decision.policySet,
        detail: {
          submittedSha256: read.sha256,
          predictionsSha256: scored.predictionsSha256,
          publicScore: scored.publicScore,
          shownScore: answer.shown,
          improved: answer.improved ? 1 : 0,
        },
      },
      meta,
    );
    return { ...receipt(artifact, 'released', auditIndex), score: { public: answer.shown, improved: answer.improved } };
  }

  /**
   * Holds content for organizers only, behind the two-person airlock: a row the team never sees
   * and is never charged for, its hold leaf durable before the bytes are parked (a closed
   * leaderboard's final predictions). Released only when reviewers approve, like any held artifact.
   */
  async holdForOrganizers(
    o: { team: string; jobId: string; kind: string; canonical: Buffer; by: string },
    meta: RequestMeta,
  ): Promise<string> {
    const kind = this.policy.egress.kinds.get(o.kind);
    if (kind === undefined) throw new Error(`no egress kind ${o.kind}`);
    const id = `egr-${this.ids.uuid()}`;
    const sha256 = sha(o.canonical);
    const artifact: Artifact = {
      id,
      team: o.team,
      jobId: o.jobId,
      kind: o.kind,
      status: 'pending_review',
      day: this.day(),
      submittedSha256: sha256,
      submittedBytes: o.canonical.length,
      sha256,
      bytes: o.canonical.length,
      bits: 0,
      reasons: [],
      outboxKey: outboxKey(o.team, o.kind, 'predictions-csv', id),
      auditIndex: null,
      createdAt: this.clock.now().toISOString(),
      decidedAt: null,
    };
    await this.repo.withTeamLock(o.team, async (tx) => {
      await this.repo.insert(tx, artifact);
      await this.repo.markOrganizerOnly(tx, id);
    });
    await this.hold(
      artifact,
      o.canonical,
      { principal: o.by, policies: [], policySet: this.policy.active.sha256 },
      { ...kind, review: 'two-person' },
      meta,
    );
    return id;
  }

  /** A held artifact that will not be reviewed after all (a close that failed): failed, with a leaf; never released. */
  async voidHeld(id: string, meta: RequestMeta): Promise<void> {
    const a = await this.repo.get(id);
    if (a === undefined) return;
    await this.repo.transition(id, ['pending_review'], 'failed', this.clock.now());
    await this.audit.record(meta, {
      principal: 'gateway',
      team: a.team,
      action: 'egress.fail',
      decision: 'error',
      resource: { type: 'artifact', id },
      detail: { reason: 'the hold was voided: the leaderboard close that made it failed' },
    });
  }

  async budget(team: string): Promise<BudgetView> {
    const { kinds, budget } = this.policy.egress;
    const day = this.day();
    const used = await this.repo.usageByKind(team, day);
    const bitsUsed = Math.ceil(used.bits);
    const names = [...kinds.keys()].sort();
    const submissions = Object.fromEntries(
      names.map((k) => {
        const limit = budget.dailySubmissions[k] ?? 0;
        const n = used.byKind[k] ?? 0;
        return [k, { used: n, limit, remaining: Math.max(0, limit - n) }];
      }),
    );
    const refusal = Object.fromEntries(names.map((k) => [k, this.refusalCharge(kinds.get(k) as EgressKind)]));
    return {
      team,
      day,
      dailyBits: budget.dailyBits,
      bitsUsed,
      bitsRemaining: Math.max(0, budget.dailyBits - bitsUsed),
      submissions,
      refusalBits: refusal,
    };
  }

  /** What every attempt costs on top of its content or refusal (see attemptBits). */
  attemptCharge(): number {
    return attemptBits(this.policy.egress.kinds, slotsPerDay(this.limits.publishSeconds));
  }

  /** What one refusal of the kind costs: its feedback, plus what every attempt costs. */
  private refusalCharge(kind: EgressKind): number {
    return roundBitsUp(refusalBits(kind) + this.attemptCharge());
  }

  private day(): string {
    return this.clock.now().toISOString().slice(0, 10);
  }

  private decide(
    job: JobPrincipal,
    kind: EgressKind,
    payload: PayloadAuth,
    a: { bits: number; bytes: number; today: { bits: number; submissions: number } },
    grants: TeamGrants,
    charge: number,
    id = 'pre-check',
  ): PolicyDecision {
    const { budget } = this.policy.egress;
    return this.policy.decide(
      {
        principal: { type: 'Job', id: job.jobId, team: job.team },
        action: 'egress',
        resource: { type: 'Artifact', id, kind: kind.kind },
        listener: 'sandbox',
        now: this.clock.now(),
        context: {
          kind: kind.kind,
          payload,
          bytes: a.bytes,
          bits: Math.ceil(charge),
          bitsToday: Math.ceil(a.today.bits),
          submissionsToday: a.today.submissions,
          dailyBits: budget.dailyBits,
          dailySubmissions: budget.dailySubmissions[kind.kind] ?? 0,
        },
      },
      grants,
    );
  }

  /**
   * Test splits the team may predict on now: granted splits of kind `test` that policy lets the
   * job list at this moment (a grant not yet started, ended or revoked gives no scans, so its
   * series are `unknown_series` and their boxes are never revealed by `out_of_bounds`).
   */
  private async predictableScans(job: JobPrincipal) {
    const grants = await this.grants.forTeam(job.team);
    const now = this.clock.now();
    const splits: { dataset: string; split: string }[] = [];
    for (const g of grants.grants) {
      const ds = await this.datasets.get(g.dataset);
      if (ds?.splits.some((s) => s.name === g.split && s.kind === 'test') !== true) continue;
      const d = this.policy.decide(
        {
          principal: { type: 'Job', id: job.jobId, team: job.team },
          action: 'list',
          resource: { type: 'Split', dataset: g.dataset, split: g.split, kind: 'test' },
          listener: 'sandbox',
          now,
        },
        grants,
      );
      if (d.decision === 'allow') splits.push({ dataset: g.dataset, split: g.split });
    }
    return this.series.boxes(splits);
  }

  /** Held for review: the hold is logged (durable) before the bytes are parked outside the outbox. */
  private async hold(
    artifact: Artifact,
    canonical: Buffer,
    leaf: { principal: string; policies: string[]; policySet: string },
    kind: EgressKind,
    meta: RequestMeta,
  ): Promise<number> {
    const { index } = await this.audit
      .record(meta, {
        ...leaf,
        team: artifact.team,
        action: 'egress.hold',
        decision: 'allow',
        resource: { type: 'artifact', id: artifact.id },
        sha256: artifact.sha256,
        bytes: artifact.bytes ?? 0,
        detail: {
          artifact: artifact.id,
          kind: artifact.kind,
          bits: artifact.bits,
          review: kind.review,
          submittedSha256: artifact.submittedSha256,
        },
      })
      .catch(async (err: unknown) => {
        await this.repo.transition(artifact.id, ['pending_review'], 'failed', this.clock.now()).catch(() => undefined);
        throw err;
      });
    await this.repo.setAuditIndex(artifact.id, index);
    try {
      await this.store.put(HELD_BUCKET, artifact.outboxKey ?? artifact.id, canonical);
    } catch (err) {
      await this.repo.transition(artifact.id, ['pending_review'], 'failed', this.clock.now()).catch(() => undefined);
      await this.audit
        .record(meta, {
          ...leaf,
          team: artifact.team,
          action: 'egress.fail',
          decision: 'error',
          resource: { type: 'artifact', id: artifact.id },
          detail: { reason: 'holding write failed' },
        })
        .catch(() => undefined);
      throw err;
    }
    return index;
  }

  /**
   * A refusal the team sees: under the team's lock it is charged its feedback bits and counted
   * against the daily cap (a row with reasons), then logged. If the cap or the budget has no room
   * left for it, it becomes a 429 with no reasons and no row instead.
   */
  private async refuse(
    job: JobPrincipal,
    kind: EgressKind,
    payload: PayloadAuth,
    grants: TeamGrants,
    status: 413 | 422,
    reasons: RefusalReason[],
    read: ReadSoFar,
    meta: RequestMeta,
  ): Promise<EgressRefusal> {
    const now = this.clock.now();
    const id = `egr-${this.ids.uuid()}`;
    const charge = this.refusalCharge(kind);
    const row: Artifact = {
      id,
      team: job.team,
      jobId: job.jobId,
      kind: kind.kind,
      status: 'rejected',
      day: this.day(),
      submittedSha256: read.sha256,
      submittedBytes: read.bytes,
      sha256: null,
      bytes: null,
      bits: charge,
      reasons,
      outboxKey: null,
      auditIndex: null,
      createdAt: now.toISOString(),
      decidedAt: now.toISOString(),
    };
    const room = await this.repo.withTeamLock(job.team, async (tx) => {
      const today = await this.repo.usage(tx, job.team, row.day, kind.kind);
      const d = this.decide(job, kind, payload, { bits: charge, bytes: 0, today }, grants, charge, id);
      if (overBudget(d)) return d;
      await this.repo.insert(tx, row);
      return null;
    });
    if (room !== null) return this.refuseUnseen(job, kind.kind, meta, 'over_limits', room, read);
    const { index } = await this.audit.record(meta, {
      principal: `job:${job.jobId}`,
      team: job.team,
      action: 'egress.reject',
      decision: 'deny',
      status,
      resource: { type: 'artifact', id },
      policySet: this.policy.active.sha256,
      sha256: read.sha256,
      bytes: 0,
      detail: {
        kind: kind.kind,
        submittedBytes: read.bytes,
        bodyUnread: read.unread ? 1 : 0,
        bits: charge,
        reasons: reasons.map((r) => (r.line === undefined ? r.code : `${r.code}@${r.line}`)),
      },
    });
    await this.repo.setAuditIndex(id, index);
    return new EgressRefusal(status, reasons, id, undefined, read.unread);
  }

  /**
   * A refusal nobody outside sees: no row, no charge, no reasons (an unknown kind, too many
   * uploads at once, no room left today for the kind). One leaf says why.
   */
  private async refuseUnseen(
    job: JobPrincipal,
    kindName: string,
    meta: RequestMeta,
    why: 'unknown_kind' | 'too_many_at_once' | 'over_limits',
    decision?: PolicyDecision,
    read: ReadSoFar = { sha256: sha(Buffer.alloc(0)), bytes: 0, unread: true },
  ): Promise<EgressRefusal> {
    const known = this.policy.egress.kinds.has(kindName);
    const status = why === 'unknown_kind' ? 422 : 429;
    await this.audit.record(meta, {
      principal: `job:${job.jobId}`,
      team: job.team,
      action: 'egress.reject',
      decision: 'deny',
      status,
      resource: { type: 'artifact', id: '' },
      policies: decision?.policies ?? [],
      policySet: decision?.policySet ?? this.policy.active.sha256,
      sha256: read.sha256,
      bytes: 0,
      detail: { kind: known ? kindName : '(unknown)', submittedBytes: read.bytes, bodyUnread: read.unread ? 1 : 0, reasons: [why] },
    });
    // A job past its limits (or knocking on a door that does not exist) gets its answer late:
    // hammering costs it time, and the rate limit in admit() bounds how many wait at once.
    if (this.limits.overLimitDelayMs > 0) await delay(this.limits.overLimitDelayMs);
    if (why === 'unknown_kind')
      return new EgressRefusal(422, [{ code: 'unknown_kind', message: 'no such egress kind' }], null, undefined, read.unread);
    return new EgressRefusal(
      429,
      [],
      null,
      why === 'over_limits' && known ? await this.remaining(job.team, kindName) : undefined,
      read.unread,
    );
  }

  /**
   * The rate limit, before any database or audit work. An attempt over it is answered 429 at
   * once with the connection closed; the audit log gets one `egress.throttle` leaf per job and
   * second saying how many were refused, not a leaf each (a flood must not become log growth).
   */
  private admit(job: JobPrincipal): void {
    if (this.limiter.admit(job.jobId, job.team)) return;
    const pending = this.throttled.get(job.jobId);
    if (pending !== undefined) pending.count += 1;
    else {
      this.throttled.set(job.jobId, { team: job.team, count: 1 });
      setTimeout(() => void this.flushThrottled(job.jobId), 1000).unref();
    }
    throw new EgressRefusal(429, [], null, undefined, true);
  }

  private async flushThrottled(jobId: string): Promise<void> {
    const t = this.throttled.get(jobId);
    this.throttled.delete(jobId);
    if (t === undefined) return;
    await this.audit
      .record(
        { requestId: `throttle-${this.ids.uuid()}`, listener: 'sandbox' },
        {
          principal: `job:${jobId}`,
          team: t.team,
          action: 'egress.throttle',
          decision: 'deny',
          status: 429,
          policySet: this.policy.active.sha256,
          detail: { attempts: t.count },
        },
      )
      .catch(() => undefined);
  }

  private async remaining(team: string, kindName: string): Promise<Record<string, number>> {
    const b = await this.budget(team);
    return { bits: b.bitsRemaining, submissions: b.submissions[kindName]?.remaining ?? 0 };
  }

  /** The one leaf of an attempt whose body failed: cut off, or not what its signature covers. */
  private async abortLeaf(job: JobPrincipal, kindName: string, reason: string, read: ReadSoFar, meta: RequestMeta): Promise<void> {
    await this.audit.record(meta, {
      principal: `job:${job.jobId}`,
      team: job.team,
      action: 'egress.abort',
      decision: 'deny',
      status: 400,
      resource: { type: 'artifact', id: '' },
      policySet: this.policy.active.sha256,
      sha256: read.sha256,
      bytes: 0,
      detail: { kind: this.policy.egress.kinds.has(kindName) ? kindName : '(unknown)', submittedBytes: read.bytes, reason },
    });
  }
}

/**
 * Refused by a budget policy (a forbid the policy files mark `@category("budget")`): answered as
 * a 429 with no reasons and no row, so the budget's state tells the outside nothing.
 */
function overBudget(d: PolicyDecision): boolean {
  return d.decision !== 'allow' && d.categories.includes('budget');
}

function policyReason(d: PolicyDecision): RefusalReason[] {
  return [
    {
      code: POLICY_REFUSAL_CODE,
      message: `policy does not allow this egress${d.policies.length > 0 ? ` (${d.policies.join(', ')})` : ''}`,
    },
  ];
}

/** A stable name for why a body failed, from its error's code (never its content). */
function abortReason(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^[A-Za-z0-9_]{1,64}$/.test(code)) return code;
  const message = (err as { message?: unknown }).message;
  return message === 'aborted' ? 'aborted' : 'body_failed';
}

function receipt(a: Artifact, status: Artifact['status'], auditIndex: number): Receipt {
  return { id: a.id, status, kind: a.kind, sha256: a.sha256 ?? '', bits: a.bits, bytes: a.bytes ?? 0, auditIndex };
}

function sha(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}
