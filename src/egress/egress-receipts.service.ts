import { type Readable } from 'node:stream';
import { NotFoundException, UnsupportedMediaTypeException } from '@nestjs/common';
import { subject } from '@casl/ability';
import { abilityFor } from '../auth/abilities';
import { type UserPrincipal } from '../auth/token.service';
import { type ObjectStore } from '../storage/object-store.service';
import { HELD_BUCKET, OUTBOX_BUCKET } from './egress-release';
import { type Artifact, type ArtifactStatus, type EgressRepository, type Review } from './egress.repository';

/**
 * Receipts and released artifacts on the control listener. What a caller may see is decided by
 * CASL: organizers and auditors everything, a contestant only their own team's rows; a row the
 * caller may not see answers 404 like an absent one.
 */
export class EgressReceiptsService {
  constructor(
    private readonly repo: EgressRepository,
    private readonly store: ObjectStore,
  ) {}

  async list(user: UserPrincipal, q: { status?: ArtifactStatus; kind?: string; team?: string; cursor?: string; limit: number }): Promise<{ artifacts: Artifact[]; nextCursor: string | null }> {
    const ability = abilityFor(user);
    const everyTeam = ability.can('read', subject('Receipt', { team: '\u0000any team' }));
    const team = everyTeam ? q.team : (user.team ?? '');
    if (!everyTeam && q.team !== undefined && q.team !== team) return { artifacts: [], nextCursor: null };
    const artifacts = await this.repo.list({ team, status: q.status, kind: q.kind, after: q.cursor, limit: q.limit });
    const last = artifacts[artifacts.length - 1];
    return { artifacts, nextCursor: artifacts.length === q.limit && last !== undefined ? last.id : null };
  }

  async get(user: UserPrincipal, id: string): Promise<{ artifact: Artifact; reviews: Review[] }> {
    const artifact = await this.visible(user, id);
    return { artifact, reviews: await this.repo.reviews(id) };
  }

  /** The released bytes, exactly what the release leaf hashes. Only released artifacts. */
  async content(user: UserPrincipal, id: string): Promise<{ artifact: Artifact; body: Readable; length: number }> {
    const artifact = await this.visible(user, id);
    if (artifact.status !== 'released' || artifact.outboxKey === null) throw new NotFoundException('no released content for this artifact');
    const o = await this.store.get(OUTBOX_BUCKET, artifact.outboxKey);
    return { artifact, body: o.body, length: o.contentLength };
  }

  /**
   * The canonical content of an artifact held for review, for the reviewers: text kinds only
   * (what a person can check by eye); opaque bytes are not rendered.
   */
  async held(user: UserPrincipal, id: string, isText: (kind: string) => boolean): Promise<Buffer> {
    const artifact = await this.visible(user, id);
    if (artifact.status !== 'pending_review' || artifact.outboxKey === null) throw new NotFoundException('this artifact is not held for review');
    if (!isText(artifact.kind)) throw new UnsupportedMediaTypeException('this kind is not text; reviewers judge it from its receipt and the job that made it');
    return this.store.getBuffer(HELD_BUCKET, artifact.outboxKey, 32 * 1024 * 1024);
  }

  private async visible(user: UserPrincipal, id: string): Promise<Artifact> {
    const artifact = await this.repo.get(id);
    if (artifact === undefined || !abilityFor(user).can('read', subject('Receipt', { team: artifact.team }))) throw new NotFoundException('no such artifact');
    return artifact;
  }
}
