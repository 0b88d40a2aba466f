import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { type z } from 'zod';
import { Public } from '../auth/access.decorator';
import { liveness, readiness } from './health.dto';
import { HealthService } from './health.service';
import { ZodResponse } from './openapi.decorators';

@ApiTags('operations')
@Controller()
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get('healthz')
  @Public()
  @ApiOperation({ summary: 'Liveness: the process serves HTTP' })
  @ZodResponse(200, liveness)
  healthz(): z.infer<typeof liveness> {
    return { status: 'ok' };
  }

  @Get('readyz')
  @Public()
  @ApiOperation({ summary: 'Readiness: start-up finished (bootstrap written), and the database and the object store answer' })
  @ZodResponse(200, readiness)
  @ApiServiceUnavailableResponse({ description: 'Not ready: the message names what is not' })
  async readyz(): Promise<z.infer<typeof readiness>> {
    const r = await this.health.check();
    if (!r.ok)
      throw new ServiceUnavailableException(
        `not ready: ${Object.entries(r.checks)
          .filter(([, v]) => v !== 'ok')
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
      );
    return { status: 'ready', checks: r.checks };
  }
}
