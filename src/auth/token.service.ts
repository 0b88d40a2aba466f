import { createHash, randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors, type JWTHeaderParameters } from 'jose';
import { z } from 'zod';
import { type TokenKeys } from '../keys/signing-keys';
import { MAX_USER_TTL_S, type Principal, ROLES, type Role } from '../principal/principal';

export const ISSUER = 'cage';
/** User tokens are good only on the control listener, job tokens only on the sandbox listener. */
export const CONTROL_AUDIENCE = 'cage-control';
export const SANDBOX_AUDIENCE = 'cage-sandbox';

export class TokenError extends Error {}

const userClaims = z
  .object({
    typ: z.literal('user'),
    sub: z.string().min(1).max(200),
    role: z.enum(ROLES),
    team: z.string().min(1).max(64).optional(),
  })
  .refine((c) => c.role !== 'contestant' || c.team !== undefined, 'a contestant token must carry a team');

const jobClaims = z.object({
  typ: z.literal('job'),
  sub: z.string().min(1).max(64),
  team: z.string().min(1).max(64),
  exp: z.number().int(),
});

/** Clock skew allowed between replicas (expiry, and a retired key's last issue time). */
const CLOCK_TOLERANCE_S = 5;

/**
 * Issues and verifies the gateway's own tokens: EdDSA (Ed25519) JWTs. Verification pins the
 * algorithm (so `alg: none` and HMAC-with-public-key tricks fail), the issuer and the audience
 * of the listener, and requires an expiry. The key is the one the token's `kid` names in the
 * signing-key ring: a retired key's tokens pass only within the grace its rotation chose and only
 * if issued before it retired (a key retired because it leaked cannot mint new ones).
 */
export class TokenService {
  /** Tokens that verified, by their SHA-256: what they said (see verify). */
  private readonly verified = new Map<
    string,
    { audience: string; principal: Principal; kid: string | undefined; exp: number; iat: number | undefined }
  >();

  constructor(private readonly keys: TokenKeys) {}

  /**
   * `sessionStart`: a refresh passes on when its chain began (the `auth_time` claim), so that
   * revoking a subject's tokens "issued up to now" catches every refresh of them too.
   */
  async issueUser(sub: string, role: Role, team: string | null, ttlSeconds: number, sessionStart?: Date): Promise<string> {
    if (ttlSeconds <= 0 || ttlSeconds > MAX_USER_TTL_S) throw new TokenError(`user token TTL must be 1..${MAX_USER_TTL_S} s`);
    const claims: Record<string, string | number> = {
      typ: 'user',
      role,
      auth_time: Math.floor((sessionStart?.getTime() ?? Date.now()) / 1000),
    };
    if (team !== null) claims.team = team;
    return this.sign(claims, sub, CONTROL_AUDIENCE, Math.floor(Date.now() / 1000) + ttlSeconds);
  }

  async issueJob(jobId: string, team: string, expiresAt: Date): Promise<string> {
    return this.sign({ typ: 'job', team }, jobId, SANDBOX_AUDIENCE, Math.floor(expiresAt.getTime() / 1000));
  }

