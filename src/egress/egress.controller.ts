import { Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { type FastifyReply, type FastifyRequest } from 'fastify';
import { Allow } from '../auth/access.decorator';
import { CurrentJob } from '../auth/principal.decorator';
import { type JobPrincipal } from '../auth/token.service';
import { EgressService } from './egress.service';

/** The only way out of the sandbox (job credential). */
@ApiTags('egress')
@Controller('v1/egress')
export class EgressController {
  constructor(private readonly egress: EgressService) {}

  @Get('budget')
  @Allow('read', 'Budget')
  @ApiOperation({ summary: "The team's information budget today (UTC): bits and submissions used and remaining" })
  budget(@CurrentJob() job: JobPrincipal) {
    return this.egress.budget(job.team);
  }

  @Post(':kind')
  @HttpCode(201)
  @Allow('create', 'Egress')
  @ApiOperation({ summary: 'Submit an artifact (raw body): checked, canonicalized, charged, logged, then released' })
  @ApiParam({ name: 'kind', description: 'predictions, metrics, model, …' })
  @ApiResponse({ status: 201, description: 'Released: receipt {id, status, sha256, bits, auditIndex, …}' })
  @ApiResponse({ status: 202, description: 'Held for review (airlock)' })
  @ApiResponse({ status: 413, description: 'Larger than the kind allows' })
  @ApiResponse({ status: 422, description: 'Refused: reason codes, never an echo of the content' })
  @ApiResponse({ status: 429, description: 'Over the daily budget: what remains' })
  async submit(@CurrentJob() job: JobPrincipal, @Param('kind') kind: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const declared = req.headers['content-length'];
    const receipt = await this.egress.submit(
      job,
      kind,
      req.raw,
      { requestId: req.id, listener: 'sandbox' },
      'bearer',
      declared === undefined ? undefined : Number(declared),
    );
    void reply.status(receipt.status === 'pending_review' ? 202 : 201).send(receipt);
  }
}
