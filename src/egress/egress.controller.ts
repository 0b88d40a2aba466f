import { Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { type z } from 'zod';
import { type FastifyReply, type FastifyRequest } from 'fastify';
import { Allow } from '../auth/access.decorator';
import { CurrentJob } from '../auth/principal.decorator';
import { type JobPrincipal } from '../principal/principal';
import { ZodResponse } from '../ops/openapi.decorators';
import { budget, egressRefused, receipt } from './egress.dto';
import { EgressService } from './egress.service';

/** The only way out of the sandbox (job credential). */
@ApiTags('egress')
@Controller('v1/egress')
export class EgressController {
  constructor(private readonly egress: EgressService) {}

  @Get('budget')
  @Allow('read', 'Budget')
  @ApiOperation({ summary: "The team's information budget today (UTC): bits and submissions used and remaining" })
  @ZodResponse(200, budget)
  budget(@CurrentJob() job: JobPrincipal): Promise<z.infer<typeof budget>> {
    return this.egress.budget(job.team);
  }

  @Post(':kind')
  @HttpCode(201)
  @Allow('create', 'Egress')
  @ApiOperation({ summary: 'Submit an artifact (raw body): checked, canonicalized, charged, logged, then released' })
  @ApiParam({ name: 'kind', description: 'predictions, metrics, model, …' })
  @ApiConsumes('application/octet-stream')
  @ApiBody({
    description: 'The artifact, as its kind defines it (a CSV, a JSON document, model bytes)',
    schema: { type: 'string', format: 'binary' },
  })
  @ZodResponse(201, receipt, 'Released')
  @ZodResponse(202, receipt, 'Held for review (the airlock)')
  @ZodResponse(413, egressRefused, 'Larger than the kind allows')
  @ZodResponse(422, egressRefused, 'Refused: reason codes, never an echo of the content')
  @ZodResponse(429, egressRefused, 'Over the daily cap or bits, or too many uploads of the job at once: what remains')
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
