import { createHash, timingSafeEqual } from 'node:crypto';
import { type CanActivate, type ExecutionContext, ForbiddenException, Inject, Injectable } from '@nestjs/common';
import { type FastifyRequest } from 'fastify';
import { abilityFor } from '../auth/abilities';
import { ControlJwtStrategy } from '../auth/jwt.strategy';
import { type Principal } from '../principal/principal';
import { CAGE_CONFIG, type CageConfig } from '../config/config';

/**
 * Who may read `GET /metrics`. The figures are aggregates with no team in any label, but how
 * busy the gateway is, how much is refused and how much leaves is still for operators, not for
 * contestants: closed by default. Let in, in this order: anyone when the operator said so
 * (`CAGE_METRICS_PUBLIC=1`); a bearer equal to the scrape token (`CAGE_METRICS_TOKEN`, what
 * Prometheus sends); a control user token whose role may read metrics (organizer, auditor).
 * Anything else: 401 without a usable credential, 403 for a person whose role may not.
 *
 * A route guard rather than the global one because a scrape token is not a principal the global
 * guard knows: the route opts out of it (@Public) and this guard decides instead.
 */
@Injectable()
export class MetricsAccessGuard implements CanActivate {
  private readonly scrapeToken: Buffer | undefined;

  constructor(
    @Inject(CAGE_CONFIG) private readonly config: CageConfig,
    private readonly users: ControlJwtStrategy,
  ) {
    this.scrapeToken = config.metrics.token === undefined ? undefined : digest(config.metrics.token);
  }

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (this.config.metrics.public) return true;
    const req = ctx.switchToHttp().getRequest<FastifyRequest & { user?: Principal }>();
    const presented = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    // Compared as digests in constant time: neither the token nor its length leaks by timing.
    if (this.scrapeToken !== undefined && presented !== undefined && timingSafeEqual(digest(presented), this.scrapeToken)) return true;
    const user = await this.users.validate(req);
    if (!abilityFor(user).can('read', 'Metrics')) throw new ForbiddenException('this credential may not read metrics');
    req.user = user;
    return true;
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
