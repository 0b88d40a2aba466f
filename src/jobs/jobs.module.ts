import { Module } from '@nestjs/common';
import { AuditLog } from '../audit/audit-log.service';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { TokenService } from '../auth/token.service';
import { Clock } from '../clock/clock';
import { Ids } from '../clock/ids';
import { Database } from '../db/database';
import { SigningKeys } from '../keys/signing-keys';
import { construct } from '../ops/provide';
import { JobSecrets } from './job-secrets';
import { JobRepository } from './job.repository';
import { JobService } from './job.service';

/** Jobs: a team's running code, its token and S3 keys (sealed at rest), issued and revoked by organizers. */
@Module({
  imports: [AuditModule, AuthModule],
  providers: [
    construct(JobRepository, [Database]),
    construct(JobSecrets, [JobRepository, SigningKeys]),
    construct(JobService, [JobRepository, TokenService, SigningKeys, AuditLog, Clock, Ids]),
  ],
  exports: [JobRepository, JobSecrets, JobService],
})
export class JobsModule {}
