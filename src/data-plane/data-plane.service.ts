import { type Readable, Transform } from 'node:stream';
import { type OpenDownloads } from './open-downloads';
import { setTimeout as delay } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import { type AuditLog, type RequestMeta } from '../audit/audit-log.service';
import { type AuditResource } from '../audit/audit-leaf';
import { type JobPrincipal } from '../principal/principal';
import { type Clock } from '../clock/clock';
import { type Dataset, type DatasetRepository, type Split, splitOf } from '../datasets/dataset.repository';
import { isListed, type ManifestRepository } from '../datasets/manifest.repository';
import { type DatasetObjectRepository } from '../datasets/dataset-object.repository';
import { type KeySource, type ListedPage, type ListQuery, pageOfSplits } from './listing';
import { DatabaseUnavailableError } from '../db/database';
import { type GrantRepository } from '../grants/grant.repository';
import { type CageMetrics } from '../metrics/metrics.registry';
import { KeyedQueue } from '../ops/keyed-queue';
import { grantPolicyId, type ManifestStatus, type PolicyDecision, type PolicyEngine, type TeamGrants } from '../policy/policy.types';
import {
  ObjectNotFoundError,
  type ObjectBody,
  ObjectStoreUnavailableError,
  type ObjectMeta,
  type ObjectStore,
  RangeNotSatisfiableError,
} from '../storage/object-store.service';
import { type ByteRangeRequest, etagMatches, resolveRange } from './byte-range';
import { AnsweredError, type HttpAnswer } from '../ops/http-answer';

/** Answers the HTTP layer turns into 404 without saying whether the thing exists. */
export class NotVisibleError extends AnsweredError {
  answer(): HttpAnswer {
    return { status: 404, message: 'not found' };
  }
}
/** The grant's byte quota would be exceeded: 429, nothing served. */
export class QuotaExhaustedError extends AnsweredError {
  constructor(readonly grant: string) {
    super('the byte quota of the grant that allows this read is used up');
  }

  answer(): HttpAnswer {
    return { status: 429, message: this.message };
  }
}
/** Reads racing for one grant's quota kept changing its usage under this one: 503, nothing served. */
export class QuotaContendedError extends DatabaseUnavailableError {
  constructor(readonly grant: string) {
    super('the byte quota of the grant that allows this read is too contended to charge');
  }
}
export class RangeError416 extends AnsweredError {
  constructor(readonly size: number) {
    super('range not satisfiable');
  }

  answer(): HttpAnswer {
    return { status: 416, message: this.message, headers: { 'content-range': `bytes */${this.size}` } };
  }
}

export interface ObjectRequest {
  dataset: string;
  key: string;
  method: 'GET' | 'HEAD';
  range: ByteRangeRequest | undefined;
  ifMatch: string | undefined;
  ifNoneMatch: string | undefined;
  /** HTTP dates, already parsed; an unparsable date is ignored, as RFC 9110 says. */
  ifModifiedSince?: Date;
  ifUnmodifiedSince?: Date;
}

export interface ObjectResponse {
  status: 200 | 206 | 304 | 412;
  meta: ObjectMeta;
  range: { start: number; end: number } | undefined;
  contentLength: number;
  body: Readable | undefined;
}

export interface VisibleDataset {
  id: string;
  title: string;
  createdAt: string | null;
  splits: { name: string; kind: string }[];
}

/** A grant's quota, as a read is decided and charged against it. */
interface Charge {
  grant: string;
  quota: number;
  /** Bytes the grant had served when policy decided. */
  served: number;
  remaining: number;
}

/**
 * Tries at deciding and charging a read before giving up (503). Each failed try means another
 * read under the same grant was charged, so this bounds the wait of one of that many at once.
 */
const MAX_CHARGE_ATTEMPTS = 100;

/**
 * The data plane's rules: every list and read is decided by the policy engine first, every
 * decision becomes one audit leaf, and no byte leaves before its leaf is durable. Denied and
 * absent answer alike.
 */
export class DataPlaneService {
  private readonly charges = new KeyedQueue();
  private readonly logger = new Logger('DataPlane');

