import { createPublicKey, type KeyObject } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { type Clock } from '../clock/clock';
import { type Queryable } from '../db/database';
import { seal, unseal } from './secret-box';
import { type SigningKeyRepository, type SigningKeyRow } from './signing-key.repository';
import { KeyError, SigningKeys, type TokenKeyLookup, type TokenKeys } from './signing-keys';

/** Every replica re-reads the ring this often: a rotation reaches all of them within about a second. */
export const RING_SYNC_MS = 1000;

const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** A key of the ring as the API shows it (no private part). */
export interface RingKey {
  kid: string;
  publicKey: Buffer;
  notBefore: Date;
  notAfter: Date | null;
  tokensUntil: Date | null;
  /** The configured key (its private key lives only in its file), or one a rotation made. */
  origin: 'configured' | 'rotated';
  createdBy: string;
}

/**
 * The gateway's signing keys: one active key that signs new tokens and checkpoints, and the
 * retired keys, public only, each with its window [notBefore, notAfter). The ring lives in the
 * database so that every replica shares it; a rotated key's private key is stored sealed under a
 * key derived from the configured key, which every replica holds (the same Secret as before).
 *
 * Token rule: a token is verified with the key its `kid` names; a retired key's tokens are
 * accepted until its `tokensUntil` (chosen at rotation) and only if issued before it retired.
 * Checkpoints by a retired key stay verifiable for ever: its public key is never removed.
 */
export class SigningKeyRing implements TokenKeys {
  private readonly logger = new Logger('SigningKeyRing');
  private rows = new Map<string, SigningKeyRow>();
  private publicKeys = new Map<string, KeyObject>();
  /** Private keys this replica can sign with: the configured key and rotated keys it unsealed. */
  private readonly signers = new Map<string, SigningKeys>();
  private activeKid: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private loading: Promise<void> | undefined;
  private missedAt = 0;
  private unopenable: string | undefined;
  /** The active key the configured key is to replace (see adoptConfigured), found at start. */
  private pending: SigningKeyRow | undefined;

  private constructor(
    private readonly repo: SigningKeyRepository,
    /** The configured key: the ring's first key and the root its sealing keys derive from. */
    readonly root: SigningKeys,
    private readonly clock: Clock,
  ) {
    this.signers.set(root.kid, root);
  }

  /**
   * Opens the ring at start-up. An empty ring (first start, or a database from before the ring)
   * gets the configured key as its active key. A configured key the ring does not know is a key
   * an operator replaced: `pendingAdoption` names the key it is to retire (adoptConfigured, once
   * the audit log can record it). A configured key the ring has retired never signs again: the
   * gateway does not start.
   */
  static async open(repo: SigningKeyRepository, root: SigningKeys, clock: Clock): Promise<SigningKeyRing> {
    const ring = new SigningKeyRing(repo, root, clock);
    if ((await repo.list()).length === 0) {
      await repo.insertFirst({
        kid: root.kid,
        publicKey: root.rawPublicKey(),
        privateSealed: null,
        notBefore: clock.now(),
        createdBy: 'gateway',
      });
    }
    await ring.load();
    const active = ring.activeRow();
    if (active === undefined) throw new KeyError('the signing-key ring has no active key');
    if (ring.signers.has(active.kid)) return ring;
    const mine = ring.rows.get(root.kid);
    if (mine !== undefined) {
      throw new KeyError(
        `the configured signing key (kid ${root.kid}) was retired at ${mine.notAfter?.toISOString() ?? '?'} and never signs again; ` +
          (active.privateSealed === null
            ? `the active key ${active.kid} is another configured key: give this replica the same CAGE_SIGNING_KEY_FILE as the others`
            : `the active key ${active.kid} cannot be opened with it: its sealed private key is damaged`),
      );
    }
    ring.pending = active;
    return ring;
  }

  /** The active key the configured key replaces at this start, if the operator changed the configured key. */
  get pendingAdoption(): SigningKeyRow | undefined {
    return this.pending;
  }

  /**
   * Makes the configured key active, retiring the key it replaces with its tokens refused at
   * once: replacing the configured key is what an operator does when it may have leaked.
   */
  async adoptConfigured(): Promise<void> {
    const from = this.pending;
    if (from === undefined) return;
    const at = this.clock.now();
    const ok = await this.repo.replaceActive(
      from.kid,
      { kid: this.root.kid, publicKey: this.root.rawPublicKey(), privateSealed: null, notBefore: at, createdBy: 'gateway' },
      at,
    );
    this.pending = undefined;
    await this.load();
    if (!ok && !this.signers.has(this.activeRow()?.kid ?? ''))
      throw new KeyError('the signing-key ring changed while the configured key was being adopted; start again');
  }

  /**
   * Makes `next` the active key from `at` if `expected` still is (false if another rotation came
   * first). The retired key's window ends at `at`; its tokens are accepted until `tokensUntil`.
   */
  async rotate(expected: string, next: SigningKeys, at: Date, tokensUntil: Date, by: string): Promise<boolean> {
    const row = {
      kid: next.kid,
      publicKey: next.rawPublicKey(),
      privateSealed: seal(this.root.ringKey, next.pem(), sealBinding(next.kid)),
      notBefore: at,
      createdBy: by,
    };
    const ok = await this.repo.replaceActive(expected, row, tokensUntil);
    if (ok) this.signers.set(next.kid, next);
    await this.load();
    return ok;
  }

