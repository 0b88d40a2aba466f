import { Module } from '@nestjs/common';
import { AuditLog } from '../audit/audit-log.service';
import { AuditModule } from '../audit/audit.module';
import { Clock } from '../clock/clock';
import { CAGE_CONFIG, type CageConfig } from '../config/config';
import { Database } from '../db/database';
import { GatewayStateRepository } from '../db/gateway-state.repository';
import { Lifecycle } from '../ops/lifecycle';
import { construct } from '../ops/provide';
import { PolicyStore } from './policy-store';
import { PolicyVersionRepository } from './policy-version.repository';
import { PolicyWatcher } from './policy-watcher';
import { PolicyEngine } from './policy.types';

/**
 * The one decision point: the active Cedar policy set (the latest stored version, or the policy
 * directory on a first start: a gateway with no valid policy cannot decide anything, so it does
 * not start), its versions, and the watcher that activates a changed directory.
 */
@Module({
  imports: [AuditModule],
  providers: [
    construct(PolicyVersionRepository, [Database]),
    {
      provide: PolicyStore,
      inject: [PolicyVersionRepository, CAGE_CONFIG, AuditLog, Clock, Lifecycle],
      useFactory: async (repo: PolicyVersionRepository, config: CageConfig, audit: AuditLog, clock: Clock, lifecycle: Lifecycle) => {
        const store = await PolicyStore.open(repo, config.policyDir, audit, clock);
        lifecycle.onStop('policy sync', () => store.stopSync());
        return store;
      },
    },
    { provide: PolicyEngine, inject: [PolicyStore], useFactory: (store: PolicyStore) => store.engine },
    {
      // The directory, if it changed while the gateway was down.
      provide: PolicyWatcher,
      inject: [CAGE_CONFIG, PolicyStore, GatewayStateRepository, AuditLog, Lifecycle],
      useFactory: async (config: CageConfig, store: PolicyStore, state: GatewayStateRepository, audit: AuditLog, lifecycle: Lifecycle) => {
        const watcher = new PolicyWatcher(config.policyDir, store, state, audit);
        lifecycle.onStop('policy directory watcher', () => watcher.stop());
        await watcher.reload();
        return watcher;
      },
    },
  ],
  exports: [PolicyEngine, PolicyStore, PolicyWatcher],
})
export class PolicyModule {}