  constructor(
    private readonly datasets: DatasetRepository,
    private readonly grants: GrantRepository,
    private readonly policy: PolicyEngine,
    private readonly store: ObjectStore,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly manifest: ManifestRepository,
    /** The object index of registered datasets (their listings). */
    private readonly objects: DatasetObjectRepository,
    /** Downloads in progress, cut when their job or grant goes. */
    private readonly downloads: OpenDownloads,
    /** Downloads in progress (`cage_open_streams`). */
    private readonly metrics?: CageMetrics,
  ) {}

  /** Datasets the job may list, with the splits it may see. */
  async listDatasets(job: JobPrincipal, meta: RequestMeta): Promise<VisibleDataset[]> {
    const teamGrants = await this.grants.forTeam(job.team);
    const now = this.clock.now();
    const visible: VisibleDataset[] = [];
    const policies = new Set<string>();
    let policySet = this.policy.active.sha256;
    for (const d of await this.datasets.all()) {
      const splits = d.splits.filter((s) => {
        const decision = this.decideList(job, d, s, now, teamGrants);
        policySet = decision.policySet;
        if (decision.decision === 'allow') decision.policies.forEach((p) => policies.add(p));
        return decision.decision === 'allow';
      });
      if (splits.length > 0) {
        visible.push({
          id: d.id,
          title: d.title,
          createdAt: d.createdAt?.toISOString() ?? null,
          splits: splits.map((s) => ({ name: s.name, kind: s.kind })),
        });
      }
    }
    await this.audit.record(meta, {
      ...who(job),
      action: 'list-datasets',
      decision: visible.length > 0 ? 'allow' : 'deny',
      status: 200,
      resource: { type: 'datasets' },
      policies: [...policies].sort(),
      policySet,
      detail: { datasets: visible.map((v) => v.id) },
    });
    return visible;
  }

  async listObjects(job: JobPrincipal, datasetId: string, q: ListQuery, meta: RequestMeta): Promise<ListedPage> {
    const resource: AuditResource = { type: 'objects', dataset: datasetId, keyHex: hex(q.prefix) };
    const { dataset, allowed, policies, policySet } = await this.listableSplits(job, datasetId);
    if (dataset === undefined || allowed.length === 0) {
      await this.audit.record(meta, { ...who(job), action: 'list', decision: 'deny', status: 404, resource, policySet });
      throw new NotVisibleError();
    }
    let page: ListedPage;
    try {
      page = await pageOfSplits(allowed, (key) => splitOf(dataset, key), q, this.keySource(dataset));
    } catch (err) {
      await this.audit
        .record(meta, { ...who(job), action: 'list', decision: 'allow', status: 503, resource, policies, policySet })
        .catch(() => undefined);
      throw err;
    }
    await this.audit.record(meta, {
      ...who(job),
      action: 'list',
      decision: 'allow',
      status: 200,
      resource,
      policies,
      policySet,
      detail: {
        splits: allowed.map((s) => s.name),
        returned: page.objects.length,
        ...(q.delimiter === undefined ? {} : { delimiterHex: hex(q.delimiter), prefixes: page.commonPrefixes.length }),
      },
    });
    return page;
  }

  /**
   * Whether the job may see a dataset at all (S3's HeadBucket): it may when it may list one of
   * its splits. Logged like a listing; absent and not granted answer alike.
   */
  async checkDataset(job: JobPrincipal, datasetId: string, meta: RequestMeta): Promise<void> {
    const { dataset, allowed, policies, policySet } = await this.listableSplits(job, datasetId);
    const visible = dataset !== undefined && allowed.length > 0;
    await this.audit.record(meta, {
      ...who(job),
      action: 'head-dataset',
      decision: visible ? 'allow' : 'deny',
      status: visible ? 200 : 404,
      resource: { type: 'dataset', dataset: datasetId },
      policies: visible ? policies : [],
      policySet,
    });
    if (!visible) throw new NotVisibleError();
  }

