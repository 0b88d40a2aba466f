import { Logger } from '@nestjs/common';
import { type Clock } from '../clock/clock';
import { type Database } from '../db/database';
import { type SigningKeys } from '../keys/signing-keys';
import { type ObjectStore } from '../storage/object-store.service';
import { type MerkleStore } from './merkle-store.repository';
import { type Checkpoint, openCheckpoint, signCheckpoint, verifierKey } from './merkle/checkpoint';

/** Checkpoints are copied here too, so a copy lives outside the database. */
export const CHECKPOINT_BUCKET = 'cage-checkpoints';

export interface StoredCheckpoint {
  size: number;
  root: Buffer;
  note: string;
  createdAt: string;
}

/**
 * Signed tree heads (C2SP tlog-checkpoint notes, Ed25519 with the gateway's key), made every N
 * leaves or T seconds when the log grew, kept in the database and copied to a separate bucket.
 */
export class Checkpointer {
  private readonly logger = new Logger('Checkpointer');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private sinceLast = 0;

  constructor(
    private readonly db: Database,
    private readonly tree: MerkleStore,
    private readonly keys: SigningKeys,
    private readonly store: ObjectStore,
    private readonly clock: Clock,
    private readonly opts: { origin: string; everyLeaves: number; everySeconds: number },
  ) {}

  /** The verifier key text (`name+keyid+base64(0x01‖key)`) auditors pin. */
  get verifierKey(): string {
    return verifierKey(this.opts.origin, this.keys.rawPublicKey());
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

  /** Signs the current tree head if the log grew since the last checkpoint. */
  checkpoint(): Promise<void> {
    this.running = this.running.then(() => this.make()).catch((err: Error) => this.logger.error({ message: 'checkpoint failed', error: err.message }));
    return this.running;
  }

  async latest(): Promise<StoredCheckpoint | undefined> {
    return (await this.list(1))[0];
  }

  async list(limit = 1000, maxSize?: number): Promise<StoredCheckpoint[]> {
    const { rows } = await this.db.query<{ size: string | number; root: string; note: string; created_at: string | Date }>(
      `SELECT size, encode(root, 'hex') AS root, note, created_at FROM audit_checkpoints ${maxSize === undefined ? '' : 'WHERE size <= $2'} ORDER BY size DESC LIMIT $1`,
      maxSize === undefined ? [limit] : [limit, maxSize],
    );
    return rows.map((r) => ({ size: Number(r.size), root: Buffer.from(r.root, 'hex'), note: r.note, createdAt: new Date(r.created_at).toISOString() }));
  }

  private async make(): Promise<void> {
    this.sinceLast = 0;
    const size = await this.tree.size();
    const last = await this.latest();
    if (size === 0 || (last !== undefined && last.size >= size)) return;
    const c: Checkpoint = { origin: this.opts.origin, size, rootHash: await this.tree.root(size) };
    const note = signCheckpoint(c, this.opts.origin, this.keys.privateKey);
    openCheckpoint(note, this.verifierKey); // never store a note that does not verify
    await this.db.query('INSERT INTO audit_checkpoints (size, root, note, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (size) DO NOTHING', [
      size,
      c.rootHash,
      note,
      this.clock.now().toISOString(),
    ]);
    const prefix = this.opts.origin.replace(/[^A-Za-z0-9._-]/g, '_');
    await this.store.put(CHECKPOINT_BUCKET, `${prefix}/${String(size).padStart(16, '0')}.checkpoint`, note, 'text/plain; charset=utf-8');
    await this.store.put(CHECKPOINT_BUCKET, `${prefix}/latest.checkpoint`, note, 'text/plain; charset=utf-8');
  }
}
