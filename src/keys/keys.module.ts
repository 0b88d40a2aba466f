import { Global, Module } from '@nestjs/common';
import { Clock } from '../clock/clock';
import { CAGE_CONFIG, type CageConfig } from '../config/config';
import { Database } from '../db/database';
import { Lifecycle } from '../ops/lifecycle';
import { construct } from '../ops/provide';
import { SigningKeyRing } from './signing-key-ring';
import { SigningKeyRepository } from './signing-key.repository';
import { SigningKeys } from './signing-keys';

/** The configured signing key, and the ring of keys the replicas share (rotations: signing-key-ring.ts). */
@Global()
@Module({
  providers: [
    {
      provide: SigningKeys,
      inject: [CAGE_CONFIG],
      useFactory: (config: CageConfig) =>
        SigningKeys.load({ pem: config.signingKey, file: config.signingKeyFile, dataDir: config.dataDir }),
    },
    construct(SigningKeyRepository, [Database]),
    {
      provide: SigningKeyRing,
      inject: [SigningKeyRepository, SigningKeys, Clock, Lifecycle],
      useFactory: async (repo: SigningKeyRepository, keys: SigningKeys, clock: Clock, lifecycle: Lifecycle) => {
        const ring = await SigningKeyRing.open(repo, keys, clock);
        ring.startSync();
        lifecycle.onStop('signing-key ring sync', () => ring.stopSync());
        return ring;
      },
    },
  ],
  exports: [SigningKeys, SigningKeyRing],
})
export class KeysModule {}