  private async listableSplits(
    job: JobPrincipal,
    datasetId: string,
  ): Promise<{ dataset: Dataset | undefined; allowed: Split[]; policies: string[]; policySet: string }> {
    const dataset = await this.datasets.get(datasetId);
    const allowed: Split[] = [];
    const policies = new Set<string>();
    let policySet = this.policy.active.sha256;
    if (dataset !== undefined) {
      const teamGrants = await this.grants.forTeam(job.team);
      const now = this.clock.now();
      for (const s of dataset.splits) {
        const d = this.decideList(job, dataset, s, now, teamGrants);
        policySet = d.policySet;
        if (d.decision === 'allow') {
          allowed.push(s);
          d.policies.forEach((p) => policies.add(p));
        }
      }
    }
    return { dataset, allowed, policies: [...policies].sort(), policySet };
  }

  /**
   * Opens one object for GET or HEAD. Policy decides the read before the store is asked (grants,
   * labels, listener, and whether the manifest lists the key), and again once the store has
   * answered, before a byte is sent: with the object's manifest status (same size and ETag?) and
   * the bytes this answer carries against what is left of the grant's byte quota. The leaf of an
   * allowed read (status, bytes and the deciding policies) is durable before the body is handed
   * back, so a failing audit store means nothing is served.
   */
  async openObject(job: JobPrincipal, req: ObjectRequest, meta: RequestMeta): Promise<ObjectResponse> {
    const base = {
      ...who(job),
      action: req.method === 'GET' ? 'read' : 'head',
      resource: { type: 'object', dataset: req.dataset, keyHex: hex(req.key) },
    };
    const dataset = await this.datasets.get(req.dataset);
    if (dataset === undefined) {
      await this.audit.record(meta, { ...base, policies: [], policySet: this.policy.active.sha256, decision: 'deny', status: 404 });
      throw new NotVisibleError();
    }
    const teamGrants = await this.grants.forTeam(job.team);
    const now = this.clock.now();
    const split = splitOf(dataset, req.key) ?? null;
    const decide = (manifest: ManifestStatus, context: { bytes: number; quotaRemaining?: number }) =>
      this.policy.decide(
        {
          principal: { type: 'Job', id: job.jobId, team: job.team },
          action: 'read',
          resource: { type: 'Object', dataset: dataset.id, split: split && { name: split.name, kind: split.kind }, key: req.key, manifest },
          listener: 'sandbox',
          now,
          context,
        },
        teamGrants,
      );
    // An ingested dataset serves only its manifest. Whether it lists the key is known before the
    // store is asked; whether with the bytes the store holds, only after.
    const enforced = dataset.manifestEnforced === true;
    const entry = enforced ? await this.manifest.get(dataset.id, req.key) : undefined;
    const listed: ManifestStatus = !enforced ? 'none' : entry === undefined ? 'absent' : 'listed';
    const first = decide(listed, { bytes: 0 });
    if (first.decision !== 'allow') return this.refuse(meta, base, first, listed);
    const logged = { ...base, policies: first.policies, policySet: first.policySet, ...errorsOf(first) };

    let opened: { meta: ObjectMeta; body: ObjectBody | undefined; range: { start: number; end: number } | undefined };
    try {
      opened = await this.open(dataset, req);
    } catch (err) {
      if (err instanceof ObjectNotFoundError) {
        await this.audit.record(meta, { ...logged, decision: 'allow', status: 404 });
        throw new NotVisibleError();
      }
      if (err instanceof RangeNotSatisfiableError) {
        // A 416 names the object's size: of bytes that are not what the manifest lists (a
        // replaced object), that size must not leak. Decided as the mismatch it is: a 404.
        if (listed === 'listed' && entry !== undefined && entry.size !== err.size) {
          return this.refuse(meta, base, decide('mismatch', { bytes: 0 }), 'mismatch');
        }
        await this.audit.record(meta, { ...logged, decision: 'allow', status: 416, detail: { size: err.size } });
        throw new RangeError416(err.size);
      }
      // The decision was made: it is logged even though the store failed (best effort: the
      // request fails with 503 either way).
      await this.audit.record(meta, { ...logged, decision: 'allow', status: 503 }).catch(() => undefined);
      throw err;
    }

    const { body } = opened;
    let status: ObjectResponse['status'] = opened.range === undefined ? 200 : 206;
    status = preconditions(req, opened.meta.etag, opened.meta.lastModified) ?? status;
    const sending = status === 200 || status === 206;
    const contentLength = opened.range === undefined ? opened.meta.size : opened.range.end - opened.range.start + 1;
    // What this answer serves, and what a quota is charged: the body of a GET (the object, or the
    // range). HEAD, 304 and 412 carry none. A download the client cuts short counts in full, as
    // its leaf (durable before the first byte) says.
    const bytes = sending && req.method === 'GET' ? contentLength : 0;
    const manifest: ManifestStatus = listed !== 'listed' || isListed(entry, opened.meta) ? listed : 'mismatch';
    let decided: { decision: PolicyDecision; quota: Charge | undefined; charged: boolean };
    try {
      decided = await this.decideAndCharge(first, teamGrants, bytes, (quotaRemaining) =>
        decide(manifest, { bytes, ...(quotaRemaining === undefined ? {} : { quotaRemaining }) }),
      );
    } catch (err) {
      body?.body.destroy();
      if (err instanceof QuotaContendedError)
        await this.audit.record(meta, { ...logged, decision: 'allow', status: 503, detail: { grant: err.grant } }).catch(() => undefined);
      throw err;
    }
    const { decision, quota, charged } = decided;
    if (decision.decision !== 'allow') {
      body?.body.destroy();
      return this.refuse(meta, base, decision, manifest, quota);
    }
    try {
      await this.audit.record(meta, {
        ...base,
        policies: decision.policies,
        policySet: decision.policySet,
        decision: 'allow',
        status,
        range: opened.range === undefined ? null : `${opened.range.start}-${opened.range.end}`,
        bytes,
        ...(charged && quota !== undefined ? { detail: { grant: quota.grant } } : {}),
      });
    } catch (err) {
      body?.body.destroy();
      // Nothing was served: the charge goes back (if the database can take it).
      if (charged && quota !== undefined) await this.grants.refundBytes(quota.grant, bytes).catch(() => undefined);
      throw err;
    }
    let served: Readable | undefined;
    if (!sending || body === undefined) body?.body.destroy();
    else if (req.method !== 'GET') served = body.body;
    else {
      served = this.downloads.watch(body.body, {
        job,
        dataset: dataset.id,
        split: split?.name ?? null,
        meta,
        leaf: { ...who(job), resource: base.resource },
      });
      this.metrics?.streamOpened(meta.listener, served);
    }
    return {
      status,
      meta: opened.meta,
      range: sending ? opened.range : undefined,
      contentLength: sending ? contentLength : 0,
      body: sending ? served : undefined,
    };
  }

