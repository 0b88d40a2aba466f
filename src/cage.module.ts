import { type DynamicModule, Module } from '@nestjs/common';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { type Clock } from './clock/clock';
import { type CageConfig } from './config/config';
import { ConfigModule } from './config/config.module';
import { DataPlaneModule } from './data-plane/data-plane.module';
import { DatasetsModule } from './datasets/datasets.module';
import { Database } from './db/database';
import { DbModule } from './db/db.module';
import { OUTBOX_BUCKET } from './egress/egress-release';
import { EgressModule } from './egress/egress.module';
import { LeaderboardModule } from './leaderboard/leaderboard.module';
import { GrantsModule } from './grants/grants.module';
import { IngestModule } from './ingest/ingest.module';
import { JobsModule } from './jobs/jobs.module';
import { KeysModule } from './keys/keys.module';
import { MetricsModule } from './metrics/metrics.module';
import { HealthService } from './ops/health.service';
import { type Lifecycle } from './ops/lifecycle';
import { PolicyModule } from './policy/policy.module';
import { S3ApiModule } from './s3-api/s3-api.module';
import { ObjectStore } from './storage/object-store.service';
import { StorageModule } from './storage/storage.module';
import { TeamsModule } from './teams/teams.module';

export interface CageModuleOptions {
  config: CageConfig;
  clock: Clock;
  lifecycle: Lifecycle;
  /** A database to use instead of opening one (tests hand in a PostgreSQL schema). */
  db?: Database;
}

/**
 * Every capability of one gateway process, wired by Nest in one container: built once and shared
 * by both listeners, whose own containers receive only the services they serve
 * (listener.providers.ts). Start-up order is the dependency order; shutdown undoes it (Lifecycle).
 */
@Module({})
export class CageModule {
  static forRoot(opts: CageModuleOptions): DynamicModule {
    return {
      module: CageModule,
      imports: [
        ConfigModule.forRoot(opts.config, opts.clock, opts.lifecycle),
        MetricsModule,
        DbModule.forRoot(opts.db),
        StorageModule,
        KeysModule,
        AuditModule,
        PolicyModule,
        AuthModule,
        DatasetsModule,
        TeamsModule,
        GrantsModule,
        JobsModule,
        DataPlaneModule,
        EgressModule,
        LeaderboardModule,
        IngestModule,
        S3ApiModule,
      ],
      providers: [
        {
          // Ready means the database answers and the outbox bucket can be reached.
          provide: HealthService,
          inject: [Database, ObjectStore],
          useFactory: (db: Database, store: ObjectStore) => new HealthService(db, store, OUTBOX_BUCKET),
        },
      ],
    };
  }
}
