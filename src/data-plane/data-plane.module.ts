import { Module } from '@nestjs/common';
import { AuditLog } from '../audit/audit-log.service';
import { AuditModule } from '../audit/audit.module';
import { Clock } from '../clock/clock';
import { DatasetRepository } from '../datasets/dataset.repository';
import { DatasetsModule } from '../datasets/datasets.module';
import { ManifestRepository } from '../datasets/manifest.repository';
import { GrantRepository } from '../grants/grant.repository';
import { GrantsModule } from '../grants/grants.module';
import { SigningKeys } from '../keys/signing-keys';
import { CageMetrics } from '../metrics/metrics.registry';
import { construct } from '../ops/provide';
import { PolicyModule } from '../policy/policy.module';
import { PolicyEngine } from '../policy/policy.types';
import { ObjectStore } from '../storage/object-store.service';
import { DataPlaneService } from './data-plane.service';
import { ListCursors } from './list-cursor';

/** Brokered reads: every listing and download decided by policy, charged to its grant and logged. */
@Module({
  imports: [AuditModule, PolicyModule, DatasetsModule, GrantsModule],
  providers: [
    construct(DataPlaneService, [
      DatasetRepository,
      GrantRepository,
      PolicyEngine,
      ObjectStore,
      AuditLog,
      Clock,
      ManifestRepository,
      CageMetrics,
    ]),
    { provide: ListCursors, inject: [SigningKeys], useFactory: (keys: SigningKeys) => new ListCursors(keys.cursorKey) },
  ],
  exports: [DataPlaneService, ListCursors],
})
export class DataPlaneModule {}
