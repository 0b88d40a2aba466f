import { Injectable, UnauthorizedException } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { type FastifyRequest } from 'fastify';
import { Strategy } from 'passport-custom';
import { JobRepository } from '../jobs/job.repository';
import { TeamRepository } from '../teams/team.repository';
import { OidcIssuers } from './oidc-issuers';
import { Clock } from '../clock/clock';
import { CONTROL_AUDIENCE, SANDBOX_AUDIENCE, TokenError, TokenService } from './token.service';
import { type JobPrincipal, type Principal } from '../principal/principal';

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
  ) {
    super();
  }

  async validate(req: FastifyRequest): Promise<Principal> {
    const token = bearer(req);
    try {
      // A registered external issuer's token is verified against its JWKS; anything else must
      // be the gateway's own.
      const external = await this.oidc.issuerOf(token);
      if (external !== undefined) return await this.oidc.verify(token, external, (sub, iss) => this.teams.teamsOf(sub, iss));
      return await this.tokens.verify(token, CONTROL_AUDIENCE);
    } catch (err) {
      if (err instanceof TokenError) throw new UnauthorizedException(err.message);
      throw err;
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
