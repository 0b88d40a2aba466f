import { createHash, randomUUID } from 'node:crypto';
import { type Readable } from 'node:stream';
import { type AuditLog, type RequestMeta } from '../audit/audit-log.service';
import { type JobPrincipal } from '../auth/token.service';
import { type Clock } from '../clock/clock';
import { type DatasetRepository } from '../datasets/dataset.repository';
import { type SeriesRepository } from '../datasets/series.repository';
import { type GrantRepository } from '../grants/grant.repository';
import { type PolicyDecision, type PolicyEngine } from '../policy/policy.types';
import { type ObjectStore } from '../storage/object-store.service';
import { readCapped } from './capped-body';
import { EgressRefusal, type RefusalReason } from './egress-refusal';
import { HELD_BUCKET, outboxKey, type Releaser } from './egress-release';
import { type Artifact, type EgressRepository } from './egress.repository';
import { checkArtifact } from './kinds/check-artifact';
import { type CheckedArtifact, type EgressKind } from './kinds/egress-kind.types';
import { EgressRejection } from './kinds/egress-rejection';

export interface Receipt {
  id: string;
  status: Artifact['status'];
  kind: string;
  sha256: string;
  bits: number;
  bytes: number;
  auditIndex: number;
}

export type PayloadAuth = 'bearer' | 'sha256' | 'aws-chunked' | 'unsigned';

export interface BudgetView {
  team: string;
  day: string;
  dailyBits: number;
  bitsUsed: number;
  bitsRemaining: number;
  submissions: Record<string, { used: number; limit: number; remaining: number }>;
}

const BUDGET_POLICIES = new Set(['egress-daily-bits', 'egress-daily-submissions']);

/**
 * The only way out of the sandbox. An artifact passes, in order: size cap (while streaming) →
 * parse against its kind → content checks → canonical rewrite → information bits → policy
 * decision (with the team's budget) → durable audit leaf → outbox → receipt. Anything refused
 * before the leaf releases nothing, and the refusal is logged too (SHA-256 of what was
 * submitted, reason codes; never the content).
 */
