import { Module } from '@nestjs/common';
import { AuditLog } from '../audit/audit-log.service';
import { AuditModule } from '../audit/audit.module';
import { Clock } from '../clock/clock';
import { Database } from '../db/database';
import { construct } from '../ops/provide';
import { TeamRepository } from './team.repository';
import { TeamService } from './team.service';

/** Teams and their members (people, by subject and issuer). */
@Module({
  imports: [AuditModule],
  providers: [construct(TeamRepository, [Database]), construct(TeamService, [TeamRepository, AuditLog, Clock])],
  exports: [TeamRepository, TeamService],
})
export class TeamsModule {}
