import { createHash } from 'node:crypto';
import { isAbsolute, relative, resolve } from 'node:path';
import { BadRequestException, ConflictException, Logger, NotFoundException } from '@nestjs/common';
import { type AuditLog, type RequestMeta } from '../audit/audit-log.service';
import { type Clock } from '../clock/clock';
import { Ids } from '../clock/ids';
import { type Dataset, type DatasetRepository, splitOf } from '../datasets/dataset.repository';
import { type ManifestRepository } from '../datasets/manifest.repository';
import { type SeriesRepository } from '../datasets/series.repository';
import { type ObjectStore } from '../storage/object-store.service';
import { type IngestSource, LocalSource, S3Source, SourceError } from './ingest-source';
import { type IngestRun, type IngestRunRepository, type IngestSummary } from './ingest-run.repository';
import { type IngestUnit, OUTPUTS, planUnits, processUnit, type UnitContext, UnitRefusal } from './ingest-units';
import { type CsvRule } from './label-csv';
import { type PseudonymRepository } from './pseudonym.repository';

export interface IngestRequest {
  /** A directory under the ingest root, or `s3://bucket/prefix` on the raw-data store. */
  source: string;
  /** Dataset-relative prefix the outputs go under, e.g. `train/` (must lie in a split). */
  target: string;
  csv?: CsvRule;
  /** Pseudonym domain: datasets ingested into one domain share pseudonyms. */
  domain: string;
  /** Cleanse at most this many units in this run (a sample first, or work in batches). */
  limit?: number;
}

/** Tries at storing a finished run's state before it is logged as an error (about 3 s in all). */
const FINAL_STATE_ATTEMPTS = 5;
const MAX_REFUSALS_LISTED = 1000;
/** Bumped whenever what the cleansing does changes: every file is then cleansed again on the next run. */
/** Bumped when cleansing changes (3: the whole of Table E.1-1 and default deny): every output is made again. */
const CLEANSING_VERSION = 3;

/**
 * Bringing raw data into the cage: every file is de-identified by its type on the way (or refused
 * and reported, never copied), written under the dataset's prefix, and recorded in the manifest
 * (SHA-256, size, ETag). From the first ingest on, the dataset serves only what its manifest
 * lists. Runs in the background with progress; a re-run skips what is done and verified (the
 * source unchanged, the object still there with the size and ETag recorded) and, because
 * pseudonyms are kept, reproduces the same output for the rest.
 */
export class IngestService {
  private readonly logger = new Logger('Ingest');
  private readonly running = new Map<string, { runId: string; cancel: false | 'cancelled' | 'interrupted' }>();

  constructor(
    private readonly datasets: DatasetRepository,
    private readonly manifest: ManifestRepository,
    private readonly series: SeriesRepository,
    private readonly runs: IngestRunRepository,
    private readonly pseudonyms: PseudonymRepository,
    private readonly store: ObjectStore,
    private readonly rawStore: ObjectStore,
    private readonly ingestRoot: string,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly ids: Ids = new Ids(),
  ) {}

