import { join } from 'node:path';
import { type DynamicModule, Global, Logger, Module } from '@nestjs/common';
import { CAGE_CONFIG, type CageConfig } from '../config/config';
import { CageMetrics } from '../metrics/metrics.registry';
import { Lifecycle } from '../ops/lifecycle';
import { construct } from '../ops/provide';
import { Database } from './database';
import { LockSpace } from './advisory-locks';
import { GatewayStateRepository } from './gateway-state.repository';
import { MeteredDatabase } from './metered.database';
import { migrate } from './migrator';
import { PgliteDatabase } from './pglite.database';
import { PostgresDatabase } from './postgres.database';
import { Replica } from './replica';
import { StartupTurn } from './startup-turn';

/**
 * The database, migrated before anything can query it: embedded PGlite under the data dir, or
 * PostgreSQL at CAGE_DATABASE_URL (or a database handed in, for tests).
 */
@Global()
@Module({})
export class DbModule {
  static forRoot(provided?: Database): DynamicModule {
    // Taken before the database is handed to anything, so every start-up step runs in this turn.
    let turn: StartupTurn | undefined;
    return {
      module: DbModule,
      providers: [
        {
          provide: Database,
          inject: [CAGE_CONFIG, CageMetrics, Lifecycle],
          useFactory: async (config: CageConfig, metrics: CageMetrics, lifecycle: Lifecycle) => {
            const db = await lifecycle.open(
              'database',
              async () =>
                new MeteredDatabase(
                  provided ??
                    (config.databaseUrl === undefined
                      ? await PgliteDatabase.open(join(config.dataDir, 'pglite'))
                      : await PostgresDatabase.open(config.databaseUrl, undefined, config.databasePoolSize)),
                  metrics,
                ),
              (opened) => opened.close(),
            );
            turn = new StartupTurn(
              await lifecycle.open(
                'start-up turn',
                () => waitTurn(db),
                (held) => held.release(),
              ),
            );
            const applied = await migrate(db);
            if (applied.length > 0) new Logger('Database').log(`database migrations applied: ${applied.join(', ')}`);
            return db;
          },
        },
        // Replicas started together take turns from the migrations to bootstrap (ended by Gateway.start).
        { provide: StartupTurn, inject: [Database], useFactory: () => turn! },
        {
          provide: Replica,
          inject: [Database, Lifecycle],
          useFactory: (db: Database, lifecycle: Lifecycle) =>
            lifecycle.open(
              'replica liveness lock',
              () => Replica.join(db),
              (r) => r.leave(),
            ),
        },
        construct(GatewayStateRepository, [Database]),
      ],
      exports: [Database, GatewayStateRepository, Replica, StartupTurn],
    };
  }
}

async function waitTurn(db: Database) {
  return (await db.sessionLock({ space: LockSpace.startup, name: '' }, { wait: true }))!;
}
