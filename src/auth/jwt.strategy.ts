import { Injectable, UnauthorizedException } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { type FastifyRequest } from 'fastify';
import { Strategy } from 'passport-custom';
import { JobRepository } from '../jobs/job.repository';
import { TeamRepository } from '../teams/team.repository';
import { OidcIssuers } from './oidc-issuers';
import { Clock } from '../clock/clock';
import { CONTROL_AUDIENCE, SANDBOX_AUDIENCE, TokenError, TokenService } from './token.service';
import { type JobPrincipal, personOf, type Principal, type UserPrincipal } from '../principal/principal';
import { TokenRevocationRepository } from './token-revocation.repository';

function bearer(req: FastifyRequest): string {
  const h = req.headers.authorization;
  if (h === undefined) throw new UnauthorizedException('missing Authorization: Bearer <token>');
  const m = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(h);
  if (m?.[1] === undefined) throw new UnauthorizedException('Authorization must be Bearer <token>');
  return m[1];
}

/** Control listener: user tokens only (audience cage-control, or a registered OIDC issuer's); a job token is refused here. */
@Injectable()
export class ControlJwtStrategy extends PassportStrategy(Strategy, 'control-jwt') {
  constructor(
    private readonly tokens: TokenService,
    private readonly oidc: OidcIssuers,
    private readonly teams: TeamRepository,
    private readonly revocations: TokenRevocationRepository,
  ) {
    super();
  }

  async validate(req: FastifyRequest): Promise<Principal> {
    const token = bearer(req);
    let user: UserPrincipal;
    try {
      // A registered external issuer's token is verified against its JWKS (team membership read
      // at use); anything else must be the gateway's own.
      const external = await this.oidc.issuerOf(token);
      if (external !== undefined) return await this.oidc.verify(token, external, (sub, iss) => this.teams.teamsOf(sub, iss));
      user = (await this.tokens.verify(token, CONTROL_AUDIENCE)) as UserPrincipal;
    } catch (err) {
      if (err instanceof TokenError) throw new UnauthorizedException(err.message);
      throw err;
    }
    await this.stillGood(user);
    return user;
  }

  /**
   * What a signature cannot say, read at every use (at most 500 ms old, on every replica): the
   * token was not revoked, nor every token of its subject since it was issued; a contestant's
   * token speaks for its team only while its holder is a member, and has been since it was issued.
   */
  private async stillGood(user: UserPrincipal): Promise<void> {
    if (user.tokenId !== undefined && (await this.revocations.revokedAt('token', user.tokenId)) !== null)
      throw new UnauthorizedException('token revoked');
    const subjectRevoked = await this.revocations.revokedAt('subject', user.sub);
    // A refreshed token counts from its chain's first issue: refreshing does not outrun a revocation.
    const since = user.sessionStart ?? user.issuedAt;
    if (subjectRevoked !== null && (since === undefined || since <= subjectRevoked))
      throw new UnauthorizedException(`token revoked: every token of ${user.sub} issued up to ${subjectRevoked.toISOString()} was`);
    if (user.role === 'contestant' && user.team !== null) {
      // The claim alone does not speak for the team: the holder must be a member now, and have
      // been since the token's chain began (a member removed and added again does not bring back
      // the tokens issued before; a token is whole seconds, membership milliseconds).
      const person = personOf(user);
      const member = await this.teams.memberSince(user.team, person.subject, person.issuer);
      if (member === undefined)
        throw new UnauthorizedException(`not (or no longer) a member of team ${user.team}: the token does not speak for it`);
      if (since !== undefined && Math.floor(member.getTime() / 1000) * 1000 > since.getTime())
        throw new UnauthorizedException(`this token predates the current membership of team ${user.team}: ask an organizer for a new one`);
    }
  }
}

/**
 * Sandbox listener: job tokens only (audience cage-sandbox). Every request also re-reads the
 * job's state (at most 500 ms old), so a revoked or expired job stops on every replica within
 * a second, even with a token that is still cryptographically valid.
 */
@Injectable()
export class SandboxJwtStrategy extends PassportStrategy(Strategy, 'sandbox-jwt') {
  constructor(
    private readonly tokens: TokenService,
    private readonly jobs: JobRepository,
    private readonly clock: Clock,
  ) {
    super();
  }

  async validate(req: FastifyRequest): Promise<JobPrincipal> {
    let p: Principal;
    try {
      p = await this.tokens.verify(bearer(req), SANDBOX_AUDIENCE);
    } catch (err) {
      if (err instanceof TokenError) throw new UnauthorizedException(err.message);
      throw err;
    }
    if (p.kind !== 'job') throw new UnauthorizedException('a job credential is required');
    const job = await this.jobs.get(p.jobId);
    const now = this.clock.now();
    if (job === undefined || job.team !== p.team) throw new UnauthorizedException('unknown job');
    if (job.revokedAt !== null) throw new UnauthorizedException('job credential revoked');
    if (job.expiresAt <= now) throw new UnauthorizedException('job credential expired');
    return p;
  }
}
