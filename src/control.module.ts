import { type DynamicModule, Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { AuditController } from './audit/audit.controller';
import { AuditProofController } from './audit/audit-proof.controller';
import { ComplianceReportsController } from './audit/compliance-reports.controller';
import { ControlJwtStrategy } from './auth/jwt.strategy';
import { type Core } from './core';
import { IngestController } from './control/ingest.controller';
import { EgressAdminController } from './egress/egress-admin.controller';
import {
  DatasetAdminController,
  GrantsController,
  IssuersController,
  JobsController,
  TeamsController,
  TokensController,
} from './control/organizer.controllers';
import { PolicyController } from './control/policy.controller';
import { SigningKeyController } from './control/signing-key.controller';
import { controlProviders } from './listener.providers';
import { UiController } from './ui/ui.controller';
import { HealthController } from './ops/health.controller';
import { MetricsController } from './metrics/metrics.controller';
import { CageMetrics } from './metrics/metrics.registry';

/** The control listener: organizers, compliance officers, contestants (people). User credentials only. */
@Module({})
export class ControlModule {
  static register(core: Core): DynamicModule {
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
      // The metrics registry only here: the sandbox listener never serves what other teams do.
      providers: [...controlProviders(core), ControlJwtStrategy, { provide: CageMetrics, useValue: core.metrics }],
    };
  }
}
