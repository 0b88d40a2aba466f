import { Controller, Get, Res, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { type FastifyReply } from 'fastify';
import { Public } from '../auth/access.decorator';
import { MetricsAccessGuard } from './metrics-access.guard';
import { CageMetrics } from './metrics.registry';

/** Prometheus scrape endpoint. Control listener only: the sandbox never learns other teams' traffic. */
@ApiTags('operations')
@Controller()
export class MetricsController {
  constructor(private readonly metrics: CageMetrics) {}

  @Get('metrics')
  // Not open: MetricsAccessGuard decides (organizer or auditor token, the scrape token, or public if configured).
  @Public()
  @UseGuards(MetricsAccessGuard)
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Prometheus metrics (text format 0.0.4): an organizer or auditor token, or the scrape token (CAGE_METRICS_TOKEN)',
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'The exposition text', schema: { type: 'string' } })
  @ApiUnauthorizedResponse({ description: 'No, bad or expired credential' })
  @ApiForbiddenResponse({ description: "The caller's role may not read metrics" })
  async scrape(@Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    void reply.header('content-type', this.metrics.contentType).header('cache-control', 'no-store');
    return this.metrics.scrape();
  }
}
