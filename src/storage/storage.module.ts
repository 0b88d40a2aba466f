import { join } from 'node:path';
import { Global, Logger, Module } from '@nestjs/common';
import { CAGE_CONFIG, type CageConfig } from '../config/config';
import { CageMetrics } from '../metrics/metrics.registry';
import { Lifecycle } from '../ops/lifecycle';
import { EmbeddedS3 } from './embedded-s3';
import { ObjectStore } from './object-store.service';

/** The object store: CAGE_S3_ENDPOINT, or the embedded s3rver (a Unix socket in the data dir) when none is set. */
@Global()
@Module({
  providers: [
    {
      provide: ObjectStore,
      inject: [CAGE_CONFIG, CageMetrics, Lifecycle],
      useFactory: async (config: CageConfig, metrics: CageMetrics, lifecycle: Lifecycle) => {
        let options = config.s3.endpoint === undefined ? undefined : { ...config.s3, endpoint: config.s3.endpoint };
        if (options === undefined) {
          const embedded = await lifecycle.open(
            'embedded object store',
            () => EmbeddedS3.startPrivate(join(config.dataDir, 's3'), join(config.dataDir, 's3.sock')),
            (s3) => s3.stop(),
          );
          options = { ...config.s3, endpoint: embedded.endpoint, ...embedded.access! };
          new Logger('ObjectStore').log(`embedded object store (s3rver) on ${embedded.access!.socketPath}, for the gateway alone`);
        }
        const store = new ObjectStore(options, metrics);
        lifecycle.onStop('object store client', () => store.destroy());
        return store;
      },
    },
  ],
  exports: [ObjectStore],
})
export class StorageModule {}
