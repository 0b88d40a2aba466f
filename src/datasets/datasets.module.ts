import { Module } from '@nestjs/common';
import { AuditLog } from '../audit/audit-log.service';
import { AuditModule } from '../audit/audit.module';
import { Clock } from '../clock/clock';
import { Ids } from '../clock/ids';
import { Database } from '../db/database';
import { construct } from '../ops/provide';
import { ObjectStore } from '../storage/object-store.service';
import { DatasetAdminService } from './dataset-admin.service';
import { DatasetObjectRepository } from './dataset-object.repository';
import { DatasetRepository } from './dataset.repository';
import { IndexRunRepository } from './index-run.repository';
import { ManifestRepository } from './manifest.repository';
import { SeriesRepository } from './series.repository';

/** What exists to be read: datasets, their splits, manifests and series index, and the organizer's registration of them. */
@Module({
  imports: [AuditModule],
  providers: [
    construct(DatasetRepository, [Database]),
    construct(SeriesRepository, [Database]),
    construct(ManifestRepository, [Database]),
    construct(IndexRunRepository, [Database]),
    construct(DatasetObjectRepository, [Database]),
    construct(DatasetAdminService, [
      IndexRunRepository,
      DatasetRepository,
      SeriesRepository,
      ObjectStore,
      AuditLog,
      Clock,
      ManifestRepository,
      DatasetObjectRepository,
      Ids,
    ]),
  ],
  exports: [DatasetRepository, SeriesRepository, ManifestRepository, DatasetObjectRepository, DatasetAdminService],
})
export class DatasetsModule {}
