import { type DynamicModule, type INestApplicationContext, Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { AuditController } from './audit/audit.controller';
import { AuditProofController } from './audit/audit-proof.controller';
import { ComplianceReportsController } from './audit/compliance-reports.controller';
import { ControlJwtStrategy } from './auth/jwt.strategy';
import { IngestController } from './ingest/ingest.controller';
import { EgressAdminController } from './egress/egress-admin.controller';
import { DatasetAdminController } from './datasets/dataset-admin.controller';
import { GrantsController } from './grants/grants.controller';
import { IssuersController } from './auth/issuers.controller';
import { JobsController } from './jobs/jobs.controller';
import { TeamsController } from './teams/teams.controller';
import { TokensController } from './auth/tokens.controller';
import { PolicyController } from './policy/policy.controller';
import { SigningKeyController } from './audit/signing-key.controller';
import { controlProviders } from './listener.providers';
import { UiController } from './ui/ui.controller';
import { HealthController } from './ops/health.controller';
import { MetricsController } from './metrics/metrics.controller';
import { LeaderboardController } from './leaderboard/leaderboard.controller';

/** The control listener: organizers, compliance officers, contestants (people). User credentials only. */
@Module({})
export class ControlModule {
  static register(services: INestApplicationContext): DynamicModule {
    return {
      module: ControlModule,
      imports: [PassportModule],
      controllers: [
        HealthController,
        AuditController,
        AuditProofController,
        ComplianceReportsController,
        UiController,
        EgressAdminController,
        LeaderboardController,
        DatasetAdminController,
        IngestController,
        TeamsController,
        GrantsController,
        JobsController,
        PolicyController,
        TokensController,
        IssuersController,
        SigningKeyController,
        MetricsController,
      ],
      providers: [...controlProviders(services), ControlJwtStrategy],
    };
  }
}