  /** Validates the request, records the run and starts it in the background. */
  async start(by: string, datasetId: string, req: IngestRequest, meta: RequestMeta): Promise<IngestRun> {
    const dataset = await this.datasets.get(datasetId);
    if (dataset === undefined) throw new NotFoundException(`no such dataset ${JSON.stringify(datasetId)}`);
    const split = splitOf(dataset, req.target);
    if (split === undefined)
      throw new BadRequestException(
        `target ${JSON.stringify(req.target)} is in no split of ${datasetId} (${dataset.splits.map((s) => s.prefix).join(', ')})`,
      );
    const source = this.sourceOf(req.source, new Set((await this.datasets.all()).map((d) => d.bucket)));
    if (this.running.has(datasetId))
      throw new ConflictException(`dataset ${datasetId} is being ingested (run ${this.running.get(datasetId)!.runId})`);
    // Reserved before the first await that follows: two starts at once cannot both run.
    const handle: { runId: string; cancel: false | 'cancelled' | 'interrupted' } = { runId: '', cancel: false };
    this.running.set(datasetId, handle);
    let listing;
    try {
      listing = await source.list();
    } catch (err) {
      this.running.delete(datasetId);
      if (err instanceof SourceError) throw new BadRequestException(err.message);
      throw err;
    }
    const run: IngestRun = {
      id: `ing-${this.ids.uuid()}`,
      dataset: datasetId,
      source: source.description,
      target: req.target,
      state: 'running',
      filesTotal: 0,
      filesDone: 0,
      filesWritten: 0,
      filesSkipped: 0,
      filesRefused: 0,
      bytesWritten: 0,
      summary: null,
      startedAt: this.clock.now().toISOString(),
      startedBy: by,
      finishedAt: null,
      error: null,
    };
    handle.runId = run.id;
    try {
      await this.runs.insert(run);
      // From now on the dataset serves only what the manifest lists: objects written by this run
      // become visible one by one, as their manifest rows land.
      await this.datasets.enforceManifest(datasetId);
    } catch (err) {
      this.running.delete(datasetId);
      throw err;
    }
    const units = [
      ...planUnits(listing.files),
      ...listing.skipped.map((s): IngestUnit => ({ type: 'refused', path: s.path, reason: s.reason })),
    ];
    void this.execute(dataset, split.name, source, units, req, run, handle, meta).finally(() => this.release(datasetId, handle));
    return run;
  }

  async get(runId: string): Promise<IngestRun> {
    const run = await this.runs.get(runId);
    if (run === undefined) throw new NotFoundException(`no such ingest run ${JSON.stringify(runId)}`);
    return run;
  }

  async list(datasetId: string): Promise<IngestRun[]> {
    if ((await this.datasets.get(datasetId)) === undefined) throw new NotFoundException(`no such dataset ${JSON.stringify(datasetId)}`);
    return this.runs.forDataset(datasetId);
  }

  /** Stops a run after the unit in hand; a re-run resumes it. */
  async cancel(runId: string): Promise<IngestRun> {
    const run = await this.get(runId);
    const handle = this.running.get(run.dataset);
    if (handle?.runId !== runId) throw new ConflictException(`ingest run ${runId} is not running (${run.state})`);
    handle.cancel = 'cancelled';
    return run;
  }

  /** Resolves once no run is in progress. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await new Promise((r) => setTimeout(r, 20));
  }

  /** Shutdown: runs stop after the unit in hand, marked interrupted (a re-run resumes them). */
  async stop(): Promise<void> {
    for (const h of this.running.values()) h.cancel = 'interrupted';
    await this.idle();
  }

