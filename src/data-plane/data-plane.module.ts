import { Module } from '@nestjs/common';
import { AuditLog } from '../audit/audit-log.service';
import { AuditModule } from '../audit/audit.module';
import { Clock } from '../clock/clock';
import { DatasetRepository } from '../datasets/dataset.repository';
import { DatasetsModule } from '../datasets/datasets.module';
import { ManifestRepository } from '../datasets/manifest.repository';
import { DatasetObjectRepository } from '../datasets/dataset-object.repository';
import { GrantRepository } from '../grants/grant.repository';
import { GrantsModule } from '../grants/grants.module';
import { JobRepository } from '../jobs/job.repository';
import { JobsModule } from '../jobs/jobs.module';
import { Lifecycle } from '../ops/lifecycle';
import { SigningKeys } from '../keys/signing-keys';
import { CageMetrics } from '../metrics/metrics.registry';
import { construct } from '../ops/provide';
import { PolicyModule } from '../policy/policy.module';
import { PolicyEngine } from '../policy/policy.types';
import { ObjectStore } from '../storage/object-store.service';
import { DataPlaneService } from './data-plane.service';
import { ListCursors } from './list-cursor';
import { OpenDownloads } from './open-downloads';
import { CAGE_CONFIG, type CageConfig } from '../config/config';

/** Brokered reads: every listing and download decided by policy, charged to its grant and logged. */
@Module({
  imports: [AuditModule, PolicyModule, DatasetsModule, GrantsModule, JobsModule],
  providers: [
    {
      provide: OpenDownloads,
      inject: [JobRepository, GrantRepository, AuditLog, Clock, Lifecycle, CAGE_CONFIG],
      useFactory: (
        jobs: JobRepository,
        grants: GrantRepository,
        audit: AuditLog,
        clock: Clock,
        lifecycle: Lifecycle,
        config: CageConfig,
      ) => {
        const downloads = new OpenDownloads(jobs, grants, audit, clock, config.s3.timeoutMs);
        downloads.start();
        lifecycle.onStop('open-download checks', () => downloads.stop());
        return downloads;
      },
    },
    construct(DataPlaneService, [
      DatasetRepository,
      GrantRepository,
      PolicyEngine,
      ObjectStore,
      AuditLog,
      Clock,
      ManifestRepository,
      DatasetObjectRepository,
      OpenDownloads,
      CageMetrics,
    ]),
    { provide: ListCursors, inject: [SigningKeys], useFactory: (keys: SigningKeys) => new ListCursors(keys.cursorKey) },
  ],
  exports: [DataPlaneService, ListCursors],
})
export class DataPlaneModule {}
