import { ConflictException, ForbiddenException, NotFoundException } from '@nestjs/common';
import { type AuditLog, type RequestMeta } from '../audit/audit-log.service';
import { personOf, type UserPrincipal } from '../principal/principal';
import { type Clock } from '../clock/clock';
import { KeyedQueue } from '../ops/keyed-queue';
import { type PolicyDecision } from '../policy/policy.types';
import { type ObjectStore } from '../storage/object-store.service';
import { HELD_BUCKET, type Releaser } from './egress-release';
import { type Artifact, type EgressRepository, type Review } from './egress.repository';
import { type ReviewDecision, type ReviewerIndependence } from './reviewer-independence';
import { type ReviewerIdentity, type ReviewerRepository } from './reviewer.repository';

const MAX_HELD_BYTES = 1024 * 1024 * 1024;

type Outcome = { kind: 'pending' } | { kind: 'rejected' } | { kind: 'release'; approvers: string[]; decision: PolicyDecision };

/**
 * The airlock. An artifact held for review is released when policy says the approvals that
 * still stand are enough (`release` in policies/review.cedar: two distinct compliance officers);
 * one reject rejects. Who may review is policy too (`review`): no one affiliated with the
 * submitting team — member now or before, token team, creator of one of its jobs — and it is
 * asked when a review is submitted, and for every approval again whenever one comes in, so an
 * approver who has since joined the team no longer counts. Nobody reviews twice, and every
 * review, refusal and voided approval is an audit leaf (durable before it counts); the release
 * leaf names the policies that let the artifact out.
 */
