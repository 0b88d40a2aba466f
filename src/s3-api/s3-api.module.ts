import { Module } from '@nestjs/common';
import { CAGE_CONFIG, type CageConfig } from '../config/config';
import { DataPlaneModule } from '../data-plane/data-plane.module';
import { DataPlaneService } from '../data-plane/data-plane.service';
import { ListCursors } from '../data-plane/list-cursor';
import { EgressModule } from '../egress/egress.module';
import { EgressService } from '../egress/egress.service';
import { AuditLog } from '../audit/audit-log.service';
import { AuditModule } from '../audit/audit.module';
import { Clock } from '../clock/clock';
import { construct } from '../ops/provide';
import { PolicyModule } from '../policy/policy.module';
import { PolicyEngine } from '../policy/policy.types';
import { S3ApiService } from './s3-api.service';
import { SignaturePolicy } from './signature-policy';

/** The S3-compatible face of the data plane and the outbox, for boto3, aws-cli and the other SDKs. */
@Module({
  imports: [AuditModule, PolicyModule, DataPlaneModule, EgressModule],
  providers: [
    {
      provide: S3ApiService,
      inject: [DataPlaneService, EgressService, CAGE_CONFIG, ListCursors],
      useFactory: (dataPlane: DataPlaneService, egress: EgressService, config: CageConfig, cursors: ListCursors) =>
        new S3ApiService(dataPlane, egress, config.s3Api.region, cursors),
    },
    construct(SignaturePolicy, [PolicyEngine, AuditLog, Clock]),
  ],
  exports: [S3ApiService, SignaturePolicy],
})
export class S3ApiModule {}
