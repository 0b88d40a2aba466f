import { Controller, Post, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { type FastifyRequest } from 'fastify';
import { type z } from 'zod';
import { Allow } from './access.decorator';
import { CurrentUser } from './principal.decorator';
import { TokenService } from './token.service';
import { type UserPrincipal } from '../principal/principal';
import { AuditLog } from '../audit/audit-log.service';
import { ZodBody, ZodResponse } from '../ops/openapi.decorators';
import { issuedToken, newToken } from './auth.dto';
import { actor } from '../principal/principal';
import { TeamRepository } from '../teams/team.repository';
import { controlMeta as meta } from '../ops/request-meta';

@ApiTags('tokens')
@Controller('v1/tokens')
export class TokensController {
  constructor(
    private readonly tokens: TokenService,
    private readonly teams: TeamRepository,
    private readonly audit: AuditLog,
  ) {}

  @Post()
  @Allow('create', 'Token')
  @ApiOperation({ summary: 'Issue a user token (organizer, auditor, or contestant of a team)' })
  @ZodResponse(201, issuedToken)
  async issue(
    @CurrentUser() user: UserPrincipal,
    @ZodBody(newToken) t: z.infer<typeof newToken>,
    @Req() req: FastifyRequest,
  ): Promise<z.infer<typeof issuedToken>> {
    // A team-claimed token affiliates its holder with the team for good (reviewer independence).
    if (t.team !== undefined)
      await this.teams.recordTokenHolder({ team: t.team, subject: t.subject, issuer: '', role: t.role }, new Date(), actor(user));
    const token = await this.tokens.issueUser(t.subject, t.role, t.team ?? null, t.ttlSeconds);
    const expiresAt = new Date(Date.now() + t.ttlSeconds * 1000).toISOString();
    await this.audit.record(meta(req), {
      principal: actor(user),
      team: t.team ?? null,
      action: 'token.issue',
      decision: 'allow',
      resource: { type: 'user', id: t.subject },
      detail: { after: { subject: t.subject, role: t.role, team: t.team ?? null, expiresAt } },
    });
    return { token, expiresAt };
  }
}