export class EgressReviewService {
  constructor(
    private readonly repo: EgressRepository,
    private readonly reviewers: ReviewerRepository,
    private readonly independence: ReviewerIndependence,
    private readonly store: ObjectStore,
    private readonly releaser: Releaser,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  async review(
    user: UserPrincipal,
    id: string,
    input: { decision: 'approve' | 'reject'; comment: string },
    meta: RequestMeta,
  ): Promise<{ artifact: Artifact; reviews: Review[] }> {
    const who: ReviewerIdentity = { reviewer: `user:${user.sub}`, ...personOf(user), role: user.role, tokenTeam: user.team };
    const reviewer = who.reviewer;
    const artifact = await this.repo.get(id);
    if (artifact === undefined) throw new NotFoundException('no such artifact');
    const allowed = await this.independence.decide(who, artifact, listenerOf(meta));
    if (allowed.decision !== 'allow') throw await this.refuse(who, artifact, input.decision, allowed, meta);

    const outcome = await this.queue.run(id, async (): Promise<Outcome> => {
      const current = await this.repo.get(id);
      if (current?.status !== 'pending_review') throw new ConflictException(`artifact is ${current?.status ?? 'gone'}, not pending review`);
      const reviews = await this.repo.reviews(id);
      if (reviews.some((r) => r.reviewer === reviewer))
        throw new ConflictException('you have already reviewed this artifact; a second reviewer is needed');
      // The review is logged (durable) before it counts.
      const { index } = await this.audit.record(meta, {
        principal: reviewer,
        team: artifact.team,
        action: 'egress.review',
        decision: input.decision === 'approve' ? 'allow' : 'deny',
        resource: { type: 'artifact', id },
        sha256: artifact.sha256,
        policies: allowed.policies,
        policySet: allowed.policySet,
        detail: { artifact: id, review: input.decision, comment: input.comment },
      });
      const review = {
        reviewer,
        decision: input.decision,
        comment: input.comment,
        createdAt: this.clock.now().toISOString(),
        auditIndex: index,
      };
      // The primary key (artifact, reviewer) is the guard across replicas.
      await this.reviewers.addWithIdentity(id, who, (tx) => this.repo.addReview(tx, id, review));
      if (input.decision === 'reject') {
        return (await this.repo.transition(id, ['pending_review'], 'rejected', this.clock.now()))
          ? { kind: 'rejected' }
          : { kind: 'pending' };
      }
      const approvals = [...reviews, review].filter((r) => r.decision === 'approve');
      const approvers = await this.standingApprovals(artifact, approvals, meta);
      const decision = this.independence.decideRelease(allowed.principal, artifact, approvers.length, listenerOf(meta));
      // Only one caller wins the pending → releasing transition, so an artifact is released once.
      if (decision.decision === 'allow' && (await this.repo.transition(id, ['pending_review'], 'releasing', this.clock.now())))
        return { kind: 'release', approvers, decision };
      return { kind: 'pending' };
    });

    if (outcome.kind === 'rejected') {
      await this.audit.record(meta, {
        principal: reviewer,
        team: artifact.team,
        action: 'egress.reject',
        decision: 'deny',
        status: 422,
        resource: { type: 'artifact', id },
        sha256: artifact.sha256,
        detail: { artifact: id, reasons: ['review_rejected'] },
      });
      await this.store.delete(HELD_BUCKET, artifact.outboxKey ?? id).catch(() => undefined);
    }
    if (outcome.kind === 'release') {
      const held = await this.store.getBuffer(HELD_BUCKET, artifact.outboxKey ?? id, MAX_HELD_BYTES);
      const detail = { approvals: outcome.approvers.length, approvers: outcome.approvers.join(',') };
      const { policies, policySet } = outcome.decision;
      await this.releaser.release(artifact, held, { principal: reviewer, policies, policySet, detail }, meta);
      await this.store.delete(HELD_BUCKET, artifact.outboxKey ?? id).catch(() => undefined);
    }
    return { artifact: (await this.repo.get(id)) ?? artifact, reviews: await this.repo.reviews(id) };
  }

  /**
   * The approvers whose approval still passes policy on current facts (sorted). Each that no
   * longer does (or whose identity was not recorded) is voided: it does not count, and a leaf
   * says which approval it was and why.
   */
  private async standingApprovals(artifact: Artifact, approvals: Review[], meta: RequestMeta): Promise<string[]> {
    const identities = await this.reviewers.identities(artifact.id);
    const standing: string[] = [];
    for (const approval of approvals) {
      const who = identities.get(approval.reviewer);
      const d = who === undefined ? undefined : await this.independence.decide(who, artifact, listenerOf(meta));
      if (d?.decision === 'allow') {
        standing.push(approval.reviewer);
        continue;
      }
      await this.audit.record(meta, {
        principal: 'gateway',
        team: artifact.team,
        action: 'egress.review.void',
        decision: 'deny',
        resource: { type: 'artifact', id: artifact.id },
        sha256: artifact.sha256,
        policies: d?.policies ?? [],
        policySet: d?.policySet ?? null,
        detail: {
          artifact: artifact.id,
          reviewer: approval.reviewer,
          reviewIndex: approval.auditIndex,
          affiliation: d?.affiliation ?? [],
          reason: d === undefined ? 'who gave this approval was not recorded' : 'the approval no longer passes policy',
          ...(d !== undefined && d.errors.length > 0 ? { errors: d.errors } : {}),
        },
      });
    }
    return standing.sort();
  }

  /** Logs a review the policy refused (durable before the answer) and builds the 403. */
  private async refuse(
    who: ReviewerIdentity,
    artifact: Artifact,
    review: 'approve' | 'reject',
    d: ReviewDecision,
    meta: RequestMeta,
  ): Promise<ForbiddenException> {
    await this.audit.record(meta, {
      principal: who.reviewer,
      team: artifact.team,
      action: 'egress.review.refuse',
      decision: 'deny',
      status: 403,
      resource: { type: 'artifact', id: artifact.id },
      sha256: artifact.sha256,
      policies: d.policies,
      policySet: d.policySet,
      detail: { artifact: artifact.id, review, affiliation: d.affiliation, ...(d.errors.length > 0 ? { errors: d.errors } : {}) },
    });
    const why =
      d.affiliation.length > 0
        ? `reviewers must be independent of the submitting team, and you are affiliated with team ${artifact.team} (${d.affiliation.join(', ')})`
        : 'policy does not allow you to review it';
    return new ForbiddenException(`you may not review this artifact: ${why}${d.policies.length > 0 ? ` [${d.policies.join(', ')}]` : ''}`);
  }

  /** Reviews of one artifact run one at a time in this process. */
  private readonly queue = new KeyedQueue();
}

/** Reviews come in on the control listener; anything else is not a control request to policy. */
function listenerOf(meta: RequestMeta): 'sandbox' | 'control' {
  return meta.listener === 'control' ? 'control' : 'sandbox';
}
