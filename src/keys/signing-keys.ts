import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, hkdfSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export class KeyError extends Error {}

/** A token's key as the verifier finds it: usable (active, or retired within its grace), or not, and why. */
export type TokenKeyLookup =
  | { ok: true; publicKey: KeyObject; retiredAt: Date | null }
  /** `reason` for a key the ring knows but refuses; none for a key id it has never had (a forgery, as far as anyone can tell). */
  | { ok: false; reason?: string };

/**
 * What issuing and verifying tokens needs: the key new tokens are signed with, and the key a
 * token's `kid` names. The key ring (signing-key-ring.ts) is the gateway's; one SigningKeys is
 * a ring of one key (unit tests).
 */
export interface TokenKeys {
  signer(): SigningKeys;
  /** A token without a `kid` is checked against the active key. */
  tokenKey(kid: string | undefined): Promise<TokenKeyLookup>;
}

/**
 * One Ed25519 key pair of the gateway: it signs user and job tokens and audit checkpoints. The
 * configured key (CAGE_SIGNING_KEY / _FILE / the data dir) is also the root of derived keys
 * (HKDF), so production has one secret to manage: one seals job S3 secrets at rest, one seals
 * the private keys a rotation makes, in the database, for every replica to read, one seals
 * listing cursors.
 */
export class SigningKeys implements TokenKeys {
  readonly kid: string;
  readonly publicKey: KeyObject;
  readonly sealKey: Buffer;
  readonly ringKey: Buffer;
  readonly cursorKey: Buffer;

  constructor(readonly privateKey: KeyObject) {
    if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
      throw new KeyError(`signing key must be an Ed25519 private key, got ${privateKey.asymmetricKeyType ?? 'unknown'} ${privateKey.type}`);
    }
    this.publicKey = createPublicKey(privateKey);
    const raw = this.rawPublicKey();
    this.kid = createHash('sha256').update(raw).digest().subarray(0, 8).toString('base64url');
    const seed = privateKey.export({ format: 'jwk' }).d;
    if (seed === undefined) throw new KeyError('signing key has no private part');
    this.sealKey = Buffer.from(hkdfSync('sha256', Buffer.from(seed, 'base64url'), Buffer.alloc(0), 'cage job-secret sealing v1', 32));
    this.ringKey = Buffer.from(hkdfSync('sha256', Buffer.from(seed, 'base64url'), Buffer.alloc(0), 'cage signing-key ring v1', 32));
    this.cursorKey = Buffer.from(hkdfSync('sha256', Buffer.from(seed, 'base64url'), Buffer.alloc(0), 'cage list cursor v1', 32));
  }

  /** A fresh key pair (a rotation's next key). */
  static generate(): SigningKeys {
    return new SigningKeys(generateKeyPairSync('ed25519').privateKey);
  }

  signer(): SigningKeys {
    return this;
  }

  tokenKey(kid: string | undefined): Promise<TokenKeyLookup> {
    return Promise.resolve(
      kid === undefined || kid === this.kid ? { ok: true, publicKey: this.publicKey, retiredAt: null } : { ok: false },
    );
  }

  /** The private key as PKCS#8 PEM (sealed before it is stored). */
  pem(): string {
    return this.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  }

  /** The 32-byte Ed25519 public key. */
  rawPublicKey(): Buffer {
    const x = this.publicKey.export({ format: 'jwk' }).x;
    if (x === undefined) throw new KeyError('public key has no x');
    return Buffer.from(x, 'base64url');
  }

  /** Parses a PEM (PKCS#8) Ed25519 private key; `source` names where it came from in errors. */
  static fromPem(pem: string, source: string): SigningKeys {
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: pem, format: 'pem' });
    } catch {
      throw new KeyError(`${source}: not a PEM private key`);
    }
    try {
      return new SigningKeys(key);
    } catch (err) {
      throw new KeyError(`${source}: ${(err as Error).message}`);
    }
  }

  /**
   * Production: CAGE_SIGNING_KEY (PEM text) or CAGE_SIGNING_KEY_FILE. Otherwise the key under
   * the data dir, generated (mode 0600) on first start so tokens survive restarts.
   */
  static load(opts: { pem?: string; file?: string; dataDir: string }): SigningKeys {
    if (opts.pem !== undefined) return SigningKeys.fromPem(opts.pem, 'CAGE_SIGNING_KEY');
    if (opts.file !== undefined) {
      if (!existsSync(opts.file)) throw new KeyError(`CAGE_SIGNING_KEY_FILE: ${opts.file} does not exist`);
      return SigningKeys.fromPem(readFileSync(opts.file, 'utf8'), `CAGE_SIGNING_KEY_FILE (${opts.file})`);
    }
    const file = join(opts.dataDir, 'keys', 'signing-key.pem');
    if (existsSync(file)) return SigningKeys.fromPem(readFileSync(file, 'utf8'), file);
    const { privateKey } = generateKeyPairSync('ed25519');
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600, flag: 'wx' });
    return new SigningKeys(privateKey);
  }
}
