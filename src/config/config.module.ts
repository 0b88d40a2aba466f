import { type DynamicModule, Global, Module } from '@nestjs/common';
import { Clock } from '../clock/clock';
import { Ids } from '../clock/ids';
import { Lifecycle } from '../ops/lifecycle';
import { CAGE_CONFIG, type CageConfig } from './config';

/** The configuration, the clock, the id source and the lifecycle: every module may inject them. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: CageConfig, clock: Clock, lifecycle: Lifecycle): DynamicModule {
    const providers = [
      { provide: CAGE_CONFIG, useValue: config },
      { provide: Clock, useValue: clock },
      { provide: Ids, useValue: new Ids() },
      { provide: Lifecycle, useValue: lifecycle },
    ];
    return { module: ConfigModule, providers, exports: providers.map((p) => p.provide) };
  }
}
