import { join } from 'node:path';
import { Global, Logger, Module } from '@nestjs/common';
import { CAGE_CONFIG, type CageConfig } from '../config/config';
import { CageMetrics } from '../metrics/metrics.registry';
import { Lifecycle } from '../ops/lifecycle';
import { EmbeddedS3 } from './embedded-s3';
import { ObjectStore } from './object-store.service';

/** The object store: CAGE_S3_ENDPOINT, or the embedded s3rver on loopback when none is set. */
@Global()
@Module({
  providers: [
    {
      provide: ObjectStore,
      inject: [CAGE_CONFIG, CageMetrics, Lifecycle],
      useFactory: async (config: CageConfig, metrics: CageMetrics, lifecycle: Lifecycle) => {
        let endpoint = config.s3.endpoint;
        if (endpoint === undefined) {
          const embedded = await lifecycle.open(
            'embedded object store',
            () => EmbeddedS3.start(join(config.dataDir, 's3')),
            (s3) => s3.stop(),
          );
          endpoint = embedded.endpoint;
          new Logger('ObjectStore').log(`embedded object store (s3rver) on ${endpoint}`);
        }
        const store = new ObjectStore({ ...config.s3, endpoint }, metrics);
        lifecycle.onStop('object store client', () => store.destroy());
        return store;
      },
    },
  ],
  exports: [ObjectStore],
})
export class StorageModule {}
