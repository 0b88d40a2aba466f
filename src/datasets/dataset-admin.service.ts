import { BadRequestException, ConflictException, Logger, NotFoundException } from '@nestjs/common';
import { type AuditLog, type RequestMeta } from '../audit/audit-log.service';
import { type UserPrincipal } from '../principal/principal';
import { type Clock } from '../clock/clock';
import { Ids } from '../clock/ids';
import { type Dataset, DatasetLayoutError, type DatasetRepository, splitOf } from './dataset.repository';
import { MetaImageHeaderError, parseMetaImageHeader, worldBoundingBox } from './metaimage-header';
import { type SeriesEntry, type SeriesRepository } from './series.repository';
import { type IndexRun, type IndexRunRepository } from './index-run.repository';
import { ObjectNotFoundError, type ObjectStore } from '../storage/object-store.service';
import { isListed, type ManifestRepository } from './manifest.repository';
import { type DatasetObjectRepository } from './dataset-object.repository';
import { actor } from '../principal/principal';

export interface DatasetView extends Omit<Dataset, 'createdAt' | 'objectIndexRun'> {
  objects: number | null;
  bytes: number | null;
  series: number;
  indexedAt: string | null;
  createdAt: string;
  createdBy: string;
}

export interface ManifestReport {
  dataset: string;
  /** Objects found in the bucket under the dataset's prefix. */
  checked: number;
  /** Entries in the manifest. */
  listed: number;
  /** In the bucket, not in the manifest: put there behind the gateway's back. */
  unexpected: string[];
  /** In both, but with another size or ETag: replaced behind the gateway's back. */
  changed: string[];
  /** In the manifest, gone from the bucket. */
  missing: string[];
}

export type { IndexRun } from './index-run.repository';

const MAX_HEADER_BYTES = 64 * 1024;
const PAGE = 1000;

/**
 * Datasets for organizers: register (layout validated, bucket reachable), index (object
 * manifest with size and ETag, the series index with each scan's world bounding box from its
 * .mhd header, object and byte counts) in the background with progress, re-runnable.
 */
export class DatasetAdminService {
  private readonly logger = new Logger('DatasetIndex');
  private readonly running = new Set<string>();

  constructor(
    private readonly runs: IndexRunRepository,
    private readonly datasets: DatasetRepository,
    private readonly series: SeriesRepository,
    private readonly store: ObjectStore,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly manifest: ManifestRepository,
    private readonly objects: DatasetObjectRepository,
    private readonly ids: Ids = new Ids(),
  ) {}

  async register(user: UserPrincipal, d: Omit<Dataset, 'title'> & { title?: string }, meta: RequestMeta): Promise<DatasetView> {
    if ((await this.datasets.get(d.id)) !== undefined) throw new ConflictException(`dataset ${d.id} already exists`);
    const dataset: Dataset = { ...d, title: d.title ?? '' };
    try {
      await this.datasets.insert(dataset, this.clock.now(), actor(user), async () => {
        // Inside the transaction: a bucket that cannot be seen leaves nothing behind.
        if (!(await this.store.bucketExists(d.bucket)))
          throw new BadRequestException(`bucket ${JSON.stringify(d.bucket)} does not exist or is not readable by the gateway`);
      });
    } catch (err) {
      if (err instanceof DatasetLayoutError) throw new BadRequestException(err.message);
      throw err;
    }
    await this.audit.record(meta, {
      principal: actor(user),
      team: null,
      action: 'dataset.register',
      decision: 'allow',
      resource: { type: 'dataset', id: d.id },
      detail: { after: { bucket: d.bucket, prefix: d.prefix, splits: d.splits.map((s) => `${s.name}:${s.kind}:${s.prefix}`) } },
    });
    return this.get(d.id);
  }

  async list(): Promise<DatasetView[]> {
    return Promise.all((await this.datasets.all()).map((d) => this.get(d.id)));
  }

  async get(id: string): Promise<DatasetView> {
    const d = await this.datasets.get(id);
    if (d === undefined) throw new NotFoundException(`no such dataset ${JSON.stringify(id)}`);
    const stats = await this.datasets.stats(id);
    if (stats === undefined) throw new NotFoundException(`no such dataset ${JSON.stringify(id)}`);
    // Which run's object index listings read is the data plane's business, not the view's.
    const { objectIndexRun: _run, ...rest } = d;
    return { ...rest, ...stats };
  }

  /** Starts an index run in the background; resolves with the run as started. */
  async startIndex(user: UserPrincipal, id: string, meta: RequestMeta): Promise<IndexRun> {
    const d = await this.datasets.get(id);
    if (d === undefined) throw new NotFoundException(`no such dataset ${JSON.stringify(id)}`);
    if (this.running.has(id)) throw new ConflictException(`dataset ${id} is being indexed; follow it with GET /v1/datasets/${id}/index`);
    const run: IndexRun = {
      id: `idx-${this.ids.uuid()}`,
      dataset: id,
      state: 'running',
      objectsSeen: 0,
      bytesSeen: 0,
      seriesIndexed: 0,
      startedAt: this.clock.now().toISOString(),
      finishedAt: null,
      error: null,
    };
    await this.runs.insert(run, actor(user));
    this.running.add(id);
    void this.index(d, run, actor(user), meta).finally(() => this.running.delete(id));
    return run;
  }