  /** The key new tokens are signed with; throws if this replica cannot sign with it. */
  signer(): SigningKeys {
    const kid = this.activeKid;
    const s = kid === undefined ? undefined : this.signers.get(kid);
    if (s === undefined)
      throw new KeyError(
        `this replica cannot sign with the active key ${kid ?? '(none)'}: restart it with the configured key the other replicas have`,
      );
    return s;
  }

  /**
   * The key a token names. A key this replica has not seen yet (a rotation on another replica a
   * moment ago) makes it re-read the ring first, at most once a second whatever tokens arrive.
   */
  async tokenKey(kid: string | undefined): Promise<TokenKeyLookup> {
    if (kid === undefined) return this.tokenKey(this.activeKid ?? '');
    if (!this.rows.has(kid) && Date.now() - this.missedAt >= RING_SYNC_MS) {
      this.missedAt = Date.now();
      await this.load();
    }
    const row = this.rows.get(kid);
    const publicKey = this.publicKeys.get(kid);
    if (row === undefined || publicKey === undefined) return { ok: false };
    if (row.notAfter === null) return { ok: true, publicKey, retiredAt: null };
    if (row.tokensUntil === null || this.clock.now() >= row.tokensUntil)
      return { ok: false, reason: `its signing key ${kid} was retired at ${row.notAfter.toISOString()}` };
    return { ok: true, publicKey, retiredAt: row.notAfter };
  }

  /**
   * Inside a transaction: takes the ring's lock (a rotation waits for it) and returns the key
   * that is active now, from the database, or undefined if this replica cannot sign with it.
   * Checkpoints are signed under this lock, so none is ever signed by a key already retired.
   */
  async lockActive(tx: Queryable): Promise<SigningKeys | undefined> {
    const row = await this.repo.lockActive(tx);
    if (row === undefined) return undefined;
    if (row.kid !== this.activeKid) void this.load();
    return this.signers.get(row.kid) ?? this.openSealed(row);
  }

  /** Every key, oldest first. */
  list(): RingKey[] {
    return [...this.rows.values()].map((r) => ({
      kid: r.kid,
      publicKey: r.publicKey,
      notBefore: r.notBefore,
      notAfter: r.notAfter,
      tokensUntil: r.tokensUntil,
      origin: r.privateSealed === null ? 'configured' : 'rotated',
      createdBy: r.createdBy,
    }));
  }

  /** The active key's public half (every replica knows it, also one that cannot sign with it). */
  active(): RingKey {
    const kid = this.activeKid;
    const key = this.list().find((k) => k.kid === kid);
    if (key === undefined) throw new KeyError('the signing-key ring has no active key');
    return key;
  }

  /** Follows rotations made on other replicas (within RING_SYNC_MS). */
  startSync(): void {
    this.timer = setInterval(() => void this.load(), RING_SYNC_MS);
    this.timer.unref();
  }

  stopSync(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  /** Re-reads the ring; concurrent callers share one read. A failed read keeps the ring as it was. */
  load(): Promise<void> {
    this.loading ??= this.read().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async read(): Promise<void> {
    let rows: SigningKeyRow[];
    try {
      rows = await this.repo.list();
    } catch (err) {
      this.logger.error({ message: 'signing-key ring read failed; the ring as it was stays in use', error: (err as Error).message });
      return;
    }
    for (const r of rows) if (!this.publicKeys.has(r.kid)) this.publicKeys.set(r.kid, publicKeyObject(r.publicKey));
    this.rows = new Map(rows.map((r) => [r.kid, r]));
    const active = rows.find((r) => r.notAfter === null);
    if (active !== undefined && active.kid !== this.activeKid) {
      if (this.activeKid !== undefined) this.logger.log({ message: 'signing key rotated', from: this.activeKid, to: active.kid });
      this.activeKid = active.kid;
      if (!this.signers.has(active.kid)) this.openSealed(active);
    }
  }

  private activeRow(): SigningKeyRow | undefined {
    return this.activeKid === undefined ? undefined : this.rows.get(this.activeKid);
  }

  /** A rotated key's private key, unsealed with the configured key's ring key; undefined if it does not open. */
  private openSealed(row: SigningKeyRow): SigningKeys | undefined {
    if (row.privateSealed === null) return undefined;
    try {
      const keys = SigningKeys.fromPem(unseal(this.root.ringKey, row.privateSealed, sealBinding(row.kid)), `signing key ${row.kid}`);
      if (keys.kid !== row.kid) throw new KeyError('its private key does not match its key id');
      this.signers.set(row.kid, keys);
      return keys;
    } catch (err) {
      if (this.unopenable !== row.kid)
        this.logger.error({
          message: 'the active signing key cannot be opened with the configured key',
          kid: row.kid,
          error: (err as Error).message,
        });
      this.unopenable = row.kid;
      return undefined;
    }
  }
}

/** The sealed private key is bound to its key id: a row's sealed key cannot be moved to another row. */
function sealBinding(kid: string): string {
  return `signing-key:${kid}`;
}

function publicKeyObject(raw: Buffer): KeyObject {
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}
