import { type DynamicModule, Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { SandboxJwtStrategy } from './auth/jwt.strategy';
import { type Core } from './core';
import { DatasetsController } from './data-plane/datasets.controller';
import { EgressController } from './egress/egress.controller';
import { sandboxProviders } from './listener.providers';
import { HealthController } from './ops/health.controller';
import { S3ApiService } from './s3-api/s3-api.service';
import { S3Controller } from './s3-api/s3.controller';
import { SigV4Strategy } from './s3-api/sigv4.strategy';

/** The sandbox listener: the only door from contestant code. Job credentials only: JWT (REST) or SigV4 access keys (S3). */
@Module({})
export class SandboxModule {
  static register(core: Core): DynamicModule {
    return {
      module: SandboxModule,
      imports: [PassportModule],
      // The S3 controller's catch-all routes come last: the REST routes are more specific and win.
      controllers: [DatasetsController, EgressController, HealthController, S3Controller],
      providers: [
        ...sandboxProviders(core),
        SandboxJwtStrategy,
        SigV4Strategy,
        { provide: S3ApiService, useValue: new S3ApiService(core.dataPlane, core.egress, core.config.s3Api.region, core.cursors) },
      ],
    };
  }
}
