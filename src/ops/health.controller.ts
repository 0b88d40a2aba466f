import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/access.decorator';
import { HealthService } from './health.service';

@ApiTags('operations')
@Controller()
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get('healthz')
  @Public()
  @ApiOperation({ summary: 'Liveness: the process serves HTTP' })
  healthz() {
    return { status: 'ok' };
  }

  @Get('readyz')
  @Public()
  @ApiOperation({ summary: 'Readiness: start-up finished (bootstrap written), and the database and the object store answer' })
  async readyz() {
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
