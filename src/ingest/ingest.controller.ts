import { Controller, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiConflictResponse, ApiNotFoundResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { type FastifyRequest } from 'fastify';
import { controlMeta as meta } from '../ops/request-meta';
import { type z } from 'zod';
import { Allow } from '../auth/access.decorator';
import { CurrentUser } from '../auth/principal.decorator';
import { type UserPrincipal } from '../principal/principal';
import { type IngestRun } from './ingest-run.repository';
import { IngestService } from './ingest.service';
import { ZodBody, ZodResponse } from '../ops/openapi.decorators';
import { actor } from '../principal/principal';
import { ingestRun, ingestRunList, newIngest } from './ingest.dto';

const HIDDEN = '(shown to organizers only)';

/**
 * Source paths of a raw export may name patients (folders are often named after them): they are
 * shown to the organizers who brought the data in, not to auditors, who see counts and reasons.
 */
function forRole(run: IngestRun, user: UserPrincipal): IngestRun {
  if (user.role === 'organizer') return run;
  return {
    ...run,
    source: HIDDEN,
    summary:
      run.summary === null ? null : { ...run.summary, refused: run.summary.refused.map((r) => ({ path: HIDDEN, reason: r.reason })) },
  };
}

/** Organizers bring raw data in: de-identified on the way, recorded in the manifest. */
@ApiTags('ingest')
@Controller('v1')
export class IngestController {
  constructor(private readonly ingest: IngestService) {}

  @Post('datasets/:id/ingest')
  @HttpCode(202)
  @Allow('update', 'Dataset')
  @ApiOperation({ summary: 'Start an ingest run: de-identify a raw source into the dataset (background; re-runnable, resumes)' })
  @ZodResponse(202, ingestRun, 'The run as started')
  @ApiNotFoundResponse({ description: 'No such dataset' })
  @ApiConflictResponse({ description: 'A run into this dataset is in progress' })
  start(
    @CurrentUser() user: UserPrincipal,
    @Param('id') id: string,
    @ZodBody(newIngest) b: z.infer<typeof newIngest>,
    @Req() req: FastifyRequest,
  ): Promise<IngestRun> {
    const csv = b.csvColumns === undefined ? undefined : { columns: b.csvColumns, pseudonymize: b.csvPseudonymize ?? [] };
    return this.ingest.start(actor(user), id, { source: b.source, target: b.target, csv, domain: b.domain, limit: b.limit }, meta(req));
  }

  @Get('datasets/:id/ingests')
  @Allow('read', 'Dataset')
  @ApiOperation({ summary: "A dataset's ingest runs, newest first (source paths: organizers only)" })
  @ZodResponse(200, ingestRunList)
  @ApiNotFoundResponse({ description: 'No such dataset' })
  async list(@CurrentUser() user: UserPrincipal, @Param('id') id: string): Promise<z.infer<typeof ingestRunList>> {
    return { runs: (await this.ingest.list(id)).map((r) => forRole(r, user)) };
  }

  @Get('ingests/:run')
  @Allow('read', 'Dataset')
  @ApiOperation({ summary: 'One ingest run: progress, and when done, what was stripped and refused (source paths: organizers only)' })
  @ZodResponse(200, ingestRun)
  @ApiNotFoundResponse({ description: 'No such run' })
  async get(@CurrentUser() user: UserPrincipal, @Param('run') run: string): Promise<z.infer<typeof ingestRun>> {
    return forRole(await this.ingest.get(run), user);
  }

  @Post('ingests/:run/cancel')
  @HttpCode(202)
  @Allow('update', 'Dataset')
  @ApiOperation({ summary: 'Stop a run after the file in hand (run it again to resume)' })
  @ZodResponse(202, ingestRun, 'The run, as it was when asked to stop')
  @ApiNotFoundResponse({ description: 'No such run' })
  @ApiConflictResponse({ description: 'The run is not running' })
  cancel(@Param('run') run: string): Promise<z.infer<typeof ingestRun>> {
    return this.ingest.cancel(run);
  }
}
