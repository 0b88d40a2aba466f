import { TtlCache } from '../../clock/ttl-cache';
import { signingKey as deriveSigningKey } from './canonical-request';
import { type SigningScope } from './sigv4-verifier';

/** How long a derived key is kept unused-or-not (a scope lasts a day; keys are cheap to derive again). */
const KEEP_MS = 3_600_000;

/**
 * Derived SigV4 signing keys, kept per credential and scope: the secret is unsealed and the four
 * HMACs run once per job, day, region and service, not on every request. An entry is bound to the
 * sealed secret it was derived from, so a job whose secret changed never verifies with the old
 * key; revocation and expiry are not cached here (they are checked on the job record, read at
 * most 500 ms old, after every verification), so a revoked job is refused as soon as without it.
 * Bounded like every cache in front of the database: a flood of scopes cannot grow it.
 */
export class SigningKeys {
  private readonly keys = new TtlCache<string, { sealed: string; key: Buffer }>(KEEP_MS, 10_000);

  /** The key of `credential` (its id and sealed secret) for a scope, derived from `secret()` on a miss. */
  get(credential: { id: string; sealed: string }, scope: SigningScope, secret: () => string): Buffer {
    const id = `${credential.id}\n${scope.date}\n${scope.region}\n${scope.service}`;
    const hit = this.keys.get(id)?.value;
    if (hit !== undefined && hit.sealed === credential.sealed) return hit.key;
    const key = deriveSigningKey(secret(), scope.date, scope.region, scope.service);
    this.keys.set(id, { sealed: credential.sealed, key });
    return key;
  }

  get size(): number {
    return this.keys.size;
  }
}
