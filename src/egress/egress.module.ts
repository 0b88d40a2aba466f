import { Module } from '@nestjs/common';
import { AuditLog } from '../audit/audit-log.service';
import { AuditModule } from '../audit/audit.module';
import { Clock } from '../clock/clock';
import { CAGE_CONFIG, type CageConfig } from '../config/config';
import { DatasetRepository } from '../datasets/dataset.repository';
import { DatasetsModule } from '../datasets/datasets.module';
import { SeriesRepository } from '../datasets/series.repository';
import { Database } from '../db/database';
import { Replica } from '../db/replica';
import { Lifecycle } from '../ops/lifecycle';
import { GrantRepository } from '../grants/grant.repository';
import { GrantsModule } from '../grants/grants.module';
import { JobRepository } from '../jobs/job.repository';
import { JobsModule } from '../jobs/jobs.module';
import { construct } from '../ops/provide';
import { PolicyModule } from '../policy/policy.module';
import { PolicyEngine } from '../policy/policy.types';
import { ObjectStore } from '../storage/object-store.service';
import { TeamRepository } from '../teams/team.repository';
import { TeamsModule } from '../teams/teams.module';
import { EgressReceiptsService } from './egress-receipts.service';
import { HELD_BUCKET, OUTBOX_BUCKET, QUARANTINE_BUCKET, Releaser } from './egress-release';
import { EgressReviewService } from './egress-review.service';
import { EgressRepository } from './egress.repository';
import { EgressService } from './egress.service';
import { OutboxReconciler } from './outbox-reconciler';
import { ReviewerIndependence } from './reviewer-independence';
import { ReviewerRepository } from './reviewer.repository';

/**
 * The airlock: submissions checked, charged and logged before release; the review of what a
 * machine cannot check; receipts for contestants. Before any listener accepts egress, what a
 * crash left half-released is finished or failed (the reconciler).
 */
@Module({
  imports: [AuditModule, PolicyModule, DatasetsModule, GrantsModule, TeamsModule, JobsModule],
  providers: [
    {
      provide: EgressRepository,
      inject: [Database, Replica],
      useFactory: (db: Database, replica: Replica) => new EgressRepository(db, replica.id),
    },
    {
      provide: Releaser,
      inject: [ObjectStore, EgressRepository, AuditLog, Clock],
      useFactory: async (store: ObjectStore, repo: EgressRepository, audit: AuditLog, clock: Clock) => {
        for (const bucket of [OUTBOX_BUCKET, HELD_BUCKET, QUARANTINE_BUCKET]) await store.ensureBucket(bucket);
        return new Releaser(store, repo, audit, clock);
      },
    },
    {
      provide: EgressService,
      inject: [
        PolicyEngine,
        GrantRepository,
        DatasetRepository,
        SeriesRepository,
        EgressRepository,
        ObjectStore,
        Releaser,
        AuditLog,
        Clock,
        CAGE_CONFIG,
      ],
      useFactory: (
        policy: PolicyEngine,
        grants: GrantRepository,
        datasets: DatasetRepository,
        series: SeriesRepository,
        repo: EgressRepository,
        store: ObjectStore,
        releaser: Releaser,
        audit: AuditLog,
        clock: Clock,
        config: CageConfig,
      ) => new EgressService(policy, grants, datasets, series, repo, store, releaser, audit, clock, config.egress),
    },
    construct(ReviewerRepository, [Database]),
    construct(ReviewerIndependence, [PolicyEngine, TeamRepository, JobRepository, Clock]),
    construct(EgressReviewService, [EgressRepository, ReviewerRepository, ReviewerIndependence, ObjectStore, Releaser, AuditLog, Clock]),
    {
      provide: EgressReceiptsService,
      inject: [EgressRepository, ObjectStore, Clock, CAGE_CONFIG],
      useFactory: (repo: EgressRepository, store: ObjectStore, clock: Clock, config: CageConfig) =>
        new EgressReceiptsService(repo, store, clock, config.egress.publishSeconds),
    },
    {
      // After the Releaser is built, so the outbox, held and quarantine buckets exist.
      provide: OutboxReconciler,
      inject: [EgressRepository, ObjectStore, AuditLog, Clock, Replica, Lifecycle, Releaser],
      useFactory: async (
        repo: EgressRepository,
        store: ObjectStore,
        audit: AuditLog,
        clock: Clock,
        replica: Replica,
        lifecycle: Lifecycle,
      ) => {
        const reconciler = new OutboxReconciler(repo, store, audit, clock, replica);
        lifecycle.onStop('outbox reconciler', () => reconciler.stop());
        await reconciler.reconcile();
        return reconciler;
      },
    },
  ],
  exports: [EgressRepository, EgressService, EgressReviewService, EgressReceiptsService, OutboxReconciler],
})
export class EgressModule {}
