import { Module } from '@nestjs/common';
import { Clock } from '../clock/clock';
import { CAGE_CONFIG, type CageConfig } from '../config/config';
import { DatasetRepository } from '../datasets/dataset.repository';
import { DatasetsModule } from '../datasets/datasets.module';
import { SeriesRepository } from '../datasets/series.repository';
import { Database } from '../db/database';
import { EgressModule } from '../egress/egress.module';
import { EgressService } from '../egress/egress.service';
import { construct } from '../ops/provide';
import { ObjectStore } from '../storage/object-store.service';
import { LeaderboardScorer, SUBMISSIONS_BUCKET } from './leaderboard-scorer';
import { LeaderboardRepository } from './leaderboard.repository';
import { LeaderboardService } from './leaderboard.service';
import { AuditLog } from '../audit/audit-log.service';
import { AuditModule } from '../audit/audit.module';
import { PolicyModule } from '../policy/policy.module';
import { PolicyEngine } from '../policy/policy.types';

/**
 * The leaderboard: submissions scored inside the cage (the egress pipeline's `predictions-score`
 * kinds call the scorer attached here), their predictions kept in a bucket of their own.
 */
@Module({
  imports: [EgressModule, DatasetsModule, AuditModule, PolicyModule],
  providers: [
    construct(LeaderboardRepository, [Database]),
    {
      provide: LeaderboardScorer,
      inject: [LeaderboardRepository, DatasetRepository, SeriesRepository, ObjectStore, Clock, EgressService],
      useFactory: async (
        repo: LeaderboardRepository,
        datasets: DatasetRepository,
        series: SeriesRepository,
        store: ObjectStore,
        clock: Clock,
        egress: EgressService,
      ) => {
        await store.ensureBucket(SUBMISSIONS_BUCKET);
        const scorer = new LeaderboardScorer(repo, datasets, series, store, clock);
        egress.attachScorer(scorer);
        return scorer;
      },
    },
    {
      provide: LeaderboardService,
      inject: [LeaderboardRepository, LeaderboardScorer, ObjectStore, PolicyEngine, AuditLog, Clock, EgressService, CAGE_CONFIG],
      useFactory: (
        repo: LeaderboardRepository,
        scorer: LeaderboardScorer,
        store: ObjectStore,
        policy: PolicyEngine,
        audit: AuditLog,
        clock: Clock,
        egress: EgressService,
        config: CageConfig,
      ) => new LeaderboardService(repo, scorer, store, policy, audit, clock, egress, config.egress.publishSeconds),
    },
  ],
  exports: [LeaderboardRepository, LeaderboardScorer, LeaderboardService],
})
export class LeaderboardModule {}