  private sourceOf(spec: string, datasetBuckets: ReadonlySet<string>): IngestSource {
    const s3 = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,62})(?:\/(.*))?$/.exec(spec);
    if (s3 !== null) {
      // On the gateway's own store (no separate raw store), never another dataset's bucket or the
      // gateway's own (outbox, held artifacts, quarantine, checkpoints).
      if (this.rawStore === this.store && (s3[1].startsWith('cage-') || datasetBuckets.has(s3[1]))) {
        throw new BadRequestException(
          `s3://${s3[1]} holds the gateway's or a dataset's objects: raw data must come from a bucket of its own`,
        );
      }
      const prefix = s3[2] ?? '';
      return new S3Source(this.rawStore, s3[1], prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`);
    }
    if (spec.startsWith('s3://')) throw new BadRequestException('source must be s3://bucket/prefix with a valid bucket name');
    // Local sources only from under the ingest root: an organizer names data, not the host's files.
    const full = resolve(this.ingestRoot, spec);
    const rel = relative(this.ingestRoot, full);
    if (rel.startsWith('..') || isAbsolute(rel))
      throw new BadRequestException(`a local source must lie under the ingest root ${this.ingestRoot} (CAGE_INGEST_ROOT)`);
    return new LocalSource(full, this.ingestRoot);
  }

  private async execute(
    dataset: Dataset,
    split: string,
    source: IngestSource,
    units: IngestUnit[],
    req: IngestRequest,
    run: IngestRun,
    handle: { cancel: false | 'cancelled' | 'interrupted' },
    meta: RequestMeta,
  ): Promise<void> {
    const stripped: Record<string, number> = {};
    const refused: { path: string; reason: string }[] = [];
    let withdrawn = 0;
    const refuse = (path: string, reason: string) => {
      run.filesRefused += 1;
      if (refused.length < MAX_REFUSALS_LISTED) refused.push({ path, reason });
    };
    const ctx: UnitContext = {
      source,
      store: this.store,
      bucket: dataset.bucket,
      keyPrefix: dataset.prefix + req.target,
      target: req.target,
      dataset: dataset.id,
      split,
      csv: req.csv,
      pseudonyms: (kind, originals) => this.pseudonyms.resolve(req.domain, kind, originals, this.clock.now()),
      count: (what, n = 1) => (stripped[what] = (stripped[what] ?? 0) + n),
    };
    run.filesTotal = units.length;
    let processed = 0;
    const sourceId = this.pseudonyms.sourceId(dataset.id, source.description);
    // Sources that yielded outputs in this run (written or verified): on a complete run, what this
    // source produced before and no longer yields (deleted, or now refused) is withdrawn.
    const yielded = new Set<string>();
    try {
      for (const unit of units) {
        if (handle.cancel !== false) {
          run.state = handle.cancel;
          break;
        }
        if (req.limit !== undefined && processed >= req.limit) {
          run.state = 'partial';
          break;
        }
        if (unit.type === 'refused') {
          refuse(unit.path, unit.reason);
        } else if (await this.alreadyDone(dataset, unit, req)) {
          run.filesSkipped += 1;
          yielded.add(this.pseudonyms.sourceLookup(dataset.id, unit.path));
        } else {
          processed += 1;
          try {
            const out = await processUnit(unit, ctx);
            const lookup = this.pseudonyms.sourceLookup(dataset.id, unit.path);
            const fingerprint = fingerprintOf(unit, req);
            for (const w of out.written) {
              await this.manifest.upsert(
                { dataset: dataset.id, ...w, ingestId: run.id, sourceLookup: lookup, sourceId, sourceFingerprint: fingerprint },
                this.clock.now(),
              );
              run.bytesWritten += w.size;
            }
            if (out.series.length > 0) await this.series.upsert(out.series);
            run.filesWritten += 1;
            yielded.add(lookup);
          } catch (err) {
            if (!(err instanceof UnitRefusal)) throw err;
            refuse(unit.path, err.message);
          }
        }
        run.filesDone += 1;
        await this.runs.update(run);
      }
      if (run.state === 'running') {
        withdrawn = await this.withdraw(dataset, sourceId, yielded);
        run.state = 'done';
      }
    } catch (err) {
      run.state = 'failed';
      // Errors that stop a run come from the store or the database (a source file that cannot be
      // read or parsed is refused on its own); their messages name no source content.
      run.error = (err as Error).message.slice(0, 500);
      this.logger.error({ message: 'ingest run failed', dataset: dataset.id, run: run.id, error: run.error });
    }
    run.finishedAt = this.clock.now().toISOString();
    const entries = await this.manifest.all(dataset.id).catch(() => []);
    const manifestSha256 = createHash('sha256')
      .update(entries.map((e) => `${e.key} ${e.sha256} ${e.size}\n`).join(''))
      .digest('hex');
    run.summary = {
      stripped,
      refused,
      refusedTotal: run.filesRefused,
      withdrawn,
      manifestSha256,
      manifestEntries: entries.length,
    } satisfies IngestSummary;
    // 1. The leaf. If it cannot be written, the run fails (and says why): what it wrote stays in
    //    the manifest, but the run never reads as done without its leaf.
    await this.audit
      .record(meta, {
        principal: run.startedBy,
        team: null,
        action: 'dataset.ingest',
        decision: run.state === 'failed' ? 'error' : 'allow',
        resource: { type: 'dataset', id: dataset.id },
        detail: {
          run: run.id,
          state: run.state,
          target: run.target,
          files: { total: run.filesTotal, written: run.filesWritten, skipped: run.filesSkipped, refused: run.filesRefused },
          bytesWritten: run.bytesWritten,
          withdrawn,
          manifestSha256,
          manifestEntries: entries.length,
          stripped,
        },
      })
      .catch((err: unknown) => {
        this.logger.error({ message: 'could not log the ingest run', run: run.id, error: (err as Error).message });
        run.state = 'failed';
        run.error = `the run could not be logged: ${(err as Error).message}`.slice(0, 500);
      });
    // 2. The dataset is free again; 3. only then does the run read as finished: whoever waits
    //    for it to finish finds its leaf and may start the next run at once.
    this.release(dataset.id, handle);
    await this.storeFinalState(run);
  }

  /**
   * The run's last state, stored with a few retries (a database that blinks must not leave a
   * finished run reading `running`); a failure after them is an error in the log, for the
   * operator: the run then reads `interrupted` after the next start, and a re-run resumes it.
   */
  private async storeFinalState(run: IngestRun): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.runs.update(run);
        return;
      } catch (err) {
        if (attempt === FINAL_STATE_ATTEMPTS) {
          this.logger.error({
            message: 'could not store the final state of an ingest run',
            run: run.id,
            state: run.state,
            error: (err as Error).message,
          });
          return;
        }
        await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
      }
    }
  }

  /** Frees the dataset for another run, unless a later run holds it already. */
  private release(datasetId: string, handle: object): void {
    if (this.running.get(datasetId) === handle) this.running.delete(datasetId);
  }

  /**
   * After a complete run: outputs this source produced earlier from files it no longer yields
   * (deleted from the source, or refused under today's rules) leave the manifest first — from
   * then on they are not served — and then the bucket.
   */
  private async withdraw(dataset: Dataset, sourceId: string, yielded: ReadonlySet<string>): Promise<number> {
    let n = 0;
    for (const e of await this.manifest.bySourceId(dataset.id, sourceId)) {
      if (yielded.has(e.sourceLookup)) continue;
      await this.manifest.remove(dataset.id, e.key);
      await this.store.delete(dataset.bucket, dataset.prefix + e.key);
      n += 1;
    }
    return n;
  }

  /** Done and verified: every output of the unit is in the manifest from this very source, and still in the store as recorded. */
  private async alreadyDone(dataset: Dataset, unit: Exclude<IngestUnit, { type: 'refused' }>, req: IngestRequest): Promise<boolean> {
    const entries = await this.manifest.bySource(dataset.id, this.pseudonyms.sourceLookup(dataset.id, unit.path));
    if (entries.length !== OUTPUTS[unit.type] || entries.some((e) => e.sourceFingerprint !== fingerprintOf(unit, req))) return false;
    for (const e of entries) {
      try {
        const head = await this.store.head(dataset.bucket, dataset.prefix + e.key);
        if (head.size !== e.size || head.etag !== e.etag) return false;
      } catch {
        return false;
      }
    }
    return true;
  }
}

/**
 * What a unit's outputs depend on: the source file(s) and how they were cleansed (profile
 * version, CSV rule, target, pseudonym domain). A change in any of them means it is done again.
 */
function fingerprintOf(unit: Exclude<IngestUnit, { type: 'refused' }>, req: IngestRequest): string {
  const source = unit.type === 'metaimage' ? `${unit.header.fingerprint}|${unit.data.fingerprint}` : unit.file.fingerprint;
  const how = createHash('sha256')
    .update(JSON.stringify([CLEANSING_VERSION, req.target, req.domain, req.csv ?? null]))
    .digest('hex')
    .slice(0, 16);
  return `${source}|${how}`;
}
