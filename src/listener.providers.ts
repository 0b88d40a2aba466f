import { type Provider } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { AuditLog } from './audit/audit-log.service';
import { AuditRepository } from './audit/audit.repository';
import { AuditExport } from './audit/audit-export.service';
import { ComplianceReports } from './audit/compliance-reports.service';
import { Checkpointer } from './audit/checkpointer.service';
import { MerkleStore } from './audit/merkle-store.repository';
import { DatasetAdminService } from './control/dataset-admin.service';
import { GrantService } from './control/grant.service';
import { JobService } from './control/job.service';
import { IngestService } from './ingest/ingest.service';
import { TeamService } from './control/team.service';
import { SigningKeyService } from './control/signing-key.service';
import { PolicyStore } from './policy/policy-store';
import { PolicyEngine } from './policy/policy.types';
import { TeamRepository } from './teams/team.repository';
import { AccessGuard, LISTENER, type ListenerName } from './auth/access.guard';
import { OidcIssuers } from './auth/oidc-issuers';
import { TokenService } from './auth/token.service';
import { Clock } from './clock/clock';
import { type Core } from './core';
import { DataPlaneService } from './data-plane/data-plane.service';
import { ListCursors } from './data-plane/list-cursor';
import { EgressReceiptsService } from './egress/egress-receipts.service';
import { EgressReviewService } from './egress/egress-review.service';
import { EgressService } from './egress/egress.service';
import { JobSecrets } from './keys/job-secrets';
import { JobRepository } from './keys/job.repository';
import { CAGE_CONFIG } from './config/config';
import { ErrorFilter } from './ops/error.filter';
import { HealthService } from './ops/health.service';

/** What both listener apps need: authentication, health, the guard and the error filter. */
function commonProviders(core: Core, listener: ListenerName): Provider[] {
  return [
    { provide: Clock, useValue: core.clock },
    { provide: TokenService, useValue: core.tokens },
    { provide: CAGE_CONFIG, useValue: core.config },
    { provide: HealthService, useValue: core.health },
    { provide: LISTENER, useValue: listener },
    { provide: APP_GUARD, useClass: AccessGuard },
    { provide: APP_FILTER, useClass: ErrorFilter },
  ];
}

/**
 * The sandbox app's container: the data plane and egress, and what authenticates jobs. Nothing
 * of the control plane is in it, so no sandbox route can reach an organizer's service even by
 * mistake (a test asks the container for each and is refused).
 */
export function sandboxProviders(core: Core): Provider[] {
  return [
    ...commonProviders(core, 'sandbox'),
    { provide: JobRepository, useValue: core.jobs },
    { provide: JobSecrets, useValue: core.jobSecrets },
    { provide: DataPlaneService, useValue: core.dataPlane },
    { provide: EgressService, useValue: core.egress },
    { provide: ListCursors, useValue: core.cursors },
  ];
}

/** The control app's container: the services people use (organizers, compliance officers, contestants). */
export function controlProviders(core: Core): Provider[] {
  return [
    ...commonProviders(core, 'control'),
    { provide: AuditRepository, useValue: core.auditRepo },
    { provide: EgressReviewService, useValue: core.egressReviews },
    { provide: EgressReceiptsService, useValue: core.egressReceipts },
    { provide: JobService, useValue: core.jobService },
    { provide: IngestService, useValue: core.ingest },
    { provide: TeamService, useValue: core.teamService },
    { provide: TeamRepository, useValue: core.teams },
    { provide: GrantService, useValue: core.grantService },
    { provide: DatasetAdminService, useValue: core.datasetAdmin },
    { provide: PolicyStore, useValue: core.policyStore },
    { provide: AuditLog, useValue: core.auditLog },
    { provide: OidcIssuers, useValue: core.oidc },
    { provide: PolicyEngine, useValue: core.policy },
    { provide: MerkleStore, useValue: core.tree },
    { provide: Checkpointer, useValue: core.checkpointer },
    { provide: SigningKeyService, useValue: core.signingKeys },
    { provide: AuditExport, useValue: core.auditExport },
    { provide: ComplianceReports, useValue: core.reports },
  ];
}
