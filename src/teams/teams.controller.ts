import { Controller, Delete, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiConflictResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { type FastifyRequest } from 'fastify';
import { type z } from 'zod';
import { Allow } from '../auth/access.decorator';
import { CurrentUser } from '../auth/principal.decorator';
import { type UserPrincipal } from '../principal/principal';
import { ZodBody, ZodQuery, ZodResponse } from '../ops/openapi.decorators';
import { member, memberList, memberQuery, newMember, newTeam, team, teamList } from './teams.dto';
import { TeamService } from './team.service';
import { controlMeta as meta } from '../ops/request-meta';

@ApiTags('teams')
@Controller('v1/teams')
export class TeamsController {
  constructor(private readonly teams: TeamService) {}

  @Post()
  @Allow('create', 'Team')
  @ApiOperation({ summary: 'Create a team' })
  @ZodResponse(201, team)
  @ApiConflictResponse({ description: 'A team with this id exists' })
  create(
    @CurrentUser() user: UserPrincipal,
    @ZodBody(newTeam) body: z.infer<typeof newTeam>,
    @Req() req: FastifyRequest,
  ): Promise<z.infer<typeof team>> {
    return this.teams.create(user, body, meta(req));
  }

  @Get()
  @Allow('read', 'Team')
  @ApiOperation({ summary: 'Teams with their member counts' })
  @ZodResponse(200, teamList)
  async list(): Promise<z.infer<typeof teamList>> {
    return { teams: await this.teams.list() };
  }

  @Post(':id/members')
  @Allow('update', 'Team')
  @ApiOperation({ summary: 'Add a person (subject and issuer of their token) to a team' })
  @ZodResponse(201, member)
  @ApiNotFoundResponse({ description: 'No such team' })
  @ApiConflictResponse({ description: 'Already a member' })
  addMember(
    @CurrentUser() user: UserPrincipal,
    @Param('id') id: string,
    @ZodBody(newMember) body: z.infer<typeof newMember>,
    @Req() req: FastifyRequest,
  ): Promise<z.infer<typeof member>> {
    return this.teams.addMember(user, id, body, meta(req));
  }

  @Get(':id/members')
  @Allow('read', 'Team')
  @ApiOperation({ summary: "A team's current members" })
  @ZodResponse(200, memberList)
  @ApiNotFoundResponse({ description: 'No such team' })
  async members(@Param('id') id: string): Promise<z.infer<typeof memberList>> {
    return { members: await this.teams.members(id) };
  }

  @Delete(':id/members/:subject')
  @HttpCode(204)
  @Allow('update', 'Team')
  @ApiOperation({ summary: 'End a membership; it is kept as a former one (reviewer independence)' })
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiNotFoundResponse({ description: 'Not a member of this team' })
  async removeMember(
    @CurrentUser() user: UserPrincipal,
    @Param('id') id: string,
    @Param('subject') subject: string,
    @ZodQuery(memberQuery) query: z.infer<typeof memberQuery>,
    @Req() req: FastifyRequest,
  ): Promise<void> {
    await this.teams.removeMember(user, id, subject, query.issuer ?? '', meta(req));
  }
}
