import { type DynamicModule, type INestApplicationContext, Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { SandboxJwtStrategy } from './auth/jwt.strategy';
import { DatasetsController } from './data-plane/datasets.controller';
import { EgressController } from './egress/egress.controller';
import { SubmissionsController } from './leaderboard/submissions.controller';
import { sandboxProviders } from './listener.providers';
import { HealthController } from './ops/health.controller';
import { S3Controller } from './s3-api/s3.controller';
import { S3SignatureStrategy } from './s3-api/s3-signature.strategy';

/** The sandbox listener: the only door from contestant code. Job credentials only: JWT (REST) or SigV4 access keys (S3). */
@Module({})
export class SandboxModule {
  static register(services: INestApplicationContext): DynamicModule {
    return {
      module: SandboxModule,
      imports: [PassportModule],
      // The S3 controller's catch-all routes come last: the REST routes are more specific and win.
      controllers: [DatasetsController, EgressController, SubmissionsController, HealthController, S3Controller],
      providers: [...sandboxProviders(services), SandboxJwtStrategy, S3SignatureStrategy],
    };
  }
}
