import { Controller, Get, Post, Req } from '@nestjs/common';
import { ApiConflictResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { type FastifyRequest } from 'fastify';
import { type z } from 'zod';
import { Allow } from '../auth/access.decorator';
import { CurrentUser } from '../auth/principal.decorator';
import { type UserPrincipal } from '../principal/principal';
import { ZodBody, ZodResponse } from '../ops/openapi.decorators';
import { rotateSigningKey, signingKeyList, signingKeyRotation } from './signing-key.dto';
import { SigningKeyService } from './signing-key.service';

/** The gateway's signing keys (tokens and checkpoints): organizers rotate them. */
@ApiTags('keys')
@Controller('v1/keys/signing')
export class SigningKeyController {
  constructor(private readonly keys: SigningKeyService) {}

  @Get()
  @Allow('read', 'SigningKey')
  @ApiOperation({ summary: 'Every signing key, oldest first, with its validity window and until when its tokens are accepted' })
  @ZodResponse(200, signingKeyList)
  list(): z.infer<typeof signingKeyList> {
    return { keys: this.keys.list() };
  }

  @Post('rotate')
  @Allow('update', 'SigningKey')
  @ApiOperation({
    summary:
      'Retire the active signing key and make a new one active on every replica (within 1 s). The retired key keeps verifying its checkpoints; its tokens are accepted for tokenGraceSeconds (default: until they expire; 0: refused at once). Logged as keys.rotate.',
  })
  @ZodResponse(201, signingKeyRotation, 'The retired key and the new active one')
  @ApiConflictResponse({ description: 'Another rotation came first' })
  rotate(
    @CurrentUser() user: UserPrincipal,
    @ZodBody(rotateSigningKey) body: z.infer<typeof rotateSigningKey>,
    @Req() req: FastifyRequest,
  ): Promise<z.infer<typeof signingKeyRotation>> {
    return this.keys.rotate(user, body, { requestId: req.id, listener: 'control' });
  }
}