  /**
   * The read decided again with the quota it is charged to, and the charge made. Policy decides
   * on what the grant has served, and the charge lands only if that is still what it has served
   * (compare and set); if another read was charged in between, both are done again on the new
   * usage. So every charge that lands was decided on exactly the usage it adds to, and charges
   * never add up past the quota, however many reads race for its last bytes.
   */
  private async decideAndCharge(
    allowed: PolicyDecision,
    teamGrants: TeamGrants,
    bytes: number,
    decide: (quotaRemaining: number | undefined) => PolicyDecision,
  ): Promise<{ decision: PolicyDecision; quota: Charge | undefined; charged: boolean }> {
    // One team's charges run one at a time in this replica, so its reads never race each other
    // here (a race costs a database round trip and a Cedar decision each time); across replicas
    // the compare-and-set decides, and a lost race waits a little, with jitter, before it asks again.
    return this.charges.run(teamGrants.team, async () => {
      for (let attempt = 1; ; attempt++) {
        const quota = await this.quotaOf(allowed, teamGrants);
        const decision = decide(quota?.remaining);
        if (decision.decision !== 'allow' || quota === undefined || bytes === 0) return { decision, quota, charged: false };
        if (await this.grants.chargeBytes(quota.grant, quota.served, bytes)) return { decision, quota, charged: true };
        if (attempt === MAX_CHARGE_ATTEMPTS) throw new QuotaContendedError(quota.grant);
        await delay(Math.random() * Math.min(50, 2 * attempt));
      }
    });
  }

