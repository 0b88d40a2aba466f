import {
  BadRequestException,
  ConflictException,
  Controller,
  ForbiddenException,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Req,
} from '@nestjs/common';
import { ApiConflictResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { type FastifyRequest } from 'fastify';
import { decodeJwt } from 'jose';
import { type z } from 'zod';
import { AuditLog } from '../audit/audit-log.service';
import { Clock } from '../clock/clock';
import { ZodBody, ZodResponse } from '../ops/openapi.decorators';
import { controlMeta as meta } from '../ops/request-meta';
import { actor, DEFAULT_USER_TTL_S, MAX_USER_TTL_S, REFRESH_LIMIT_S, type UserPrincipal } from '../principal/principal';
import { TeamRepository } from '../teams/team.repository';
import { Allow } from './access.decorator';
import { issuedToken, newToken, subjectRevocation, tokenRevocation } from './auth.dto';
import { CurrentUser } from './principal.decorator';
import { TokenRevocationRepository } from './token-revocation.repository';
import { TokenService } from './token.service';

@ApiTags('tokens')
@Controller('v1/tokens')
export class TokensController {
  constructor(
    private readonly tokens: TokenService,
    private readonly teams: TeamRepository,
    private readonly audit: AuditLog,
    private readonly revocations: TokenRevocationRepository,
    private readonly clock: Clock,
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
    if (t.team !== undefined && (await this.teams.get(t.team)) === undefined) throw new NotFoundException(`team ${t.team} not found`);
    // A team-claimed token affiliates its holder with the team for good (reviewer independence).
    const at = this.clock.now();
    if (t.team !== undefined)
      await this.teams.recordTokenHolder({ team: t.team, subject: t.subject, issuer: '', role: t.role }, at, actor(user));
    // A contestant's token speaks for the team only while its holder is a member (checked at
    // every use): issuing one makes the subject a member, unless they are one already.
    const membership =
      t.role === 'contestant' && t.team !== undefined
        ? (await this.teams.addMember({ team: t.team, subject: t.subject, issuer: '' }, at, actor(user)))
          ? 'added'
          : 'existing'
        : undefined;
    const ttlSeconds = t.ttlSeconds ?? DEFAULT_USER_TTL_S[t.role];
    const token = await this.tokens.issueUser(t.subject, t.role, t.team ?? null, ttlSeconds);
    const tokenId = String(decodeJwt(token).jti);
    const expiresAt = new Date(Date.now() + ttlSeconds * 1000).toISOString();
    await this.audit.record(meta(req), {
      principal: actor(user),
      team: t.team ?? null,
      action: 'token.issue',
      decision: 'allow',
      resource: { type: 'user', id: t.subject },
      detail: { after: { subject: t.subject, role: t.role, team: t.team ?? null, expiresAt, tokenId, ...(membership && { membership }) } },
    });
    return { token, tokenId, expiresAt };
  }

  @Post('refresh')
  @Allow('update', 'OwnToken')
  @ApiOperation({
    summary:
      'Exchange your own token for a fresh one: same subject, role and team, the same lifetime from now; the old token is revoked (every replica within 1 s)',
  })
  @ZodResponse(201, issuedToken)
  async refresh(@CurrentUser() user: UserPrincipal, @Req() req: FastifyRequest): Promise<z.infer<typeof issuedToken>> {
    if ((user.issuer ?? '') !== '' || user.tokenId === undefined || user.issuedAt === undefined || user.expiresAt === undefined)
      throw new BadRequestException('only a token this gateway issued is refreshed here; renew an identity provider’s token with it');
    // The lifetime its issuer chose, from now. A contestant removed from the team never gets
    // here: membership is checked on every use of the token, this one included.
    const ttlSeconds = Math.min(MAX_USER_TTL_S, Math.max(60, Math.round((user.expiresAt.getTime() - user.issuedAt.getTime()) / 1000)));
    const at = this.clock.now();
    const sessionStart = user.sessionStart ?? user.issuedAt;
    const refused = async (why: string) =>
      this.audit.record(meta(req), {
        principal: actor(user),
        team: user.team,
        action: 'token.refresh',
        decision: 'deny',
        resource: { type: 'token', id: user.tokenId },
        detail: { reason: why },
      });
    if (at.getTime() - sessionStart.getTime() > REFRESH_LIMIT_S * 1000) {
      await refused('refresh limit');
      throw new ForbiddenException(`this token's chain began over ${REFRESH_LIMIT_S / 86_400} days ago: ask an organizer for a new token`);
    }
    // Revoked first: if the new token could not be recorded, the caller still holds nothing new,
    // and a token stolen and refreshed by a thief stops working for its owner, who notices.
    if (!(await this.revocations.revokeToken(user.tokenId, at, actor(user)))) {
      // A refresh of a token refreshed already: its copy is in two hands. Logged for review.
      await refused('refreshed already');
      throw new ConflictException('this token was refreshed or revoked already');
    }
    const token = await this.tokens.issueUser(user.subject ?? user.sub, user.role, user.team, ttlSeconds, sessionStart);
    const tokenId = String(decodeJwt(token).jti);
    const expiresAt = new Date(Date.now() + ttlSeconds * 1000).toISOString();
    await this.audit.record(meta(req), {
      principal: actor(user),
      team: user.team,
      action: 'token.refresh',
      decision: 'allow',
      resource: { type: 'token', id: user.tokenId },
      detail: { after: { tokenId, expiresAt } },
    });
    return { token, tokenId, expiresAt };
  }

  @Post(':id/revoke')
  @HttpCode(200)
  @Allow('create', 'Token')
  @ApiOperation({ summary: 'Revoke one user token by its id: refused on every replica within 1 s' })
  @ZodResponse(200, tokenRevocation)
  @ApiConflictResponse({ description: 'Revoked already' })
  async revoke(
    @CurrentUser() user: UserPrincipal,
    @Param('id') id: string,
    @Req() req: FastifyRequest,
  ): Promise<z.infer<typeof tokenRevocation>> {
    const at = this.clock.now();
    if (!(await this.revocations.revokeToken(id.slice(0, 200), at, actor(user))))
      throw new ConflictException(`token ${id} is revoked already`);
    await this.audit.record(meta(req), {
      principal: actor(user),
      team: null,
      action: 'token.revoke',
      decision: 'allow',
      resource: { type: 'token', id: id.slice(0, 200) },
    });
    return { tokenId: id, revokedAt: at.toISOString() };
  }

  @Post('revoke-subject')
  @HttpCode(200)
  @Allow('create', 'Token')
  @ApiOperation({ summary: 'Revoke every user token of a subject issued up to now (a person who left); tokens issued later work' })
  @ZodResponse(200, tokenRevocation)
  async revokeSubject(
    @CurrentUser() user: UserPrincipal,
    @ZodBody(subjectRevocation) body: z.infer<typeof subjectRevocation>,
    @Req() req: FastifyRequest,
  ): Promise<z.infer<typeof tokenRevocation>> {
    const at = this.clock.now();
    await this.revocations.revokeSubject(body.subject, at, actor(user));
    await this.audit.record(meta(req), {
      principal: actor(user),
      team: null,
      action: 'token.revoke',
      decision: 'allow',
      resource: { type: 'user', id: body.subject },
      detail: { every: 'issued up to', revokedAt: at.toISOString() },
    });
    return { subject: body.subject, revokedAt: at.toISOString() };
  }
}
