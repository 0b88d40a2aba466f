import { Body, Controller, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { type FastifyRequest } from 'fastify';
import { Allow } from '../auth/access.decorator';
import { CurrentUser } from '../auth/principal.decorator';
import { type UserPrincipal } from '../auth/token.service';
import { IngestService } from '../ingest/ingest.service';
import { parseOrThrow } from '../ops/validation';
import { actor } from './actor';
import { newIngest } from './ingest.dto';

const meta = (req: FastifyRequest) => ({ requestId: req.id, listener: 'control' as const });

/** Organizers bring raw data in: de-identified on the way, recorded in the manifest. */
@ApiTags('ingest')
@Controller('v1')
export class IngestController {
  constructor(private readonly ingest: IngestService) {}

  @Post('datasets/:id/ingest')
  @HttpCode(202)
  @Allow('update', 'Dataset')
  @ApiOperation({ summary: 'Start an ingest run: de-identify a raw source into the dataset (background; re-runnable, resumes)' })
  start(@CurrentUser() user: UserPrincipal, @Param('id') id: string, @Body() body: unknown, @Req() req: FastifyRequest) {
    const b = parseOrThrow(newIngest, body);
    const csv = b.csvColumns === undefined ? undefined : { columns: b.csvColumns, pseudonymize: b.csvPseudonymize ?? [] };
    return this.ingest.start(actor(user), id, { source: b.source, target: b.target, csv, domain: b.domain, limit: b.limit }, meta(req));
  }

  @Get('datasets/:id/ingests')
  @Allow('read', 'Dataset')
  @ApiOperation({ summary: "A dataset's ingest runs, newest first" })
  async list(@Param('id') id: string) {
    return { runs: await this.ingest.list(id) };
  }

  @Get('ingests/:run')
  @Allow('read', 'Dataset')
  @ApiOperation({ summary: 'One ingest run: progress, and when done, what was stripped and refused' })
  get(@Param('run') run: string) {
    return this.ingest.get(run);
  }

  @Post('ingests/:run/cancel')
  @HttpCode(202)
  @Allow('update', 'Dataset')
  @ApiOperation({ summary: 'Stop a run after the file in hand (run it again to resume)' })
  cancel(@Param('run') run: string) {
    return this.ingest.cancel(run);
  }
}
