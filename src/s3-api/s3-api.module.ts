import { Module } from '@nestjs/common';
import { AuditLog } from '../audit/audit-log.service';
import { AuditModule } from '../audit/audit.module';
import { Clock } from '../clock/clock';
import { CAGE_CONFIG, type CageConfig } from '../config/config';
import { DataPlaneModule } from '../data-plane/data-plane.module';
import { DataPlaneService } from '../data-plane/data-plane.service';
import { ListCursors } from '../data-plane/list-cursor';
import { Database } from '../db/database';
import { EgressModule } from '../egress/egress.module';
import { EgressService } from '../egress/egress.service';
import { Lifecycle } from '../ops/lifecycle';
import { construct } from '../ops/provide';
import { PolicyModule } from '../policy/policy.module';
import { PolicyEngine } from '../policy/policy.types';
import { ObjectStore } from '../storage/object-store.service';
import { MultipartRepository } from './multipart/multipart.repository';
import { MultipartUploads, UPLOADS_BUCKET } from './multipart/multipart-uploads.service';
import { OutboxNameRepository } from './outbox-names/outbox-name.repository';
import { OutboxNames } from './outbox-names/outbox-names.service';
import { S3ApiService } from './s3-api.service';
import { SignaturePolicy } from './signature-policy';

/** The S3-compatible face of the data plane and the outbox, for boto3, aws-cli and the other SDKs. */
@Module({
  imports: [AuditModule, PolicyModule, DataPlaneModule, EgressModule],
  providers: [
    construct(MultipartRepository, [Database]),
    {
      provide: MultipartUploads,
      inject: [MultipartRepository, ObjectStore, EgressService, PolicyEngine, AuditLog, Clock, CAGE_CONFIG, Lifecycle],
      useFactory: async (
        repo: MultipartRepository,
        store: ObjectStore,
        egress: EgressService,
        policy: PolicyEngine,
        audit: AuditLog,
        clock: Clock,
        config: CageConfig,
        lifecycle: Lifecycle,
      ) => {
        await store.ensureBucket(UPLOADS_BUCKET);
        const uploads = new MultipartUploads(repo, store, egress, policy, audit, clock, config.multipart);
        uploads.start();
        lifecycle.onStop('multipart upload expiry', () => uploads.stop());
        return uploads;
      },
    },
    construct(OutboxNameRepository, [Database]),
    construct(OutboxNames, [OutboxNameRepository, AuditLog, Clock]),
    {
      provide: S3ApiService,
      inject: [DataPlaneService, EgressService, CAGE_CONFIG, ListCursors, MultipartUploads, OutboxNames],
      useFactory: (
        dataPlane: DataPlaneService,
        egress: EgressService,
        config: CageConfig,
        cursors: ListCursors,
        multipart: MultipartUploads,
        names: OutboxNames,
      ) => new S3ApiService(dataPlane, egress, config.s3Api.region, cursors, multipart, names),
    },
    construct(SignaturePolicy, [PolicyEngine, AuditLog, Clock]),
  ],
  exports: [S3ApiService, SignaturePolicy, MultipartUploads],
})
export class S3ApiModule {}
