import { createParamDecorator, type ExecutionContext, UnauthorizedException } from '@nestjs/common';
import { type FastifyRequest } from 'fastify';
import { type JobPrincipal, type Principal, type UserPrincipal } from '../principal/principal';

function principalOf(ctx: ExecutionContext): Principal {
  const p = ctx.switchToHttp().getRequest<FastifyRequest & { user?: Principal }>().user;
  if (p === undefined) throw new UnauthorizedException('no credential');
  return p;
}

/** The authenticated job (sandbox routes). */
export const CurrentJob = createParamDecorator((_: unknown, ctx: ExecutionContext): JobPrincipal => {
  const p = principalOf(ctx);
  if (p.kind !== 'job') throw new UnauthorizedException('a job credential is required');
  return p;
});

/** The authenticated person (control routes). */
export const CurrentUser = createParamDecorator((_: unknown, ctx: ExecutionContext): UserPrincipal => {
  const p = principalOf(ctx);
  if (p.kind !== 'user') throw new UnauthorizedException('a user credential is required');
  return p;
});
