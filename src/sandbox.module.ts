import { type DynamicModule, Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { SandboxJwtStrategy } from './auth/jwt.strategy';
import { type Core } from './core';
import { DatasetsController } from './data-plane/datasets.controller';
import { EgressController } from './egress/egress.controller';
import { listenerProviders } from './listener.providers';
import { HealthController } from './ops/health.controller';

/** The sandbox listener: the only door from contestant code. Job credentials only. */
@Module({})
export class SandboxModule {
  static register(core: Core): DynamicModule {
    return {
      module: SandboxModule,
      imports: [PassportModule],
      controllers: [DatasetsController, EgressController, HealthController],
      providers: [...listenerProviders(core, 'sandbox'), SandboxJwtStrategy],
    };
  }
}
