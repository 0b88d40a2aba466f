import { Global, Module } from '@nestjs/common';
import { CageMetrics } from './metrics.registry';

/** One registry per gateway, handed to whatever records (served by GET /metrics on the control listener). */
@Global()
@Module({ providers: [CageMetrics], exports: [CageMetrics] })
export class MetricsModule {}