  /**
   * What is left of the byte quota a read is charged to: of the grants that allowed it, the one
   * with the most left (a read is refused only when every grant allowing it is spent). Undefined
   * when no quota applies: a grant without one, or a permit that is not a grant, allowed it too.
   */
  private async quotaOf(allowed: PolicyDecision, teamGrants: TeamGrants): Promise<Charge | undefined> {
    const byPolicy = new Map(teamGrants.grants.map((g) => [grantPolicyId(g.id), g]));
    const quotas: { grant: string; quota: number }[] = [];
    for (const p of allowed.policies) {
      const g = byPolicy.get(p);
      if (g?.byteQuota === undefined || g.byteQuota === null) return undefined;
      quotas.push({ grant: g.id, quota: g.byteQuota });
    }
    if (quotas.length === 0) return undefined;
    const served = await this.grants.bytesServed(quotas.map((q) => q.grant));
    let best: Charge | undefined;
    for (const q of quotas) {
      const used = served.get(q.grant) ?? 0;
      const remaining = Math.max(0, q.quota - used);
      if (best === undefined || remaining > best.remaining) best = { ...q, served: used, remaining };
    }
    return best;
  }

  /**
   * A read policy refused, logged as refused: a spent byte quota is a 429; anything else is a
   * 404 like an absent object, and one outside an ingested dataset's manifest is reported.
   */
  private async refuse(
    meta: RequestMeta,
    base: { principal: string; team: string; action: string; resource: AuditResource },
    d: PolicyDecision,
    manifest: ManifestStatus,
    quota?: Charge,
  ): Promise<never> {
    const logged = { ...base, policies: d.policies, policySet: d.policySet, decision: 'deny' as const };
    const errors = errorsOf(d).detail;
    if (d.categories.includes('manifest')) {
      const reason = manifest === 'mismatch' ? 'manifest_mismatch' : 'not_in_manifest';
      this.logger.warn({
        message: 'an object outside the manifest was asked for and not served',
        reason,
        dataset: base.resource.dataset,
        keyHex: base.resource.keyHex,
        requestId: meta.requestId,
      });
      await this.audit.record(meta, { ...logged, status: 404, detail: { reason, ...errors } });
      throw new NotVisibleError();
    }
    if (d.categories.includes('quota') && quota !== undefined) {
      const detail = { grant: quota.grant, quota: quota.quota, remaining: quota.remaining, ...errors };
      await this.audit.record(meta, { ...logged, status: 429, detail });
      throw new QuotaExhaustedError(quota.grant);
    }
    await this.audit.record(meta, { ...logged, status: 404, ...errorsOf(d) });
    throw new NotVisibleError();
  }

  private async open(
    dataset: Dataset,
    req: ObjectRequest,
  ): Promise<{ meta: ObjectMeta; body: ObjectBody | undefined; range: { start: number; end: number } | undefined }> {
    const key = dataset.prefix + req.key;
    let r = req.range;
    // A suffix range, or any range on HEAD, needs the size first; S3 servers disagree on suffixes.
    if (req.method === 'HEAD' || r?.kind === 'suffix') {
      const head = await this.store.head(dataset.bucket, key);
      const resolved = r === undefined ? undefined : resolveRange(r, head.size);
      if (r !== undefined && resolved === undefined) throw new RangeNotSatisfiableError(head.size);
      if (req.method === 'HEAD') return { meta: head, body: undefined, range: resolved };
      r = resolved === undefined ? undefined : { kind: 'from', start: resolved.start, end: resolved.end };
    }
    const asked = r?.kind === 'from' ? { start: r.start, end: r.end } : undefined;
    const body = await this.store.get(dataset.bucket, key, asked);
    if (asked === undefined) return { meta: body, body, range: undefined };
    const range = { start: asked.start, end: Math.min(asked.end ?? body.size - 1, body.size - 1) };
    return { meta: body, body: trimToRange(body, range), range };
  }

  private decideList(job: JobPrincipal, dataset: Dataset, split: Split, now: Date, teamGrants: TeamGrants): PolicyDecision {
    return this.policy.decide(
      {
        principal: { type: 'Job', id: job.jobId, team: job.team },
        action: 'list',
        resource: { type: 'Split', dataset: dataset.id, split: split.name, kind: split.kind },
        listener: 'sandbox',
        now,
      },
      teamGrants,
    );
  }

