import { Logger, Module } from '@nestjs/common';
import { Clock } from '../clock/clock';
import { CAGE_CONFIG, type CageConfig } from '../config/config';
import { Ids } from '../clock/ids';
import { Database } from '../db/database';
import { GatewayStateRepository } from '../db/gateway-state.repository';
import { SigningKeyRing } from '../keys/signing-key-ring';
import { CageMetrics } from '../metrics/metrics.registry';
import { Lifecycle } from '../ops/lifecycle';
import { construct } from '../ops/provide';
import { ObjectStore } from '../storage/object-store.service';
import { AuditExport } from './audit-export.service';
import { AuditLog } from './audit-log.service';
import { AuditWriter } from './audit-writer.service';
import { AuditRepository } from './audit.repository';
import { CheckpointRepository } from './checkpoint.repository';
import { CHECKPOINT_BUCKET, Checkpointer } from './checkpointer.service';
import { ComplianceReportsRepository } from './compliance-reports.repository';
import { ComplianceReports } from './compliance-reports.service';
import { countLeaf } from './leaf-metrics';
import { MerkleStore } from './merkle-store.repository';
import { SiemMirror } from './siem.transport';
import { SigningKeyService } from './signing-key.service';

/**
 * The audit log: the writer (batched, durable before anything is served or released), the
 * RFC 6962 tree beside it, signed checkpoints, exports and compliance reports, and rotation of
 * the key that signs checkpoints.
 */
/** gateway_state key of this log's identity, made at its first start. */
const LOG_ID_KEY = 'log_id';

@Module({
  providers: [
    {
      // Leaves written before the tree existed get their nodes before anything is appended.
      provide: MerkleStore,
      inject: [Database],
      useFactory: async (db: Database) => {
        const tree = new MerkleStore(db);
        const caughtUp = await tree.catchUp();
        if (caughtUp > 0) new Logger('Audit').log(`audit tree: ${caughtUp} earlier leaves added`);
        return tree;
      },
    },
    {
      provide: AuditWriter,
      inject: [Database, CAGE_CONFIG, MerkleStore, CageMetrics, Lifecycle],
      useFactory: (db: Database, config: CageConfig, tree: MerkleStore, metrics: CageMetrics, lifecycle: Lifecycle) => {
        const writer = new AuditWriter(db, config.audit, tree, metrics);
        writer.onCommitted((leaf) => countLeaf(metrics, leaf));
        if (config.siemFile !== undefined) {
          const siem = new SiemMirror(config.siemFile);
          writer.onCommitted((leaf, index, hash) => siem.write(leaf, index, hash));
          lifecycle.onStop('SIEM mirror', () => siem.close());
        }
        // Registered after the mirror: pending leaves are flushed (and mirrored) before it closes.
        lifecycle.onStop('audit writer', () => writer.close());
        return writer;
      },
    },
    construct(AuditLog, [AuditWriter, Clock]),
    construct(AuditRepository, [Database]),
    construct(CheckpointRepository, [Database]),
    {
      provide: Checkpointer,
      inject: [
        Database,
        CheckpointRepository,
        MerkleStore,
        SigningKeyRing,
        ObjectStore,
        Clock,
        CAGE_CONFIG,
        AuditWriter,
        CageMetrics,
        Lifecycle,
        GatewayStateRepository,
        Ids,
      ],
      useFactory: async (
        db: Database,
        checkpoints: CheckpointRepository,
        tree: MerkleStore,
        ring: SigningKeyRing,
        store: ObjectStore,
        clock: Clock,
        config: CageConfig,
        writer: AuditWriter,
        metrics: CageMetrics,
        lifecycle: Lifecycle,
        state: GatewayStateRepository,
        ids: Ids,
      ) => {
        await store.ensureBucket(CHECKPOINT_BUCKET);
        await state.setOnce(LOG_ID_KEY, ids.uuid());
        const logId = (await state.get(LOG_ID_KEY))!;
        const checkpointer = new Checkpointer(db, checkpoints, tree, ring, store, clock, config.checkpoint, logId);
        writer.onCommitted(() => checkpointer.onLeaves(1));
        metrics.checkpointLagFrom(() => checkpointer.lag());
        lifecycle.onStop('checkpointer', () => checkpointer.stop());
        return checkpointer;
      },
    },
    construct(AuditExport, [AuditRepository, MerkleStore]),
    construct(ComplianceReportsRepository, [Database]),
    construct(ComplianceReports, [ComplianceReportsRepository]),
    {
      // A configured key that replaced the ring's root is adopted (and logged) before anything is served.
      provide: SigningKeyService,
      inject: [SigningKeyRing, Checkpointer, AuditLog, Clock, CAGE_CONFIG],
      useFactory: async (ring: SigningKeyRing, checkpointer: Checkpointer, audit: AuditLog, clock: Clock, config: CageConfig) => {
        const service = new SigningKeyService(ring, checkpointer, audit, clock, config.checkpoint.origin);
        await service.adoptConfiguredKey({ requestId: `startup-${clock.now().getTime()}`, listener: 'internal' });
        return service;
      },
    },
  ],
  exports: [AuditLog, AuditWriter, AuditRepository, MerkleStore, Checkpointer, AuditExport, ComplianceReports, SigningKeyService],
})
export class AuditModule {}
