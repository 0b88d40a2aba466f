import { Module } from '@nestjs/common';
import { AuditLog } from '../audit/audit-log.service';
import { AuditModule } from '../audit/audit.module';
import { Clock } from '../clock/clock';
import { Ids } from '../clock/ids';
import { DatasetRepository } from '../datasets/dataset.repository';
import { DatasetsModule } from '../datasets/datasets.module';
import { Database } from '../db/database';
import { construct } from '../ops/provide';
import { TeamRepository } from '../teams/team.repository';
import { TeamsModule } from '../teams/teams.module';
import { GrantRepository } from './grant.repository';
import { GrantService } from './grant.service';

/** Grants: which team may read which splits of a dataset, when, and how many bytes. */
@Module({
  imports: [AuditModule, DatasetsModule, TeamsModule],
  providers: [
    construct(GrantRepository, [Database]),
    construct(GrantService, [GrantRepository, TeamRepository, DatasetRepository, AuditLog, Clock, Ids]),
  ],
  exports: [GrantRepository, GrantService],
})
export class GrantsModule {}
