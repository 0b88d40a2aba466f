import { Body, Controller, Get, HttpCode, NotFoundException, Post, Req, UnprocessableEntityException } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { type FastifyRequest } from 'fastify';
import { Allow } from '../auth/access.decorator';
import { CurrentUser } from '../auth/principal.decorator';
import { type UserPrincipal } from '../auth/token.service';
import { parseOrThrow } from '../ops/validation';
import { PolicyRefused, PolicyStore } from '../policy/policy-store';
import { actor } from './actor';
import { policyFiles, rollback } from './organizer.dto';

/** Policy management: show, check, activate (atomic, audited), roll back. */
@ApiTags('policy')
@Controller('v1/policy')
export class PolicyController {
  constructor(private readonly store: PolicyStore) {}

  @Get()
  @Allow('read', 'Policy')
  @ApiOperation({ summary: 'The active policy set: version, SHA-256, activated when and by whom' })
  async active() {
    return (await this.store.versions()).find((v) => v.active);
  }

  @Get('versions')
  @Allow('read', 'Policy')
  async versions() {
    return { versions: await this.store.versions() };
  }

  @Post('check')
  @HttpCode(200)
  @Allow('update', 'Policy')
  @ApiOperation({ summary: 'Validate a policy set and run its expectations, without activating it' })
  check(@Body() body: unknown) {
    return this.store.check(parseOrThrow(policyFiles, body).files);
  }

  @Post()
  @Allow('update', 'Policy')
  @ApiOperation({ summary: 'Activate a policy set (422 naming the failing expectation; the old set keeps deciding)' })
  async activate(@CurrentUser() user: UserPrincipal, @Body() body: unknown, @Req() req: FastifyRequest) {
    try {
      return await this.store.activate(parseOrThrow(policyFiles, body).files, actor(user), { requestId: req.id, listener: 'control' });
    } catch (err) {
      throw refused(err);
    }
  }

  @Post('rollback')
  @Allow('update', 'Policy')
  @ApiOperation({ summary: 'Activate an earlier version again (as a new version)' })
  async rollback(@CurrentUser() user: UserPrincipal, @Body() body: unknown, @Req() req: FastifyRequest) {
    const { version } = parseOrThrow(rollback, body);
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
