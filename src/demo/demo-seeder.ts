import { type AuditLog, type RequestMeta } from '../audit/audit-log.service';
import { type Clock } from '../clock/clock';
import { Ids } from '../clock/ids';
import { type Dataset, type DatasetRepository } from '../datasets/dataset.repository';
import { type GrantRepository } from '../grants/grant.repository';
import { parseMetaImageHeader, worldBoundingBox } from '../datasets/metaimage-header';
import { type SeriesEntry, type SeriesRepository } from '../datasets/series.repository';
import { type ObjectStore } from '../storage/object-store.service';
import { type TeamRepository } from '../teams/team.repository';
import { annotationsCsv, DEFAULT_DEMO_SPEC, type DemoCompetitionSpec, generateScans, type Nodule } from './synthetic-ct';

export const DEMO_BUCKET = 'cage-datasets';
export const DEMO_DATASET = 'lung-demo';
export const DEMO_TEAM = 'demo';
const BY = 'gateway';

/**
 * Seeds the demo competition into an empty gateway: synthetic CT volumes with nodules at known
 * positions (train split with annotations.csv, test split), the test labels in a `labels`
 * split no job may read, and team `demo` granted train and test. Everything it creates is
 * logged like an organizer's change.
 */
export class DemoSeeder {
  constructor(
    private readonly store: ObjectStore,
    private readonly datasets: DatasetRepository,
    private readonly teams: TeamRepository,
    private readonly grants: GrantRepository,
    private readonly series: SeriesRepository,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly ids: Ids = new Ids(),
  ) {}

  async seed(meta: RequestMeta, spec: DemoCompetitionSpec = DEFAULT_DEMO_SPEC): Promise<{ objects: number; bytes: number }> {
    await this.store.ensureBucket(DEMO_BUCKET);
    const dataset: Dataset = {
      id: DEMO_DATASET,
      bucket: DEMO_BUCKET,
      prefix: `${DEMO_DATASET}/`,
      title: 'Synthetic chest CT, lung nodules (demo)',
      splits: [
        { name: 'train', kind: 'train', prefix: 'train/' },
        { name: 'test', kind: 'test', prefix: 'test/' },
        { name: 'labels', kind: 'labels', prefix: 'labels/' },
      ],
    };
    let objects = 0;
    let bytes = 0;
    const put = async (key: string, body: Buffer | string, type: string) => {
      await this.store.put(DEMO_BUCKET, dataset.prefix + key, body, type);
      objects += 1;
      bytes += Buffer.byteLength(body);
    };
    const labels: { train: Pick<{ seriesuid: string; nodules: Nodule[] }, 'seriesuid' | 'nodules'>[]; test: typeof labels.train } = {
      train: [],
      test: [],
    };
    const index: SeriesEntry[] = [];
    for (const split of ['train', 'test'] as const) {
      // One scan in memory at a time.
      for (const scan of generateScans(split, spec)) {
        await put(`${split}/${scan.mhdFileName}`, scan.mhd, 'text/plain; charset=utf-8');
        await put(`${split}/${scan.rawFileName}`, scan.raw, 'application/octet-stream');
        labels[split].push({ seriesuid: scan.seriesuid, nodules: scan.nodules });
        index.push({ dataset: dataset.id, split, seriesuid: scan.seriesuid, box: worldBoundingBox(parseMetaImageHeader(scan.mhd)) });
      }
    }
    await put('train/annotations.csv', annotationsCsv(labels.train), 'text/csv');
    await put('labels/test_annotations.csv', annotationsCsv(labels.test), 'text/csv');

    const now = this.clock.now();
    await this.datasets.insert(dataset, now, BY);
    await this.series.upsert(index);
    await this.audit.record(meta, {
      principal: BY,
      team: null,
      action: 'dataset.register',
      decision: 'allow',
      resource: { type: 'dataset', id: dataset.id },
      detail: {
        after: {
          bucket: dataset.bucket,
          prefix: dataset.prefix,
          splits: dataset.splits.map((s) => `${s.name}:${s.kind}:${s.prefix}`),
          objects,
          bytes,
          series: index.length,
        },
      },
    });
    await this.teams.insert({ id: DEMO_TEAM, name: 'Demo team' }, now, BY);
    await this.audit.record(meta, {
      principal: BY,
      team: DEMO_TEAM,
      action: 'team.create',
      decision: 'allow',
      resource: { type: 'team', id: DEMO_TEAM },
    });
    const notBefore = new Date(now.getTime() - 3600_000);
    const notAfter = new Date(now.getTime() + 365 * 24 * 3600_000);
    for (const split of ['train', 'test']) {
      const id = this.ids.uuid();
      await this.grants.insert({ id, team: DEMO_TEAM, dataset: DEMO_DATASET, split, notBefore, notAfter, byteQuota: null }, now, BY);
      await this.audit.record(meta, {
        principal: BY,
        team: DEMO_TEAM,
        action: 'grant.create',
        decision: 'allow',
        resource: { type: 'grant', id },
        detail: {
          after: { team: DEMO_TEAM, dataset: DEMO_DATASET, split, notBefore: notBefore.toISOString(), notAfter: notAfter.toISOString() },
        },
      });
    }
    return { objects, bytes };
  }
}
