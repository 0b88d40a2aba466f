import { Controller, Get, HttpCode, NotFoundException, Post, Req, UnprocessableEntityException } from '@nestjs/common';
import { ApiConflictResponse, ApiNotFoundResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { type FastifyRequest } from 'fastify';
import { type z } from 'zod';
import { Allow } from '../auth/access.decorator';
import { CurrentUser } from '../auth/principal.decorator';
import { type UserPrincipal } from '../principal/principal';
import { ZodBody, ZodResponse } from '../ops/openapi.decorators';
import { PolicyRefused, PolicyStore } from './policy-store';
import { actor } from '../principal/principal';
import { policyCheck, policyFiles, policyRefused, policyVersion, policyVersionList, rollback } from './policy.dto';

/** Policy management: show, check, activate (atomic, audited), roll back. */
@ApiTags('policy')
@Controller('v1/policy')
export class PolicyController {
  constructor(private readonly store: PolicyStore) {}

  @Get()
  @Allow('read', 'Policy')
  @ApiOperation({ summary: 'The active policy set: version, SHA-256, activated when and by whom' })
  @ZodResponse(200, policyVersion)
  async active(): Promise<z.infer<typeof policyVersion> | undefined> {
    return (await this.store.versions()).find((v) => v.active);
  }

  @Get('versions')
  @Allow('read', 'Policy')
  @ApiOperation({ summary: 'Every policy version ever activated, oldest first' })
  @ZodResponse(200, policyVersionList)
  async versions(): Promise<z.infer<typeof policyVersionList>> {
    return { versions: await this.store.versions() };
  }

  @Post('check')
  @HttpCode(200)
  @Allow('update', 'Policy')
  @ApiOperation({ summary: 'Validate a policy set and run its expectations, without activating it' })
  @ZodResponse(200, policyCheck, 'The verdict (ok: false names every error and failing expectation)')
  check(@ZodBody(policyFiles) body: z.infer<typeof policyFiles>): z.infer<typeof policyCheck> {
    return this.store.check(body.files);
  }

  @Post()
  @Allow('update', 'Policy')
  @ApiOperation({ summary: 'Activate a policy set (422 naming the failing expectation; the old set keeps deciding)' })
  @ZodResponse(201, policyVersion, 'The new active version')
  @ZodResponse(422, policyRefused, 'Refused: the set does not validate or an expectation fails')
  @ApiConflictResponse({ description: 'Another activation took effect meanwhile; nothing was activated' })
  async activate(
    @CurrentUser() user: UserPrincipal,
    @ZodBody(policyFiles) body: z.infer<typeof policyFiles>,
    @Req() req: FastifyRequest,
  ): Promise<z.infer<typeof policyVersion>> {
    try {
      return await this.store.activate(body.files, actor(user), { requestId: req.id, listener: 'control' });
    } catch (err) {
      throw refused(err);
    }
  }

  @Post('rollback')
  @Allow('update', 'Policy')
  @ApiOperation({ summary: 'Activate an earlier version again (as a new version)' })
  @ZodResponse(201, policyVersion, 'The new active version, with the files of the one named')
  @ZodResponse(422, policyRefused, 'Refused: those files no longer pass')
  @ApiNotFoundResponse({ description: 'No such version' })
  @ApiConflictResponse({ description: 'Another activation took effect meanwhile; nothing was activated' })
  async rollback(
    @CurrentUser() user: UserPrincipal,
    @ZodBody(rollback) { version }: z.infer<typeof rollback>,
    @Req() req: FastifyRequest,
  ): Promise<z.infer<typeof policyVersion>> {
    let v;
    try {
      v = await this.store.rollback(version, actor(user), { requestId: req.id, listener: 'control' });
    } catch (err) {
      throw refused(err);
    }
    if (v === undefined) throw new NotFoundException(`no policy version ${version}`);
    return v;
  }
}

function refused(err: unknown): unknown {
  if (!(err instanceof PolicyRefused)) return err;
  return new UnprocessableEntityException({
    message: err.message,
    errors: err.check.errors,
    failures: err.check.expectations.filter((e) => !e.passed).map((e) => ({ expectation: e.name, message: e.message })),
  });
}
