import { randomUUID } from 'node:crypto';
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

  /** Verifies a bearer token for one listener's audience; throws TokenError on any defect. */
  async verify(token: string, audience: typeof CONTROL_AUDIENCE | typeof SANDBOX_AUDIENCE): Promise<Principal> {
    let payload: Record<string, unknown>;
    const used: { retiredAt: Date | null } = { retiredAt: null };
    const keyFor = async (header: JWTHeaderParameters) => {
      const found = await this.keys.tokenKey(header.kid);
      if (!found.ok)
        throw new TokenError(found.reason === undefined ? 'token signature is not valid' : `token signature is not valid: ${found.reason}`);
      used.retiredAt = found.retiredAt;
      return found.publicKey;
    };
    try {
      ({ payload } = await jwtVerify(token, keyFor, {
        algorithms: ['EdDSA'],
        issuer: ISSUER,
        audience,
        requiredClaims: ['exp', 'sub'],
        clockTolerance: CLOCK_TOLERANCE_S,
      }));
    } catch (err) {
      throw err instanceof TokenError ? err : new TokenError(describe(err));
    }
    if (used.retiredAt !== null) {
      const iat = payload.iat;
      if (typeof iat !== 'number' || iat * 1000 > used.retiredAt.getTime() + CLOCK_TOLERANCE_S * 1000)
        throw new TokenError('token was issued after its signing key retired');
    }
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

function describe(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'token expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `token claim ${err.claim} is not valid here`;
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'token algorithm not allowed';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'token signature is not valid';
  return 'token is malformed';
}