  /**
   * Where a dataset's listing reads its keys: an ingested dataset lists its manifest, a registered
   * one the object index its last index run wrote, and one never indexed the store.
   */
  private keySource(dataset: Dataset): KeySource {
    if (dataset.manifestEnforced === true) return (prefix, after, max) => this.manifest.page(dataset.id, prefix, after, max);
    if (dataset.objectIndexRun !== undefined) return (prefix, after, max) => this.objects.page(dataset.id, prefix, after, max);
    return async (prefix, after, max) => {
      const page = await this.store.list(
        dataset.bucket,
        dataset.prefix + prefix,
        after === undefined ? undefined : dataset.prefix + after,
        max,
      );
      return {
        objects: page.objects.map((o) => ({
          key: o.key.slice(dataset.prefix.length),
          size: o.size,
          etag: o.etag,
          lastModified: o.lastModified,
        })),
        truncated: page.truncated,
      };
    };
  }
}

/**
 * RFC 9110 §13.2.2 order: If-Match, then If-Unmodified-Since (only without If-Match), then
 * If-None-Match, then If-Modified-Since (only without If-None-Match). Undefined: send the body.
 */
function preconditions(req: ObjectRequest, etag: string, lastModified: Date | undefined): 412 | 304 | undefined {
  // HTTP dates have one-second resolution; the store's may not.
  const modified = lastModified === undefined ? undefined : Math.floor(lastModified.getTime() / 1000) * 1000;
  if (req.ifMatch !== undefined) {
    if (!etagMatches(req.ifMatch, etag, false)) return 412;
  } else if (req.ifUnmodifiedSince !== undefined && modified !== undefined && modified > req.ifUnmodifiedSince.getTime()) {
    return 412;
  }
  if (req.ifNoneMatch !== undefined) {
    if (etagMatches(req.ifNoneMatch, etag, true)) return 304;
  } else if (req.ifModifiedSince !== undefined && modified !== undefined && modified <= req.ifModifiedSince.getTime()) {
    return 304;
  }
  return undefined;
}

/**
 * Some S3 servers answer a range with more than was asked (s3rver serves `bytes=0-0` whole).
 * The client gets exactly the range it asked for, or nothing: a response the store widened is
 * trimmed, one that does not cover the range is refused.
 */
function trimToRange(body: ObjectBody, want: { start: number; end: number }): ObjectBody {
  const got = body.range ?? { start: 0, end: body.size - 1 };
  if (got.start === want.start && got.end === want.end) return body;
  if (got.start > want.start || got.end < want.end) {
    body.body.destroy();
    throw new ObjectStoreUnavailableError('object store answered a different range than asked');
  }
  let skip = want.start - got.start;
  let left = want.end - want.start + 1;
  const source = body.body;
  const trimmed = new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (left === 0) {
        done();
        return;
      }
      let c = chunk;
      if (skip > 0) {
        const n = Math.min(skip, c.length);
        skip -= n;
        c = c.subarray(n);
      }
      if (left > 0 && c.length > 0) {
        const out = c.subarray(0, left);
        left -= out.length;
        this.push(out);
      }
      if (left === 0) {
        this.push(null);
        source.destroy();
      }
      done();
    },
  });
  source.on('error', (err) => trimmed.destroy(err));
  // A trimmed body ended early (cut, or the client gone) releases the store's body under it.
  trimmed.once('close', () => source.destroy());
  source.pipe(trimmed);
  return { ...body, body: trimmed, contentLength: want.end - want.start + 1, range: want };
}

/** Evaluation errors of a decision, for its leaf (a policy that errors is skipped, so they are logged). */
function errorsOf(d: PolicyDecision): { detail?: { policyErrors: string[] } } {
  return d.errors.length > 0 ? { detail: { policyErrors: d.errors } } : {};
}

function who(job: JobPrincipal): { principal: string; team: string } {
  return { principal: `job:${job.jobId}`, team: job.team };
}

function hex(s: string): string {
  return Buffer.from(s, 'utf8').toString('hex');
}
