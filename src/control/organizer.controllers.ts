import {
  BadRequestException,
  ConflictException,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Req,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { type FastifyRequest } from 'fastify';
import { type z } from 'zod';
import { Allow } from '../auth/access.decorator';
import { CurrentUser } from '../auth/principal.decorator';
import { TokenService, type UserPrincipal } from '../auth/token.service';
import { AuditLog } from '../audit/audit-log.service';
import { ZodBody, ZodQuery, ZodResponse } from '../ops/openapi.decorators';
import { DatasetAdminService } from './dataset-admin.service';
import { GrantService } from './grant.service';
import { JobService } from './job.service';
import {
  dataset,
  datasetList,
  grant,
  grantList,
  grantQuery,
  indexRun,
  issuedToken,
  issuerList,
  job,
  jobCredentials,
  jobList,
  jobQuery,
  manifestReport,
  member,
  memberList,
  memberQuery,
  newDataset,
  newGrant,
  newIssuer,
  newJob,
  newMember,
  newTeam,
  newToken,
  registeredIssuer,
  team,
  teamList,
} from './organizer.dto';
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
  @ApiOperation({ summary: 'Register a dataset: bucket, prefix, split layout (the bucket must be reachable)' })
  @ZodResponse(201, dataset)
  @ApiConflictResponse({ description: 'A dataset with this id exists' })
  create(
    @CurrentUser() user: UserPrincipal,
    @ZodBody(newDataset) body: z.infer<typeof newDataset>,
    @Req() req: FastifyRequest,
  ): Promise<z.infer<typeof dataset>> {
    return this.datasets.register(user, body, meta(req));
  }

  @Get()
  @Allow('read', 'Dataset')
  @ApiOperation({ summary: 'Datasets with their splits and index figures' })
  @ZodResponse(200, datasetList)
  async list(): Promise<z.infer<typeof datasetList>> {
    return { datasets: await this.datasets.list() };
  }

  @Get(':id')
  @Allow('read', 'Dataset')
  @ApiOperation({ summary: 'One dataset with its splits and index figures' })
  @ZodResponse(200, dataset)
  @ApiNotFoundResponse({ description: 'No such dataset' })
  get(@Param('id') id: string): Promise<z.infer<typeof dataset>> {
    return this.datasets.get(id);
  }

  @Post(':id/index')
  @HttpCode(202)
  @Allow('update', 'Dataset')
  @ApiOperation({ summary: 'Index a dataset in the background (manifest, series, counts); re-runnable' })
  @ZodResponse(202, indexRun, 'The run as started')
  @ApiNotFoundResponse({ description: 'No such dataset' })
  @ApiConflictResponse({ description: 'A run is in progress' })
  index(@CurrentUser() user: UserPrincipal, @Param('id') id: string, @Req() req: FastifyRequest): Promise<z.infer<typeof indexRun>> {
    return this.datasets.startIndex(user, id, meta(req));
  }

  @Post(':id/manifest/verify')
  @HttpCode(200)
  @Allow('read', 'Dataset')
  @ApiOperation({
    summary: "Compare an ingested dataset's bucket with its manifest: unexpected, changed and missing objects (an audit leaf)",
  })
  @ZodResponse(200, manifestReport)
  @ApiBadRequestResponse({ description: 'The dataset was never ingested: it has no manifest' })
  @ApiNotFoundResponse({ description: 'No such dataset' })
  verifyManifest(
    @CurrentUser() user: UserPrincipal,
    @Param('id') id: string,
    @Req() req: FastifyRequest,
  ): Promise<z.infer<typeof manifestReport>> {
    return this.datasets.verifyManifest(user, id, meta(req));
  }

  @Get(':id/index')
  @Allow('read', 'Dataset')
  @ApiOperation({ summary: 'Progress of the latest index run' })
  @ZodResponse(200, indexRun)
  @ApiNotFoundResponse({ description: 'No such dataset, or never indexed' })
  indexRun(@Param('id') id: string): Promise<z.infer<typeof indexRun>> {
    return this.datasets.latestRun(id);
  }
}

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
  @ZodResponse(201, registeredIssuer)
  @ApiConflictResponse({ description: 'Already registered' })
  async add(
    @CurrentUser() user: UserPrincipal,
    @ZodBody(newIssuer) i: z.infer<typeof newIssuer>,
    @Req() req: FastifyRequest,
  ): Promise<z.infer<typeof registeredIssuer>> {
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
  @ApiOperation({ summary: 'The external OIDC issuers whose tokens are accepted' })
  @ZodResponse(200, issuerList)
  async list(): Promise<z.infer<typeof issuerList>> {
    return { issuers: await this.oidc.list() };
  }
}
