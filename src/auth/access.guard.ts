import { type CanActivate, type ExecutionContext, ForbiddenException, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard, type IAuthGuard } from '@nestjs/passport';
import { type FastifyRequest } from 'fastify';
import { abilityFor, type AppAction, type AppSubject } from './abilities';
import { AUTH_STRATEGY, IS_PUBLIC, REQUIRED_ABILITY } from './access.decorator';
import { type Principal } from '../principal/principal';

export const LISTENER = Symbol('LISTENER');
export type ListenerName = 'control' | 'sandbox';

/**
 * The one global guard of each listener. Secure by default: a route is public only with
 * @Public(); otherwise the caller must authenticate with this listener's credential kind and
 * hold the ability the route declares with @Allow(). A route that declares nothing is refused.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  private readonly strategies = new Map<string, IAuthGuard>();

  constructor(
    private readonly reflector: Reflector,
    @Inject(LISTENER) private readonly listener: ListenerName,
  ) {}

  /** The listener's JWT strategy, unless the controller names another (@AuthenticateWith). */
  private authenticator(name: string): IAuthGuard {
    let guard = this.strategies.get(name);
    if (guard === undefined) {
      const Passport = AuthGuard(name);
      guard = new Passport();
      this.strategies.set(name, guard);
    }
    return guard;
  }

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets) === true) return true;

    const strategy = this.reflector.getAllAndOverride<string | undefined>(AUTH_STRATEGY, targets) ?? `${this.listener}-jwt`;
    await this.authenticator(strategy).canActivate(ctx);

    const need = this.reflector.getAllAndOverride<{ action: AppAction; subject: AppSubject } | undefined>(REQUIRED_ABILITY, targets);
    if (need === undefined) throw new ForbiddenException('route declares no permission');
    const principal = ctx.switchToHttp().getRequest<FastifyRequest & { user?: Principal }>().user;
    if (principal === undefined || !abilityFor(principal).can(need.action, need.subject)) {
      throw new ForbiddenException(`this credential may not ${need.action} ${need.subject}`);
    }
    return true;
  }
}
