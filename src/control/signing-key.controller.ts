import { Body, Controller, Get, Post, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { type FastifyRequest } from 'fastify';
import { Allow } from '../auth/access.decorator';
import { CurrentUser } from '../auth/principal.decorator';
import { type UserPrincipal } from '../auth/token.service';
import { parseOrThrow } from '../ops/validation';
import { rotateSigningKey } from './signing-key.dto';
import { SigningKeyService } from './signing-key.service';

/** The gateway's signing keys (tokens and checkpoints): organizers rotate them. */
@ApiTags('keys')
@Controller('v1/keys/signing')
export class SigningKeyController {
  constructor(private readonly keys: SigningKeyService) {}

  @Get()
  @Allow('read', 'SigningKey')
  @ApiOperation({ summary: 'Every signing key, oldest first, with its validity window and until when its tokens are accepted' })
  list() {
    return { keys: this.keys.list() };
  }

  @Post('rotate')
  @Allow('update', 'SigningKey')
  @ApiOperation({
    summary:
      'Retire the active signing key and make a new one active on every replica (within 1 s). The retired key keeps verifying its checkpoints; its tokens are accepted for tokenGraceSeconds (default: until they expire; 0: refused at once). Logged as keys.rotate.',
  })
  rotate(@CurrentUser() user: UserPrincipal, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.keys.rotate(user, parseOrThrow(rotateSigningKey, body), { requestId: req.id, listener: 'control' });
  }
}
