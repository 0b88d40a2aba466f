import { ConflictException, ForbiddenException, NotFoundException } from '@nestjs/common';
import { type AuditLog, type RequestMeta } from '../audit/audit-log.service';
import { type UserPrincipal } from '../auth/token.service';
import { type Clock } from '../clock/clock';
import { type ObjectStore } from '../storage/object-store.service';
import { HELD_BUCKET, type Releaser } from './egress-release';
import { type Artifact, type EgressRepository, type Review } from './egress.repository';

/** Distinct compliance officers who must approve an artifact a machine cannot check. */
export const APPROVALS_NEEDED = 2;
const MAX_HELD_BYTES = 1024 * 1024 * 1024;

/**
 * The airlock. An artifact held for review is released only after two distinct compliance
 * officers approve; one reject rejects. A member of the submitting team never reviews it, nobody
 * reviews twice, and every review is an audit leaf (durable before it counts).
 */
export class EgressReviewService {
  constructor(
    private readonly repo: EgressRepository,
    private readonly store: ObjectStore,
    private readonly releaser: Releaser,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  async review(user: UserPrincipal, id: string, input: { decision: 'approve' | 'reject'; comment: string }, meta: RequestMeta): Promise<{ artifact: Artifact; reviews: Review[] }> {
    const reviewer = `user:${user.sub}`;
    const artifact = await this.repo.get(id);
    if (artifact === undefined) throw new NotFoundException('no such artifact');
    if (user.team !== null && user.team === artifact.team) throw new ForbiddenException('a member of the submitting team cannot review its artifact');

    const outcome = await this.serialized(id, async () => {
      const current = await this.repo.get(id);
      if (current?.status !== 'pending_review') throw new ConflictException(`artifact is ${current?.status ?? 'gone'}, not pending review`);
      const reviews = await this.repo.reviews(id);
      if (reviews.some((r) => r.reviewer === reviewer)) throw new ConflictException('you have already reviewed this artifact; a second reviewer is needed');
      // The review is logged (durable) before it counts.
      const { index } = await this.audit.record(meta, {
        principal: reviewer,
        team: artifact.team,
        action: 'egress.review',
        decision: input.decision === 'approve' ? 'allow' : 'deny',
        resource: { type: 'artifact', id },
        sha256: artifact.sha256,
        detail: { artifact: id, review: input.decision, comment: input.comment },
      });
      const review = { reviewer, decision: input.decision, comment: input.comment, createdAt: this.clock.now().toISOString(), auditIndex: index };
      // The primary key (artifact, reviewer) is the guard across replicas.
      await this.repo.addReview(this.repo.database, id, review);
      const all = [...reviews, review];
      if (input.decision === 'reject') {
        return (await this.repo.transition(id, ['pending_review'], 'rejected', this.clock.now())) ? ('rejected' as const) : ('pending' as const);
      }
      const approvers = new Set(all.filter((r) => r.decision === 'approve').map((r) => r.reviewer));
      // Only one caller wins the pending → releasing transition, so an artifact is released once.
      if (approvers.size >= APPROVALS_NEEDED && (await this.repo.transition(id, ['pending_review'], 'releasing', this.clock.now()))) return 'release' as const;
      return 'pending' as const;
    });

    if (outcome === 'rejected') {
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
    if (outcome === 'release') {
      const held = await this.store.getBuffer(HELD_BUCKET, artifact.outboxKey ?? id, MAX_HELD_BYTES);
      await this.releaser.release(artifact, held, { principal: reviewer, policies: [], policySet: null, detail: { approvals: APPROVALS_NEEDED } }, meta);
      await this.store.delete(HELD_BUCKET, artifact.outboxKey ?? id).catch(() => undefined);
    }
    return { artifact: (await this.repo.get(id)) ?? artifact, reviews: await this.repo.reviews(id) };
  }

  private readonly queues = new Map<string, Promise<unknown>>();

  /** Reviews of one artifact run one at a time in this process. */
  private serialized<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(id) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.queues.set(id, tail);
    void tail.then(() => {
      if (this.queues.get(id) === tail) this.queues.delete(id);
    });
    return next;
  }
}
