import { ConflictException } from '@nestjs/common';
import { type AuditLog, type RequestMeta } from './audit-log.service';
import { type CheckpointKey, type Checkpointer } from './checkpointer.service';
import { keyId, verifierKey } from './merkle/checkpoint';
import { ROTATION_ACTION, type RotatedKey, type RotationDetail } from './verify/offline-verifier';
import { MAX_USER_TTL_S, type UserPrincipal } from '../principal/principal';
import { type Clock } from '../clock/clock';
import { type SigningKeyRing } from '../keys/signing-key-ring';
import { SigningKeys } from '../keys/signing-keys';
import { actor } from '../principal/principal';
import { type SigningKeyRotation } from './signing-key.dto';

export type Rotation = SigningKeyRotation;

/**
 * The signing key's lifecycle: rotation by an organizer, and adoption of a configured key an
 * operator replaced. Each is a `keys.rotate` leaf naming both keys, durable before the ring
 * changes. On a rotation the outgoing key then signs a checkpoint covering that leaf, so a
 * verifier holding only the old key learns the new one from the log itself.
 */
export class SigningKeyService {
  constructor(
    private readonly ring: SigningKeyRing,
    private readonly checkpointer: Checkpointer,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly origin: string,
  ) {}

  list(): CheckpointKey[] {
    return this.checkpointer.keys();
  }

  /**
   * Retires the active key and makes a new one active on every replica (each re-reads the ring
   * within a second; tokens by the new key verify at once anywhere, checkpoints use it at once).
   */
  async rotate(user: UserPrincipal, opts: { tokenGraceSeconds?: number }, meta: RequestMeta): Promise<Rotation> {
    const from = this.ring.active();
    const next = SigningKeys.generate();
    const at = this.clock.now();
    const tokensUntil = new Date(at.getTime() + (opts.tokenGraceSeconds ?? MAX_USER_TTL_S) * 1000);
    const detail: RotationDetail = {
      from: this.describe(from.publicKey, from.kid),
      to: this.describe(next.rawPublicKey(), next.kid),
      tokensUntil: tokensUntil.toISOString(),
      reason: 'rotate',
    };
    const leaf = { principal: actor(user), team: null, action: ROTATION_ACTION, resource: { type: 'signing-key', id: next.kid } };
    await this.audit.record(meta, { ...leaf, decision: 'allow', detail });
    await this.checkpointer.checkpointNow();
    if (!(await this.ring.rotate(from.kid, next, at, tokensUntil, actor(user)))) {
      await this.audit.record(meta, { ...leaf, decision: 'error', detail: { ...detail, error: 'another rotation came first' } });
      throw new ConflictException(`the active signing key is no longer ${from.kid}: another rotation came first; nothing changed`);
    }
    const keys = this.list();
    return { retired: keys.find((k) => k.kid === from.kid)!, active: keys.find((k) => k.active)! };
  }

  /**
   * At start-up: a configured key the ring does not know replaces the active key, whose tokens
   * are refused from now on (replacing the configured key is the answer to a leak). No checkpoint
   * by the old key vouches for it: auditors pin the new key.
   */
  async adoptConfiguredKey(meta: RequestMeta): Promise<void> {
    const from = this.ring.pendingAdoption;
    if (from === undefined) return;
    const to = this.ring.root;
    const detail: RotationDetail = {
      from: this.describe(from.publicKey, from.kid),
      to: this.describe(to.rawPublicKey(), to.kid),
      tokensUntil: this.clock.now().toISOString(),
      reason: 'configured key replaced',
    };
    await this.audit.record(meta, {
      principal: 'gateway',
      team: null,
      action: ROTATION_ACTION,
      decision: 'allow',
      resource: { type: 'signing-key', id: to.kid },
      detail,
    });
    await this.ring.adoptConfigured();
  }

  private describe(publicKey: Buffer, kid: string): RotatedKey {
    return { kid, keyId: keyId(this.origin, publicKey).toString('hex'), verifierKey: verifierKey(this.origin, publicKey) };
  }
}
