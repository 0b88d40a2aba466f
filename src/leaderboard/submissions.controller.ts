import { Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOperation, ApiTags } from '@nestjs/swagger';
import { type FastifyReply, type FastifyRequest } from 'fastify';
import { Allow } from '../auth/access.decorator';
import { CurrentJob } from '../auth/principal.decorator';
import { egressRefused, receipt } from '../egress/egress.dto';
import { EgressService } from '../egress/egress.service';
import { ZodResponse } from '../ops/openapi.decorators';
import { type JobPrincipal } from '../principal/principal';

/** The egress kind a competition's submissions are (policies/egress/submissions.json). */
export const SUBMISSIONS_KIND = 'submissions';

/** Submitting to the leaderboard from a job (sandbox listener): predictions in, a score out. */
@ApiTags('leaderboard')
@Controller('v1/submissions')
export class SubmissionsController {
  constructor(private readonly egress: EgressService) {}

  @Post()
  @HttpCode(201)
  @Allow('create', 'Egress')
  @ApiOperation({
    summary:
      'Submit predictions (a LUNA16 results CSV) to the leaderboard: scored inside against hidden labels; only the score is released',
  })
  @ApiConsumes('text/csv')
  @ApiBody({
    description: 'seriesuid,coordX,coordY,coordZ,probability — the predictions rules',
    schema: { type: 'string', format: 'binary' },
  })
  @ZodResponse(201, receipt, 'Scored: the receipt carries the score the Ladder shows')
  @ZodResponse(413, egressRefused, 'Larger than the kind allows')
  @ZodResponse(422, egressRefused, 'Refused: reason codes, never an echo of the content')
  @ZodResponse(429, egressRefused, "Over the day's submissions or bits")
  async submit(@CurrentJob() job: JobPrincipal, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const declared = req.headers['content-length'];
    const r = await this.egress.submit(
      job,
      SUBMISSIONS_KIND,
      req.raw,
      { requestId: req.id, listener: 'sandbox' },
      'bearer',
      declared === undefined ? undefined : Number(declared),
    );
    void reply.status(201).send(r);
  }
}
