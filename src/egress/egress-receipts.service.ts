import { type Readable } from 'node:stream';
import { NotFoundException, UnsupportedMediaTypeException } from '@nestjs/common';
import { subject } from '@casl/ability';
import { abilityFor } from '../auth/abilities';
import { type UserPrincipal } from '../principal/principal';
import { type ObjectStore } from '../storage/object-store.service';
import { HELD_BUCKET, OUTBOX_BUCKET } from './egress-release';
import { type Artifact, type ArtifactStatus, type EgressRepository, type Review } from './egress.repository';
import { type TeamArtifactView } from './egress.dto';
import { Clock } from '../clock/clock';
import { DEFAULT_PUBLISH_SECONDS, REFUSAL_MESSAGES, type RefusalCode } from './kinds/refusal-feedback';

/** An artifact as its own team's contestants see it (what it leaves out and why: egress.dto.ts). */
export type { TeamArtifactView };

export function teamView(a: Artifact): TeamArtifactView {
  return {
    id: a.id,
    team: a.team,
    kind: a.kind,
    status: a.status,
    day: a.day,
    sha256: a.sha256,
    bytes: a.bytes,
    bits: a.bits,
    reasons: a.reasons.map((r) => ({
      code: r.code,
      ...(r.line === undefined ? {} : { line: r.line }),
      ...(r.field === undefined ? {} : { field: r.field }),
      message: REFUSAL_MESSAGES[r.code as RefusalCode] ?? 'refused',
    })),
  };
}

/**
 * Receipts and released artifacts on the control listener. What a caller may see is decided by
 * CASL: organizers and auditors everything, a contestant only their own team's rows; a row the
 * caller may not see answers 404 like an absent one.
 */
export class EgressReceiptsService {
  constructor(
    private readonly repo: EgressRepository,
    private readonly store: ObjectStore,
    private readonly clock: Clock = new Clock(),
    private readonly publishSeconds = DEFAULT_PUBLISH_SECONDS,
  ) {}

  /**
   * Contestants see a row once the publication slot it was made in has ended, once its audit
   * leaf exists, and never a `failed` one: what they learn of when a job submitted is the slot,
   * which every attempt is charged for (docs/disclosure.md).
   */
  private publishedBefore(): Date {
    const slot = this.publishSeconds * 1000;
    return new Date(Math.floor(this.clock.now().getTime() / slot) * slot);
  }

  private published(a: Artifact): boolean {
    return a.auditIndex !== null && a.status !== 'failed' && new Date(a.createdAt) < this.publishedBefore();
  }

  /** Organizers and auditors see every row whole; a contestant their team's, as TeamArtifactView, by day and id. */
  async list(
    user: UserPrincipal,
    q: { status?: ArtifactStatus; kind?: string; team?: string; cursor?: string; limit: number },
  ): Promise<{ artifacts: Artifact[] | TeamArtifactView[]; nextCursor: string | null }> {
    const everyTeam = seesEveryTeam(user);
    const team = everyTeam ? q.team : (user.team ?? '');
    if (!everyTeam && q.team !== undefined && q.team !== team) return { artifacts: [], nextCursor: null };
    const artifacts = await this.repo.list({
      team,
      status: q.status,
      kind: q.kind,
      after: q.cursor,
      limit: q.limit,
      ...(everyTeam ? {} : { byDay: true, publishedBefore: this.publishedBefore() }),
    });
    const last = artifacts[artifacts.length - 1];
    const nextCursor = artifacts.length === q.limit && last !== undefined ? last.id : null;
    return { artifacts: everyTeam ? artifacts : artifacts.map(teamView), nextCursor };
  }

  /** One artifact whole, with its reviews (for callers that read every team: organizers, auditors, the CLI's tests). */
  async get(user: UserPrincipal, id: string): Promise<{ artifact: Artifact; reviews: Review[] }> {
    const artifact = await this.visible(user, id);
    return { artifact, reviews: await this.repo.reviews(id) };
  }

  /** One artifact as the caller may see it: whole for organizers and auditors, TeamArtifactView for a contestant. */
  async read(
    user: UserPrincipal,
    id: string,
  ): Promise<{ artifact: Artifact | TeamArtifactView; reviews: Review[] | { decision: Review['decision']; comment: string }[] }> {
    const whole = await this.get(user, id);
    if (seesEveryTeam(user)) return whole;
    if (!this.published(whole.artifact)) throw new NotFoundException('no such artifact');
    return { artifact: teamView(whole.artifact), reviews: whole.reviews.map((r) => ({ decision: r.decision, comment: r.comment })) };
  }

  /** The released bytes, exactly what the release leaf hashes. Only released artifacts. */
  async content(user: UserPrincipal, id: string): Promise<{ artifact: Artifact; body: Readable; length: number }> {
    const artifact = await this.visible(user, id);
    if (artifact.status !== 'released' || artifact.outboxKey === null) throw new NotFoundException('no released content for this artifact');
    if (!seesEveryTeam(user) && !this.published(artifact)) throw new NotFoundException('no such artifact');
    const o = await this.store.get(OUTBOX_BUCKET, artifact.outboxKey);
    return { artifact, body: o.body, length: o.contentLength };
  }

  /**
   * The canonical content of an artifact held for review, for the reviewers: text kinds only
   * (what a person can check by eye); opaque bytes are not rendered.
   */
  async held(user: UserPrincipal, id: string, isText: (kind: string) => boolean): Promise<Buffer> {
    const artifact = await this.visible(user, id);
    if (artifact.status !== 'pending_review' || artifact.outboxKey === null)
      throw new NotFoundException('this artifact is not held for review');
    if (!isText(artifact.kind))
      throw new UnsupportedMediaTypeException('this kind is not text; reviewers judge it from its receipt and the job that made it');
    return this.store.getBuffer(HELD_BUCKET, artifact.outboxKey, 32 * 1024 * 1024);
  }

  private async visible(user: UserPrincipal, id: string): Promise<Artifact> {
    const artifact = await this.repo.get(id);
    if (artifact === undefined || !abilityFor(user).can('read', subject('Receipt', { team: artifact.team })))
      throw new NotFoundException('no such artifact');
    // Organizers-only artifacts (a closed leaderboard's final predictions): never the team's to see.
    if (!seesEveryTeam(user) && (await this.repo.isOrganizerOnly(id))) throw new NotFoundException('no such artifact');
    return artifact;
  }
}

/** Organizers and auditors read every team's receipts whole; anyone else only their own team's view. */
function seesEveryTeam(user: UserPrincipal): boolean {
  return abilityFor(user).can('read', 'AllReceipts');
}