  /**
   * Compares what is in the bucket under the dataset's prefix with its manifest: objects nobody
   * ingested (put behind the gateway's back), objects whose size or ETag changed, and manifest
   * entries gone from the store. The report is an audit leaf; jobs are never served the first two.
   */
  async verifyManifest(user: UserPrincipal, id: string, meta: RequestMeta): Promise<ManifestReport> {
    const d = await this.datasets.get(id);
    if (d === undefined) throw new NotFoundException(`no such dataset ${JSON.stringify(id)}`);
    if (d.manifestEnforced !== true) throw new BadRequestException(`dataset ${id} was not ingested: it has no manifest to verify against`);
    const expected = new Map((await this.manifest.all(d.id)).map((e) => [e.key, e]));
    const report: ManifestReport = { dataset: id, checked: 0, listed: expected.size, unexpected: [], changed: [], missing: [] };
    let marker: string | undefined;
    for (;;) {
      const page = await this.store.list(d.bucket, d.prefix, marker, PAGE);
      for (const o of page.objects) {
        marker = o.key;
        report.checked += 1;
        const key = o.key.slice(d.prefix.length);
        const e = expected.get(key);
        if (e === undefined) report.unexpected.push(key);
        else if (!isListed(e, o)) report.changed.push(key);
        expected.delete(key);
      }
      if (!page.truncated || page.objects.length === 0) break;
    }
    report.missing = [...expected.keys()];
    await this.audit.record(meta, {
      principal: actor(user),
      team: null,
      action: 'dataset.verify-manifest',
      decision: report.unexpected.length + report.changed.length + report.missing.length === 0 ? 'allow' : 'deny',
      resource: { type: 'dataset', id },
      detail: {
        checked: report.checked,
        listed: report.listed,
        unexpected: report.unexpected.slice(0, 100),
        changed: report.changed.slice(0, 100),
        missing: report.missing.slice(0, 100),
      },
    });
    return report;
  }

  async latestRun(id: string): Promise<IndexRun> {
    const run = await this.runs.latest(id);
    if (run === undefined) throw new NotFoundException(`dataset ${JSON.stringify(id)} has never been indexed`);
    return run;
  }

  private async index(d: Dataset, run: IndexRun, by: string, meta: RequestMeta): Promise<void> {
    let unlisted = 0;
    try {
      let marker: string | undefined;
      for (;;) {
        const page = await this.store.list(d.bucket, d.prefix, marker, PAGE);
        const entries: SeriesEntry[] = [];
        const seen: { key: string; size: number; etag: string; lastModified: Date | undefined }[] = [];
        // An ingested dataset is what its manifest says: anything else in the bucket is not indexed.
        const listed =
          d.manifestEnforced === true
            ? await this.manifest.getMany(
                d.id,
                page.objects.map((o) => o.key.slice(d.prefix.length)),
              )
            : undefined;
        for (const o of page.objects) {
          marker = o.key;
          const key = o.key.slice(d.prefix.length);
          if (listed !== undefined && !isListed(listed.get(key), o)) {
            unlisted += 1;
            continue;
          }
          run.objectsSeen += 1;
          run.bytesSeen += o.size;
          seen.push({ key, size: o.size, etag: o.etag, lastModified: o.lastModified });
          const split = splitOf(d, key);
          if (split !== undefined && split.kind !== 'labels' && key.endsWith('.mhd') && o.size <= MAX_HEADER_BYTES) {
            const entry = await this.seriesEntry(d, split.name, key);
            if (entry !== undefined) entries.push(entry);
          }
        }
        await this.series.upsert(entries);
        // A registered dataset's listings read this index; an ingested one lists its manifest.
        if (d.manifestEnforced !== true) await this.objects.record(d.id, run.id, seen);
        run.seriesIndexed += entries.length;
        await this.progress(run);
        if (!page.truncated || page.objects.length === 0) break;
      }
      if (unlisted > 0)
        this.logger.warn({
          message: 'objects in the bucket that the manifest does not list: not indexed, never served',
          dataset: d.id,
          unlisted,
        });
      if (d.manifestEnforced !== true) await this.objects.removeUnseen(d.id, run.id);
      run.state = 'done';
      run.finishedAt = this.clock.now().toISOString();
      await this.datasets.setIndexed(d.id, run.objectsSeen, run.bytesSeen, run.finishedAt, d.manifestEnforced === true ? null : run.id);
      await this.progress(run);
      await this.audit.record(meta, {
        principal: by,
        team: null,
        action: 'dataset.index',
        decision: 'allow',
        resource: { type: 'dataset', id: d.id },
        detail: {
          after: { objects: run.objectsSeen, bytes: run.bytesSeen, series: run.seriesIndexed },
          ...(unlisted > 0 ? { unlisted } : {}),
        },
      });
    } catch (err) {
      run.state = 'failed';
      run.error = (err as Error).message.slice(0, 500);
      run.finishedAt = this.clock.now().toISOString();
      this.logger.error({ message: 'index run failed', dataset: d.id, error: run.error });
      await this.progress(run).catch(() => undefined);
    }
  }

  private async seriesEntry(d: Dataset, split: string, key: string): Promise<SeriesEntry | undefined> {
    try {
      const header = parseMetaImageHeader((await this.store.getBuffer(d.bucket, d.prefix + key, MAX_HEADER_BYTES)).toString('utf8'));
      const base = key.slice(key.lastIndexOf('/') + 1, -'.mhd'.length);
      return { dataset: d.id, split, seriesuid: base, box: worldBoundingBox(header) };
    } catch (err) {
      if (err instanceof MetaImageHeaderError || err instanceof ObjectNotFoundError) {
        this.logger.warn({ message: 'skipped a .mhd that does not parse', dataset: d.id, error: err.message });
        return undefined;
      }
      throw err;
    }
  }

  private async progress(run: IndexRun): Promise<void> {
    await this.runs.update(run);
  }
}
