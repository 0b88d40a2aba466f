import { ConflictException, Controller, Get, HttpCode, NotFoundException, Param, Post, Req } from '@nestjs/common';
import { ApiConflictResponse, ApiNotFoundResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { type FastifyRequest } from 'fastify';
import { type z } from 'zod';
import { Allow } from '../auth/access.decorator';
import { CurrentUser } from '../auth/principal.decorator';
import { type UserPrincipal } from '../principal/principal';
import { ZodBody, ZodQuery, ZodResponse } from '../ops/openapi.decorators';
import { JobService } from './job.service';
import { job, jobCredentials, jobList, jobQuery, newJob } from './jobs.dto';
import { actor } from '../principal/principal';
import { TeamRepository } from '../teams/team.repository';
import { controlMeta as meta } from '../ops/request-meta';

@ApiTags('jobs')
@Controller('v1/jobs')
export class JobsController {
  constructor(
    private readonly jobs: JobService,
    private readonly teams: TeamRepository,
  ) {}

  @Post()
  @Allow('create', 'Job')
  @ApiOperation({ summary: 'Issue job credentials (JWT + S3 access key); the secret is shown once' })
  @ZodResponse(201, jobCredentials)
  @ApiNotFoundResponse({ description: 'No such team' })
  async create(
    @CurrentUser() user: UserPrincipal,
    @ZodBody(newJob) j: z.infer<typeof newJob>,
    @Req() req: FastifyRequest,
  ): Promise<z.infer<typeof jobCredentials>> {
    if ((await this.teams.get(j.team)) === undefined) throw new NotFoundException(`no such team ${JSON.stringify(j.team)}`);
    return this.jobs.issue(j.team, j.ttlSeconds, actor(user), meta(req));
  }

  @Get()
  @Allow('read', 'Job')
  @ApiOperation({ summary: 'Job credentials (never their secrets), filtered by team and whether in force now' })
  @ZodResponse(200, jobList)
  async list(@ZodQuery(jobQuery) query: z.infer<typeof jobQuery>): Promise<z.infer<typeof jobList>> {
    return { jobs: await this.jobs.list(query) };
  }

  @Post(':id/revoke')
  @HttpCode(200)
  @Allow('update', 'Job')
  @ApiOperation({ summary: 'Revoke a job: its token and access key stop within 1 s' })
  @ZodResponse(200, job)
  @ApiNotFoundResponse({ description: 'No such job' })
  @ApiConflictResponse({ description: 'Already revoked' })
  async revoke(@CurrentUser() user: UserPrincipal, @Param('id') id: string, @Req() req: FastifyRequest): Promise<z.infer<typeof job>> {
    const r = await this.jobs.revoke(id, actor(user), meta(req));
    if (r === 'unknown') throw new NotFoundException(`no such job ${JSON.stringify(id)}`);
    if (r === 'already') throw new ConflictException(`job ${id} was already revoked`);
    return r;
  }
}