export class EgressService {
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
  ) {}

  /**
   * `payload` says how the body was authenticated, for policy: `bearer` (REST: the job token
   * covers the request, not the bytes), `sha256` or `aws-chunked` (S3: SigV4 signs the bytes),
   * `unsigned` (S3 UNSIGNED-PAYLOAD: nothing binds the bytes to the signature).
   */
  async submit(job: JobPrincipal, kindName: string, body: Readable, meta: RequestMeta, payload: PayloadAuth = 'bearer', declaredBytes?: number): Promise<Receipt> {
    const { kinds, budget } = this.policy.egress;
    const kind = kinds.get(kindName);
    if (kind === undefined) {
      body.resume();
      throw await this.refuse(job, kindName, null, 0, 422, [{ code: 'unknown_kind', message: 'no such egress kind' }], meta);
    }
    // Before a byte is read (a body is buffered up to the kind's cap): a declared size over the
    // cap, and an artifact no policy could let out now whatever it holds (a kind without a
    // permit, an unsigned S3 upload), are refused at once. Budget limits are decided later.
    if (declaredBytes !== undefined && declaredBytes > kind.maxBytes) {
      body.resume();
      throw await this.refuse(job, kindName, null, 0, 413, [{ code: 'too_large', message: `larger than ${kind.maxBytes} bytes` }], meta);
    }
    const pre = this.policy.decide(
      {
        principal: { type: 'Job', id: job.jobId, team: job.team },
        action: 'egress',
        resource: { type: 'Artifact', id: 'pre-check', kind: kindName },
        listener: 'sandbox',
        now: this.clock.now(),
        context: { kind: kindName, payload, bytes: 0, bits: 0, bitsToday: 0, submissionsToday: 0, dailyBits: budget.dailyBits, dailySubmissions: budget.dailySubmissions[kindName] ?? 0 },
      },
      await this.grants.forTeam(job.team),
    );
    if (pre.decision !== 'allow' && (pre.policies.length === 0 || pre.policies.some((p) => !BUDGET_POLICIES.has(p)))) {
      body.resume();
      const reasons = [{ code: 'policy_denied', message: `policy does not allow this egress${pre.policies.length > 0 ? ` (${pre.policies.join(', ')})` : ''}` }];
      throw await this.refuse(job, kindName, null, 0, 422, reasons, meta, pre);
    }
    const submitted = await readCapped(body, kind.maxBytes);
    if (submitted.overflow) {
      body.destroy();
      throw await this.refuse(job, kindName, submitted.sha256, submitted.bytes.length, 413, [{ code: 'too_large', message: `larger than ${kind.maxBytes} bytes` }], meta);
    }

    let checked: CheckedArtifact;
    try {
      checked = checkArtifact(submitted.bytes, kind, { scans: await this.predictableScans(job.team) });
    } catch (err) {
      if (!(err instanceof EgressRejection)) throw err;
      const reason: RefusalReason = { code: err.code, message: err.message, ...(err.line === undefined ? {} : { line: err.line }), ...(err.field === undefined ? {} : { field: err.field }) };
      throw await this.refuse(job, kindName, submitted.sha256, submitted.bytes.length, err.code === 'too_large' ? 413 : 422, [reason], meta);
    }

    const now = this.clock.now();
    const day = now.toISOString().slice(0, 10);
    const id = `egr-${randomUUID()}`;
    const sha256 = sha(checked.canonical);
    const bits = Math.ceil(checked.bits);
    // Read again after the body (cached briefly): the decision that releases uses current grants.
    const teamGrants = await this.grants.forTeam(job.team);
    const held = kind.review === 'two-person';
    const artifact: Artifact = {
      id,
      team: job.team,
      jobId: job.jobId,
      kind: kindName,
      status: held ? 'pending_review' : 'releasing',
      day,
      submittedSha256: submitted.sha256,
      submittedBytes: submitted.bytes.length,
      sha256,
      bytes: checked.canonical.length,
      bits: checked.bits,
      reasons: [],
      outboxKey: outboxKey(job.team, kindName, kind.format, id),
      auditIndex: null,
      createdAt: now.toISOString(),
      decidedAt: null,
    };

    // Decide and reserve the budget under the team's lock: concurrent submissions see each other.
    const outcome = await this.repo.withTeamLock(job.team, async (tx) => {
      const used = await this.repo.usage(tx, job.team, day, kindName);
      const limits = { dailyBits: budget.dailyBits, dailySubmissions: budget.dailySubmissions[kindName] ?? 0 };
      const decision = this.policy.decide(
        {
          principal: { type: 'Job', id: job.jobId, team: job.team },
          action: 'egress',
          resource: { type: 'Artifact', id, kind: kindName },
          listener: 'sandbox',
          now,
          context: {
            kind: kindName,
            payload,
            bytes: checked.canonical.length,
            bits,
            bitsToday: Math.ceil(used.bits),
            submissionsToday: used.submissions,
            dailyBits: limits.dailyBits,
            dailySubmissions: limits.dailySubmissions,
          },
        },
        teamGrants,
      );
      if (decision.decision === 'allow') await this.repo.insert(tx, artifact);
      return { decision, used, limits };
    });

    if (outcome.decision.decision !== 'allow') {
      const overBudget = outcome.decision.policies.some((p) => BUDGET_POLICIES.has(p));
      const remaining = {
        bits: Math.max(0, outcome.limits.dailyBits - Math.ceil(outcome.used.bits)),
        submissions: Math.max(0, outcome.limits.dailySubmissions - outcome.used.submissions),
        artifactBits: bits,
      };
      const reasons: RefusalReason[] = overBudget
        ? outcome.decision.policies.filter((p) => BUDGET_POLICIES.has(p)).map((p) => ({ code: p === 'egress-daily-bits' ? 'bits_budget_exhausted' : 'daily_submissions_exhausted', message: budgetMessage(p, remaining) }))
        : [{ code: 'policy_denied', message: `policy does not allow this egress${outcome.decision.policies.length > 0 ? ` (${outcome.decision.policies.join(', ')})` : ''}` }];
      throw await this.refuse(job, kindName, submitted.sha256, submitted.bytes.length, overBudget ? 429 : 422, reasons, meta, outcome.decision, overBudget ? remaining : undefined, bits);
    }

    const leafBase = { principal: `job:${job.jobId}`, policies: outcome.decision.policies, policySet: outcome.decision.policySet };
    if (held) {
      const auditIndex = await this.hold(artifact, checked.canonical, leafBase, kind, meta);
      return receipt(artifact, 'pending_review', auditIndex);
    }
    const auditIndex = await this.releaser.release(artifact, checked.canonical, { ...leafBase, detail: { submittedSha256: submitted.sha256 } }, meta);
    return receipt(artifact, 'released', auditIndex);
  }

  async budget(team: string): Promise<BudgetView> {
    const { kinds, budget } = this.policy.egress;
    const day = this.clock.now().toISOString().slice(0, 10);
    const used = await this.repo.usageByKind(team, day);
    const bitsUsed = Math.ceil(used.bits);
    const submissions = Object.fromEntries(
      [...kinds.keys()].sort().map((k) => {
        const limit = budget.dailySubmissions[k] ?? 0;
        const n = used.byKind[k] ?? 0;
        return [k, { used: n, limit, remaining: Math.max(0, limit - n) }];
      }),
    );
    return { team, day, dailyBits: budget.dailyBits, bitsUsed, bitsRemaining: Math.max(0, budget.dailyBits - bitsUsed), submissions };
  }

  /** Test splits the team may predict on: the granted splits of kind `test`. */
  private async predictableScans(team: string) {
    const grants = await this.grants.forTeam(team);
    const splits: { dataset: string; split: string }[] = [];
    for (const g of grants.grants) {
      const ds = await this.datasets.get(g.dataset);
      if (ds?.splits.some((s) => s.name === g.split && s.kind === 'test') === true) splits.push({ dataset: g.dataset, split: g.split });
    }
    return this.series.boxes(splits);
  }

  /** Held for review: the hold is logged (durable) before the bytes are parked outside the outbox. */
  private async hold(artifact: Artifact, canonical: Buffer, leaf: { principal: string; policies: string[]; policySet: string }, kind: EgressKind, meta: RequestMeta): Promise<number> {
    const { index } = await this.audit
      .record(meta, {
        ...leaf,
        team: artifact.team,
        action: 'egress.hold',
        decision: 'allow',
        resource: { type: 'artifact', id: artifact.id },
        sha256: artifact.sha256,
        bytes: artifact.bytes ?? 0,
        detail: { artifact: artifact.id, kind: artifact.kind, bits: artifact.bits, review: kind.review, submittedSha256: artifact.submittedSha256 },
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
        .record(meta, { ...leaf, team: artifact.team, action: 'egress.fail', decision: 'error', resource: { type: 'artifact', id: artifact.id }, detail: { reason: 'holding write failed' } })
        .catch(() => undefined);
      throw err;
    }
    return index;
  }

  /** Logs a refusal (artifact row + leaf) and returns the error to throw. */
  private async refuse(
    job: JobPrincipal,
    kind: string,
    submittedSha256: string | null,
    submittedBytes: number,
    status: EgressRefusal['status'],
    reasons: RefusalReason[],
    meta: RequestMeta,
    decision?: PolicyDecision,
    remaining?: Record<string, number>,
    bits = 0,
  ): Promise<EgressRefusal> {
    const now = this.clock.now();
    const id = `egr-${randomUUID()}`;
    const digest = submittedSha256 ?? sha(Buffer.alloc(0));
    const known = this.policy.egress.kinds.has(kind);
    if (known) {
      await this.repo.insert(this.repo.database, {
        id,
        team: job.team,
        jobId: job.jobId,
        kind,
        status: 'rejected',
        day: now.toISOString().slice(0, 10),
        submittedSha256: digest,
        submittedBytes,
        sha256: null,
        bytes: null,
        bits,
        reasons,
        outboxKey: null,
        createdAt: now.toISOString(),
        decidedAt: now.toISOString(),
      });
    }
    const { index } = await this.audit.record(meta, {
      principal: `job:${job.jobId}`,
      team: job.team,
      action: 'egress.reject',
      decision: 'deny',
      status,
      resource: { type: 'artifact', id: known ? id : '' },
      policies: decision?.policies ?? [],
      policySet: decision?.policySet ?? this.policy.active.sha256,
      sha256: digest,
      bytes: 0,
      detail: { kind: known ? kind : '(unknown)', submittedBytes, reasons: reasons.map((r) => (r.line === undefined ? r.code : `${r.code}@${r.line}`)) },
    });
    if (known) await this.repo.setAuditIndex(id, index);
    return new EgressRefusal(status, reasons, known ? id : null, remaining);
  }
}

function budgetMessage(policy: string, remaining: { bits: number; submissions: number; artifactBits: number }): string {
  return policy === 'egress-daily-bits'
    ? `this artifact carries ${remaining.artifactBits} bits; ${remaining.bits} bits remain today`
    : `no submissions of this kind remain today`;
}

function receipt(a: Artifact, status: Artifact['status'], auditIndex: number): Receipt {
  return { id: a.id, status, kind: a.kind, sha256: a.sha256 ?? '', bits: a.bits, bytes: a.bytes ?? 0, auditIndex };
}

function sha(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}
