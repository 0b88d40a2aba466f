import { createRemoteJWKSet, decodeJwt, importJWK, type JWK, jwtVerify } from 'jose';
import { TtlCache } from '../clock/ttl-cache';
import { type OidcIssuer, type OidcIssuerRepository } from './oidc-issuer.repository';
import { TokenError } from './token.service';
import { ROLES, type Role, type UserPrincipal } from '../principal/principal';

export type { OidcIssuer } from './oidc-issuer.repository';

export class JwksError extends Error {}

const CACHE_MS = 1000;
const FETCH_TIMEOUT_MS = 5000;

/**
 * Tokens from an organization's own identity provider. An issuer is registered with its JWKS
 * URL and audience; a token it signs carries the person's role in a claim, and a contestant's
 * team comes from team membership (subject at issuer), never from the token alone.
 */
export class OidcIssuers {
  private readonly cache: TtlCache<'all', Map<string, OidcIssuer>>;
  private readonly keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

  constructor(
    private readonly repo: OidcIssuerRepository,
    now: () => number = Date.now,
  ) {
    this.cache = new TtlCache(CACHE_MS, 1, now);
  }

  /** Fetches and checks a JWKS: JSON with a non-empty `keys` array of public keys jose can import. */
  static async validateJwks(url: string): Promise<number> {
    let body: unknown;
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'error' });
      if (!r.ok) throw new JwksError(`JWKS at ${url} answered ${r.status}`);
      body = await r.json();
    } catch (err) {
      if (err instanceof JwksError) throw err;
      throw new JwksError(`JWKS at ${url} could not be fetched or is not JSON`);
    }
    const keys = (body as { keys?: unknown }).keys;
    if (!Array.isArray(keys) || keys.length === 0) throw new JwksError('malformed JWKS: no "keys" array');
    for (const [i, k] of keys.entries()) {
      if (typeof k !== 'object' || k === null || typeof (k as JWK).kty !== 'string')
        throw new JwksError(`malformed JWKS: key ${i} has no kty`);
      if ((k as JWK).d !== undefined) throw new JwksError(`malformed JWKS: key ${i} is a private key`);
      try {
        await importJWK(k as JWK, (k as JWK).alg ?? defaultAlg(k as JWK));
      } catch {
        throw new JwksError(`malformed JWKS: key ${i} cannot be imported`);
      }
    }
    return keys.length;
  }

  async add(i: OidcIssuer, at: Date, by: string): Promise<boolean> {
    const added = await this.repo.insert(i, at, by);
    this.cache.clear();
    return added;
  }

  async list(): Promise<OidcIssuer[]> {
    return [...(await this.load()).values()];
  }

  /** The issuer a token claims, if it is a registered external one. */
  async issuerOf(token: string): Promise<OidcIssuer | undefined> {
    let iss: unknown;
    try {
      iss = decodeJwt(token).iss;
    } catch {
      return undefined;
    }
    return typeof iss === 'string' ? (await this.load()).get(iss) : undefined;
  }

  async verify(token: string, i: OidcIssuer, teamsOf: (sub: string, issuer: string) => Promise<string[]>): Promise<UserPrincipal> {
    let keys = this.keySets.get(i.issuer);
    if (keys === undefined) {
      keys = createRemoteJWKSet(new URL(i.jwksUrl), { timeoutDuration: FETCH_TIMEOUT_MS });
      this.keySets.set(i.issuer, keys);
    }
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: i.issuer,
        audience: i.audience,
        algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'],
        requiredClaims: ['exp', 'sub'],
        clockTolerance: 5,
      }));
    } catch (err) {
      throw new TokenError(`external token refused: ${(err as Error).message}`);
    }
    const role = payload[i.roleClaim];
    if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role))
      throw new TokenError(`external token has no valid ${i.roleClaim} claim`);
    const sub = String(payload.sub);
    const teams = role === 'contestant' ? await teamsOf(sub, i.issuer) : [];
    if (role === 'contestant' && teams.length !== 1) throw new TokenError('a contestant must be a member of exactly one team');
    return { kind: 'user', sub: `${sub}@${i.issuer}`, role: role as Role, team: teams[0] ?? null, subject: sub, issuer: i.issuer };
  }

  private async load(): Promise<Map<string, OidcIssuer>> {
    return this.cache.through('all', async () => new Map((await this.repo.list()).map((i) => [i.issuer, i])));
  }
}

function defaultAlg(k: JWK): string {
  if (k.kty === 'RSA') return 'RS256';
  if (k.kty === 'EC') return 'ES256';
  if (k.kty === 'OKP') return 'EdDSA';
  return 'none';
}
