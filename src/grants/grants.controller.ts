import { Controller, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiConflictResponse, ApiNotFoundResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { type FastifyRequest } from 'fastify';
import { type z } from 'zod';
import { Allow } from '../auth/access.decorator';
import { CurrentUser } from '../auth/principal.decorator';
import { type UserPrincipal } from '../principal/principal';
import { ZodBody, ZodQuery, ZodResponse } from '../ops/openapi.decorators';
import { GrantService } from './grant.service';
import { grant, grantList, grantQuery, newGrant } from './grants.dto';
import { controlMeta as meta } from '../ops/request-meta';

@ApiTags('grants')
@Controller('v1/grants')
export class GrantsController {
  constructor(private readonly grants: GrantService) {}

  @Post()
  @Allow('create', 'Grant')
  @ApiOperation({ summary: 'Grant a team a dataset split between notBefore and notAfter' })
  @ZodResponse(201, grant)
  @ApiNotFoundResponse({ description: 'No such team, dataset or split' })
  @ApiConflictResponse({ description: 'Overlaps an unrevoked grant of the same team and split' })
  create(
    @CurrentUser() user: UserPrincipal,
    @ZodBody(newGrant) body: z.infer<typeof newGrant>,
    @Req() req: FastifyRequest,
  ): Promise<z.infer<typeof grant>> {
    return this.grants.create(user, body, meta(req));
  }

  @Get()
  @Allow('read', 'Grant')
  @ApiOperation({ summary: 'Grants, filtered by team, dataset, and whether in force now' })
  @ZodResponse(200, grantList)
  async list(@ZodQuery(grantQuery) query: z.infer<typeof grantQuery>): Promise<z.infer<typeof grantList>> {
    return { grants: await this.grants.list(query) };
  }

  @Post(':id/revoke')
  @HttpCode(200)
  @Allow('update', 'Grant')
  @ApiOperation({ summary: 'Revoke a grant: every replica refuses its next request within 1 s' })
  @ZodResponse(200, grant)
  @ApiNotFoundResponse({ description: 'No such grant' })
  @ApiConflictResponse({ description: 'Already revoked' })
  revoke(@CurrentUser() user: UserPrincipal, @Param('id') id: string, @Req() req: FastifyRequest): Promise<z.infer<typeof grant>> {
    return this.grants.revoke(user, id, meta(req));
  }
}
