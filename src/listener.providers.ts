import { type INestApplicationContext, type InjectionToken, type Provider } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { AuditLog } from './audit/audit-log.service';
import { AuditRepository } from './audit/audit.repository';
import { AuditExport } from './audit/audit-export.service';
import { ComplianceReports } from './audit/compliance-reports.service';
import { Checkpointer } from './audit/checkpointer.service';
import { MerkleStore } from './audit/merkle-store.repository';
import { SigningKeyService } from './audit/signing-key.service';
import { AccessGuard, LISTENER, type ListenerName } from './auth/access.guard';
import { OidcIssuers } from './auth/oidc-issuers';
import { TokenRevocationRepository } from './auth/token-revocation.repository';
import { TokenService } from './auth/token.service';
import { Clock } from './clock/clock';
import { CAGE_CONFIG } from './config/config';
import { DataPlaneService } from './data-plane/data-plane.service';
import { ListCursors } from './data-plane/list-cursor';
import { DatasetAdminService } from './datasets/dataset-admin.service';
import { EgressReceiptsService } from './egress/egress-receipts.service';
import { EgressReviewService } from './egress/egress-review.service';
import { EgressService } from './egress/egress.service';
import { GrantService } from './grants/grant.service';
import { IngestService } from './ingest/ingest.service';
import { JobSecrets } from './jobs/job-secrets';
import { JobRepository } from './jobs/job.repository';
import { JobService } from './jobs/job.service';
import { LeaderboardService } from './leaderboard/leaderboard.service';
import { CageMetrics } from './metrics/metrics.registry';
import { ErrorFilter } from './ops/error.filter';
import { HealthService } from './ops/health.service';
import { PolicyStore } from './policy/policy-store';
import { PolicyEngine } from './policy/policy.types';
import { SignaturePolicy } from './s3-api/signature-policy';
import { S3ApiService } from './s3-api/s3-api.service';
import { TeamRepository } from './teams/team.repository';
import { TeamService } from './teams/team.service';

/**
 * What each listener app may reach of the gateway's one container (cage.module.ts): the
 * services its routes and strategies use, the same instances for both listeners, and nothing
 * else. The sandbox app holds no organizer or compliance service, so no sandbox route can reach
 * one even by mistake (test/listener-isolation.integration.test.ts asks for each and is refused).
 */
const COMMON: InjectionToken[] = [Clock, TokenService, CAGE_CONFIG, HealthService];

const SANDBOX: InjectionToken[] = [JobRepository, JobSecrets, DataPlaneService, EgressService, ListCursors, S3ApiService, SignaturePolicy];

const CONTROL: InjectionToken[] = [
  AuditRepository,
  EgressReviewService,
  EgressReceiptsService,
  LeaderboardService,
  JobService,
  IngestService,
  TeamService,
  TeamRepository,
  GrantService,
  DatasetAdminService,
  PolicyStore,
  AuditLog,
  OidcIssuers,
  TokenRevocationRepository,
  PolicyEngine,
  MerkleStore,
  Checkpointer,
  SigningKeyService,
  AuditExport,
  ComplianceReports,
  // The metrics registry only here: the sandbox listener never serves what other teams do.
  CageMetrics,
];

function listenerProviders(services: INestApplicationContext, listener: ListenerName, tokens: InjectionToken[]): Provider[] {
  return [
    ...[...COMMON, ...tokens].map((token) => ({ provide: token, useValue: services.get<unknown>(token, { strict: false }) })),
    { provide: LISTENER, useValue: listener },
    { provide: APP_GUARD, useClass: AccessGuard },
    { provide: APP_FILTER, useClass: ErrorFilter },
  ];
}

/** The sandbox app's container: the data plane, egress and the S3 API, and what authenticates jobs. */
export function sandboxProviders(services: INestApplicationContext): Provider[] {
  return listenerProviders(services, 'sandbox', SANDBOX);
}

/** The control app's container: the services people use (organizers, compliance officers, contestants). */
export function controlProviders(services: INestApplicationContext): Provider[] {
  return listenerProviders(services, 'control', CONTROL);
}
