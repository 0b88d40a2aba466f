import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Query,
  Req,
} from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { type FastifyRequest } from 'fastify';
import { Allow } from '../auth/access.decorator';
import { CurrentUser } from '../auth/principal.decorator';
import { TokenService, type UserPrincipal } from '../auth/token.service';
import { AuditLog } from '../audit/audit-log.service';
import { parseOrThrow } from '../ops/validation';
import { DatasetAdminService } from './dataset-admin.service';
import { GrantService } from './grant.service';
import { JobService } from './job.service';
import { grantQuery, jobQuery, newDataset, newGrant, newIssuer, newJob, newMember, newTeam, newToken } from './organizer.dto';
import { JwksError, OidcIssuers } from '../auth/oidc-issuers';
import { TeamService } from './team.service';
import { actor } from './actor';
import { TeamRepository } from '../teams/team.repository';

const meta = (req: FastifyRequest) => ({ requestId: req.id, listener: 'control' as const });

@ApiTags('datasets')
@Controller('v1/datasets')
export class DatasetAdminController {
  constructor(private readonly datasets: DatasetAdminService) {}

  @Post()
  @Allow('create', 'Dataset')
  @ApiOperation({ summary: 'Register a dataset: bucket, prefix, split layout' })
  create(@CurrentUser() user: UserPrincipal, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.datasets.register(user, parseOrThrow(newDataset, body), meta(req));
  }

  @Get()
  @Allow('read', 'Dataset')
  @ApiOperation({ summary: 'Datasets with their splits and index figures' })
  async list() {
    return { datasets: await this.datasets.list() };
  }

  @Get(':id')
  @Allow('read', 'Dataset')
  get(@Param('id') id: string) {
    return this.datasets.get(id);
  }

  @Post(':id/index')
  @HttpCode(202)
  @Allow('update', 'Dataset')
  @ApiOperation({ summary: 'Index a dataset in the background (manifest, series, counts); re-runnable' })
  index(@CurrentUser() user: UserPrincipal, @Param('id') id: string, @Req() req: FastifyRequest) {
    return this.datasets.startIndex(user, id, meta(req));
  }

  @Post(':id/manifest/verify')
  @HttpCode(200)
  @Allow('read', 'Dataset')
  @ApiOperation({
    summary: "Compare an ingested dataset's bucket with its manifest: unexpected, changed and missing objects (an audit leaf)",
  })
  verifyManifest(@CurrentUser() user: UserPrincipal, @Param('id') id: string, @Req() req: FastifyRequest) {
    return this.datasets.verifyManifest(user, id, meta(req));
  }

  @Get(':id/index')
  @Allow('read', 'Dataset')
  @ApiOperation({ summary: 'Progress of the latest index run' })
  indexRun(@Param('id') id: string) {
    return this.datasets.latestRun(id);
  }
}

@ApiTags('teams')
@Controller('v1/teams')
export class TeamsController {
  constructor(private readonly teams: TeamService) {}

  @Post()
  @Allow('create', 'Team')
  create(@CurrentUser() user: UserPrincipal, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.teams.create(user, parseOrThrow(newTeam, body), meta(req));
  }

  @Get()
  @Allow('read', 'Team')
  async list() {
    return { teams: await this.teams.list() };
  }

  @Post(':id/members')
  @Allow('update', 'Team')
  addMember(@CurrentUser() user: UserPrincipal, @Param('id') id: string, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.teams.addMember(user, id, parseOrThrow(newMember, body), meta(req));
  }

  @Get(':id/members')
  @Allow('read', 'Team')
  async members(@Param('id') id: string) {
    return { members: await this.teams.members(id) };
  }

  @Delete(':id/members/:subject')
  @HttpCode(204)
  @Allow('update', 'Team')
  async removeMember(
    @CurrentUser() user: UserPrincipal,
    @Param('id') id: string,
    @Param('subject') subject: string,
    @Query('issuer') issuer: string | undefined,
    @Req() req: FastifyRequest,
  ) {
    await this.teams.removeMember(user, id, subject, issuer ?? '', meta(req));
  }
}