  /**
   * Verifies a bearer token for one listener's audience; throws TokenError on any defect.
   *
   * The Ed25519 check is the costly part, and its answer for the same bytes never changes: a
   * token verified once is remembered (by its SHA-256) with what it said. What can change is
   * checked again on every use, cached or not: its expiry, and whether the key its `kid` names
   * still stands (retired, and past its tokens' grace, or its issue after the retirement).
   * Revocation is read at every use by the strategies, after this. Only tokens that verified are
   * remembered, at most MAX_VERIFIED of them (the oldest go first).
   */
  async verify(token: string, audience: typeof CONTROL_AUDIENCE | typeof SANDBOX_AUDIENCE): Promise<Principal> {
    const digest = createHash('sha256').update(token).digest('base64');
    const known = this.verified.get(digest);
    if (known !== undefined && known.audience === audience) {
      try {
        await this.stillStanding(known.kid, known.exp, known.iat);
      } catch (err) {
        this.verified.delete(digest);
        throw err;
      }
      return { ...known.principal };
    }
    let payload: Record<string, unknown>;
    let kid: string | undefined;
    try {
      ({ payload } = await jwtVerify(
        token,
        async (header: JWTHeaderParameters) => {
          kid = header.kid;
          const found = await this.keys.tokenKey(header.kid);
          if (!found.ok) throw keyRefused(found.reason);
          return found.publicKey;
        },
        { algorithms: ['EdDSA'], issuer: ISSUER, audience, requiredClaims: ['exp', 'sub'], clockTolerance: CLOCK_TOLERANCE_S },
      ));
    } catch (err) {
      throw err instanceof TokenError ? err : new TokenError(describe(err));
    }
    const exp = payload.exp as number;
    const iat = typeof payload.iat === 'number' ? payload.iat : undefined;
    await this.stillStanding(kid, exp, iat);
    const principal = principalOf(payload, audience);
    if (this.verified.size >= MAX_VERIFIED) this.verified.delete(this.verified.keys().next().value as string);
    this.verified.set(digest, { audience, principal, kid, exp, iat });
    return { ...principal };
  }

  /** What a signature cannot say for ever: the token has not expired, and its key still stands for it. */
  private async stillStanding(kid: string | undefined, exp: number, iat: number | undefined): Promise<void> {
    if (Date.now() / 1000 > exp + CLOCK_TOLERANCE_S) throw new TokenError('token expired');
    const found = await this.keys.tokenKey(kid);
    if (!found.ok) throw keyRefused(found.reason);
    if (found.retiredAt !== null && (iat === undefined || iat * 1000 > found.retiredAt.getTime() + CLOCK_TOLERANCE_S * 1000))
      throw new TokenError('token was issued after its signing key retired');
  }

  private async sign(claims: Record<string, string | number>, sub: string, audience: string, exp: number): Promise<string> {
    const key = this.keys.signer();
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', kid: key.kid })
      .setIssuer(ISSUER)
      .setAudience(audience)
      .setSubject(sub)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime(exp)
      .sign(key.privateKey);
  }
}

/** Tokens remembered as verified: ~10,000 live users and jobs per replica, a few MiB. */
const MAX_VERIFIED = 10_000;

function keyRefused(reason: string | undefined): TokenError {
  return new TokenError(reason === undefined ? 'token signature is not valid' : `token signature is not valid: ${reason}`);
}

/** The principal a verified token's claims name, for its audience. */
function principalOf(payload: Record<string, unknown>, audience: string): Principal {
  if (audience === SANDBOX_AUDIENCE) {
    const c = jobClaims.safeParse(payload);
    if (!c.success) throw new TokenError('not a job token');
    return { kind: 'job', jobId: c.data.sub, team: c.data.team, expiresAt: new Date(c.data.exp * 1000) };
  }
  const c = userClaims.safeParse(payload);
  if (!c.success) throw new TokenError('not a user token');
  return {
    kind: 'user',
    sub: c.data.sub,
    role: c.data.role,
    team: c.data.team ?? null,
    subject: c.data.sub,
    issuer: '',
    ...(typeof payload.jti === 'string' ? { tokenId: payload.jti } : {}),
    ...(typeof payload.iat === 'number' ? { issuedAt: new Date(payload.iat * 1000) } : {}),
    ...(typeof payload.exp === 'number' ? { expiresAt: new Date(payload.exp * 1000) } : {}),
    ...(typeof payload.auth_time === 'number' ? { sessionStart: new Date(payload.auth_time * 1000) } : {}),
  };
}

function describe(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'token expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `token claim ${err.claim} is not valid here`;
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'token algorithm not allowed';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'token signature is not valid';
  return 'token is malformed';
}
