import { Logger } from '@nestjs/common';
import { type Clock } from '../clock/clock';
import { type Database } from '../db/database';
import { type SigningKeyRing } from '../keys/signing-key-ring';
import { type ObjectStore } from '../storage/object-store.service';
import { type MerkleStore } from './merkle-store.repository';
import { type Checkpoint, keyId, openCheckpoint, signCheckpoint, verifierKey } from './merkle/checkpoint';

/** Checkpoints are copied here too, so a copy lives outside the database. */
export const CHECKPOINT_BUCKET = 'cage-checkpoints';

import { type CheckpointRepository, type StoredCheckpoint } from './checkpoint.repository';

export type { StoredCheckpoint } from './checkpoint.repository';

/** A checkpoint key with its validity window, as `GET /v1/audit/checkpoint/keys` serves it. */
export interface CheckpointKey {
  /** The note key id (8 hex digits) that signature lines carry. */
  keyId: string;
  /** `name+keyid+base64(0x01‖key)`: what a verifier pins. */
  verifierKey: string;
  /** The same key's id in JWT headers. */
  kid: string;
  notBefore: string;
  /** null: the active key. */
  notAfter: string | null;
  tokensUntil: string | null;
  active: boolean;
}

/**
 * Signed tree heads (C2SP tlog-checkpoint notes, Ed25519 with the gateway's active key), made
 * every N leaves or T seconds when the log grew, kept in the database and copied to a separate
 * bucket. Each is signed under the key ring's lock with the key active at that moment, so after
 * a rotation no replica signs another checkpoint with the retired key.
 */
export class Checkpointer {
  private readonly logger = new Logger('Checkpointer');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private sinceLast = 0;

  constructor(
    private readonly db: Database,
    private readonly checkpoints: CheckpointRepository,
    private readonly tree: MerkleStore,
    private readonly ring: SigningKeyRing,
    private readonly store: ObjectStore,
    private readonly clock: Clock,
    private readonly opts: { origin: string; everyLeaves: number; everySeconds: number },
    /** This log's identity (made once per database): with the origin, the prefix of its copies, so two logs never mix in one bucket. */
    private readonly logId: string,
  ) {}

  /** Where this log's checkpoints are copied in the checkpoint bucket: `<origin>/<log id>/`. */
  get copyPrefix(): string {
    return `${this.opts.origin.replace(/[^A-Za-z0-9._-]/g, '_')}/${this.logId}/`;
  }

  /** The active key's verifier key text (`name+keyid+base64(0x01‖key)`) auditors pin. */
  get verifierKey(): string {
    return verifierKey(this.opts.origin, this.ring.active().publicKey);
  }

  /** Every key that has signed checkpoints or may, oldest first, with its window. */
  keys(): CheckpointKey[] {
    return this.ring.list().map((k) => ({
      keyId: keyId(this.opts.origin, k.publicKey).toString('hex'),
      verifierKey: verifierKey(this.opts.origin, k.publicKey),
      kid: k.kid,
      notBefore: k.notBefore.toISOString(),
      notAfter: k.notAfter?.toISOString() ?? null,
      tokensUntil: k.tokensUntil?.toISOString() ?? null,
      active: k.notAfter === null,
    }));
  }

  start(): void {
    this.timer = setInterval(() => void this.checkpoint(), this.opts.everySeconds * 1000);
    this.timer.unref();
  }

  /** Counts committed leaves; every N of them a checkpoint is made. */
  onLeaves(n: number): void {
    this.sinceLast += n;
    if (this.sinceLast >= this.opts.everyLeaves) void this.checkpoint();
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.running;
  }

  /** Signs the current tree head if the log grew since the last checkpoint, and copies what is not copied yet. */
  checkpoint(): Promise<void> {
    this.running = this.checkpointNow().catch((err: Error) => this.logger.error({ message: 'checkpoint failed', error: err.message }));
    return this.running;
  }

  /** The same, for a caller that must know it worked (a rotation): rejects if it failed. */
  checkpointNow(): Promise<void> {
    const made = this.running.then(() => this.make());
    this.running = made.catch(() => undefined);
    return made;
  }

  /** Leaves in the tree that no signed checkpoint covers yet (what a verifier cannot yet check against a signed head). */
  async lag(): Promise<number> {
    const [size, last] = await Promise.all([this.tree.size(), this.latest()]);
    return Math.max(0, size - (last?.size ?? 0));
  }

  async latest(): Promise<StoredCheckpoint | undefined> {
    return (await this.list(1))[0];
  }

  async list(limit = 1000, maxSize?: number): Promise<StoredCheckpoint[]> {
    return this.checkpoints.list(limit, maxSize);
  }

  private async make(): Promise<void> {
    this.sinceLast = 0;
    const made = await this.db.transaction(async (tx) => {
      const key = await this.ring.lockActive(tx);
      const size = await this.tree.size(tx);
      const last = (await this.checkpoints.list(1, undefined, tx))[0];
      if (size === 0 || (last !== undefined && last.size >= size)) return undefined;
      if (key === undefined)
        throw new Error('this replica cannot sign with the active signing key; another replica will make the checkpoint');
      const c: Checkpoint = { origin: this.opts.origin, size, rootHash: await this.tree.root(size, tx) };
      const note = signCheckpoint(c, this.opts.origin, key.privateKey);
      openCheckpoint(note, verifierKey(this.opts.origin, key.rawPublicKey())); // never store a note that does not verify
      await this.checkpoints.insert(tx, { size, root: c.rootHash, note, createdAt: this.clock.now() });
      return { size, note };
    });
    if (made !== undefined) this.logger.debug({ message: 'checkpoint signed', size: made.size });
    await this.copyPending();
  }

  /**
   * Copies signed checkpoints to the bucket, oldest first, each marked once it landed: one signed
   * while the store was down is copied at a later run (every `everySeconds`, on any replica).
   */
  private async copyPending(): Promise<void> {
    for (;;) {
      const pending = await this.checkpoints.uncopied(100);
      // The newest signed one, read once: its copy is also latest.checkpoint.
      const latest = pending.length === 0 ? undefined : (await this.checkpoints.list(1))[0];
      for (const c of pending) {
        await this.store.put(
          CHECKPOINT_BUCKET,
          `${this.copyPrefix}${String(c.size).padStart(16, '0')}.checkpoint`,
          c.note,
          'text/plain; charset=utf-8',
        );
        if (latest?.size === c.size)
          await this.store.put(CHECKPOINT_BUCKET, `${this.copyPrefix}latest.checkpoint`, c.note, 'text/plain; charset=utf-8');
        await this.checkpoints.markCopied(c.size, this.clock.now());
      }
      if (pending.length < 100) return;
    }
  }
}