@ApiTags('grants')
@Controller('v1/grants')
export class GrantsController {
  constructor(private readonly grants: GrantService) {}

  @Post()
  @Allow('create', 'Grant')
  @ApiOperation({ summary: 'Grant a team a dataset split between notBefore and notAfter' })
  create(@CurrentUser() user: UserPrincipal, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.grants.create(user, parseOrThrow(newGrant, body), meta(req));
  }

  @Get()
  @Allow('read', 'Grant')
  async list(@Query() query: unknown) {
    return { grants: await this.grants.list(parseOrThrow(grantQuery, query)) };
  }

  @Post(':id/revoke')
  @HttpCode(200)
  @Allow('update', 'Grant')
  @ApiOperation({ summary: 'Revoke a grant: every replica refuses its next request within 1 s' })
  revoke(@CurrentUser() user: UserPrincipal, @Param('id') id: string, @Req() req: FastifyRequest) {
    return this.grants.revoke(user, id, meta(req));
  }
}

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
  async create(@CurrentUser() user: UserPrincipal, @Body() body: unknown, @Req() req: FastifyRequest) {
    const j = parseOrThrow(newJob, body);
    if ((await this.teams.get(j.team)) === undefined) throw new NotFoundException(`no such team ${JSON.stringify(j.team)}`);
    return this.jobs.issue(j.team, j.ttlSeconds, actor(user), meta(req));
  }

  @Get()
  @Allow('read', 'Job')
  async list(@Query() query: unknown) {
    return { jobs: await this.jobs.list(parseOrThrow(jobQuery, query)) };
  }

  @Post(':id/revoke')
  @HttpCode(200)
  @Allow('update', 'Job')
  @ApiOperation({ summary: 'Revoke a job: its token and access key stop within 1 s' })
  async revoke(@CurrentUser() user: UserPrincipal, @Param('id') id: string, @Req() req: FastifyRequest) {
    const r = await this.jobs.revoke(id, actor(user), meta(req));
    if (r === 'unknown') throw new NotFoundException(`no such job ${JSON.stringify(id)}`);
    if (r === 'already') throw new ConflictException(`job ${id} was already revoked`);
    return r;
  }
}

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
  async issue(@CurrentUser() user: UserPrincipal, @Body() body: unknown, @Req() req: FastifyRequest) {
    const t = parseOrThrow(newToken, body);
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

@ApiTags('issuers')
@Controller('v1/issuers')
export class IssuersController {
  constructor(
    private readonly oidc: OidcIssuers,
    private readonly audit: AuditLog,
  ) {}

  @Post()
  @Allow('create', 'Issuer')
  @ApiOperation({ summary: 'Accept tokens from an external OIDC issuer (its JWKS is fetched and checked first)' })
  async add(@CurrentUser() user: UserPrincipal, @Body() body: unknown, @Req() req: FastifyRequest) {
    const i = parseOrThrow(newIssuer, body);
    let keys: number;
    try {
      keys = await OidcIssuers.validateJwks(i.jwksUrl);
    } catch (err) {
      if (err instanceof JwksError) throw new BadRequestException(err.message);
      throw err;
    }
    if (!(await this.oidc.add(i, new Date(), actor(user)))) throw new ConflictException(`issuer ${i.issuer} is already registered`);
    await this.audit.record(meta(req), {
      principal: actor(user),
      team: null,
      action: 'issuer.add',
      decision: 'allow',
      resource: { type: 'issuer', id: i.issuer },
      detail: { after: { ...i, keys } },
    });
    return { ...i, keys };
  }

  @Get()
  @Allow('read', 'Issuer')
  async list() {
    return { issuers: await this.oidc.list() };
  }
}
