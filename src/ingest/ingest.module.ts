import { mkdirSync } from 'node:fs';
import { Logger, Module } from '@nestjs/common';
import { AuditLog } from '../audit/audit-log.service';
import { AuditModule } from '../audit/audit.module';
import { Clock } from '../clock/clock';
import { Ids } from '../clock/ids';
import { CAGE_CONFIG, type CageConfig } from '../config/config';
import { DatasetRepository } from '../datasets/dataset.repository';
import { DatasetsModule } from '../datasets/datasets.module';
import { ManifestRepository } from '../datasets/manifest.repository';
import { SeriesRepository } from '../datasets/series.repository';
import { Database } from '../db/database';
import { Replica } from '../db/replica';
import { loadPseudonymKey } from '../keys/pseudonym-key';
import { CageMetrics } from '../metrics/metrics.registry';
import { Lifecycle } from '../ops/lifecycle';
import { ObjectStore } from '../storage/object-store.service';
import { IngestRunRepository } from './ingest-run.repository';
import { IngestService } from './ingest.service';
import { PseudonymRepository } from './pseudonym.repository';

/** Cleansing on the way in: raw exports de-identified into a dataset (DICOM, MetaImage, label CSVs). */
@Module({
  imports: [AuditModule, DatasetsModule],
  providers: [
    {
      provide: IngestRunRepository,
      inject: [Database, Replica],
      useFactory: (db: Database, replica: Replica) => new IngestRunRepository(db, replica.id),
    },
    {
      provide: PseudonymRepository,
      inject: [Database, CAGE_CONFIG],
      useFactory: (db: Database, config: CageConfig) =>
        new PseudonymRepository(db, loadPseudonymKey({ file: config.ingest.pseudonymKeyFile, dataDir: config.dataDir })),
    },
    {
      provide: IngestService,
      inject: [
        DatasetRepository,
        ManifestRepository,
        SeriesRepository,
        IngestRunRepository,
        PseudonymRepository,
        ObjectStore,
        CAGE_CONFIG,
        CageMetrics,
        AuditLog,
        Clock,
        Ids,
        Lifecycle,
        Replica,
      ],
      useFactory: async (
        datasets: DatasetRepository,
        manifest: ManifestRepository,
        series: SeriesRepository,
        runs: IngestRunRepository,
        pseudonyms: PseudonymRepository,
        store: ObjectStore,
        config: CageConfig,
        metrics: CageMetrics,
        audit: AuditLog,
        clock: Clock,
        ids: Ids,
        lifecycle: Lifecycle,
        replica: Replica,
      ) => {
        const interrupted = await runs.markInterrupted(clock.now(), (owner) => replica.isAlive(owner));
        if (interrupted > 0)
          new Logger('Ingest').warn(`${interrupted} ingest run(s) were cut short by the last stop; run them again to resume`);
        mkdirSync(config.ingest.root, { recursive: true });
        // Raw exports in S3 are read from CAGE_INGEST_S3_* when set, else from the gateway's own store.
        let rawStore = store;
        if (config.ingest.rawS3 !== undefined) {
          const raw = new ObjectStore({ ...config.ingest.rawS3, timeoutMs: config.s3.timeoutMs }, metrics);
          lifecycle.onStop('raw export store client', () => raw.destroy());
          rawStore = raw;
        }
        const ingest = new IngestService(
          datasets,
          manifest,
          series,
          runs,
          pseudonyms,
          store,
          rawStore,
          config.ingest.root,
          audit,
          clock,
          ids,
        );
        lifecycle.onStop('ingest runs', () => ingest.stop());
        return ingest;
      },
    },
  ],
  exports: [IngestService],
})
export class IngestModule {}
