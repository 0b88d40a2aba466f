import { BadRequestException, ConflictException, Controller, Get, Post, Req } from '@nestjs/common';
import { ApiConflictResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { type FastifyRequest } from 'fastify';
import { type z } from 'zod';
import { Allow } from './access.decorator';
import { CurrentUser } from './principal.decorator';
import { type UserPrincipal } from '../principal/principal';
import { AuditLog } from '../audit/audit-log.service';
import { ZodBody, ZodResponse } from '../ops/openapi.decorators';
import { issuerList, newIssuer, registeredIssuer } from './auth.dto';
import { JwksError, OidcIssuers } from './oidc-issuers';
import { actor } from '../principal/principal';
import { controlMeta as meta } from '../ops/request-meta';

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
