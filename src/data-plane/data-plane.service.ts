import { type Readable, Transform } from 'node:stream';
import { type AuditLog, type RequestMeta } from '../audit/audit-log.service';
import { type AuditResource } from '../audit/audit-leaf';
import { type JobPrincipal } from '../auth/token.service';
import { type Clock } from '../clock/clock';
import { type Dataset, type DatasetRepository, type Split, splitOf } from '../datasets/dataset.repository';
import { type GrantRepository } from '../grants/grant.repository';
import { type PolicyDecision, type PolicyEngine, type TeamGrants } from '../policy/policy.types';
import {
  ObjectNotFoundError,
  type ObjectBody,
  ObjectStoreUnavailableError,
  type ObjectMeta,
  type ObjectStore,
  RangeNotSatisfiableError,
} from '../storage/object-store.service';
import { type ByteRangeRequest, etagMatches, resolveRange } from './byte-range';

/** Answers the HTTP layer turns into 404 without saying whether the thing exists. */
export class NotVisibleError extends Error {}
/** The grant's byte quota would be exceeded: 429, nothing served. */
export class QuotaExhaustedError extends Error {
  constructor(readonly grant: string) {
    super('the byte quota of the grant that allows this read is used up');
  }
}
export class RangeError416 extends Error {
  constructor(readonly size: number) {
    super('range not satisfiable');
  }
}

export interface ObjectRequest {
  dataset: string;
  key: string;
  method: 'GET' | 'HEAD';
  range: ByteRangeRequest | undefined;
  ifMatch: string | undefined;
  ifNoneMatch: string | undefined;
}

export interface ObjectResponse {
  status: 200 | 206 | 304 | 412;
  meta: ObjectMeta;
  range: { start: number; end: number } | undefined;
  contentLength: number;
  body: Readable | undefined;
}

export interface ListedPage {
  objects: { key: string; size: number; etag: string; lastModified: string | null }[];
  nextCursor: string | null;
}

/**
 * The data plane's rules: every list and read is decided by the policy engine first, every
 * decision becomes one audit leaf, and no byte leaves before its leaf is durable. Denied and
 * absent answer alike.
 */
export class DataPlaneService {
  constructor(
    private readonly datasets: DatasetRepository,
    private readonly grants: GrantRepository,
    private readonly policy: PolicyEngine,
    private readonly store: ObjectStore,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  /** Datasets the job may list, with the splits it may see. */
  async listDatasets(job: JobPrincipal, meta: RequestMeta): Promise<{ id: string; title: string; splits: { name: string; kind: string }[] }[]> {
    const teamGrants = await this.grants.forTeam(job.team);
    const now = this.clock.now();
    const visible: { id: string; title: string; splits: { name: string; kind: string }[] }[] = [];
    const policies = new Set<string>();
    let policySet = this.policy.active.sha256;
    for (const d of await this.datasets.all()) {
      const splits = d.splits.filter((s) => {
        const decision = this.decideList(job, d, s, now, teamGrants);
        policySet = decision.policySet;
        if (decision.decision === 'allow') decision.policies.forEach((p) => policies.add(p));
        return decision.decision === 'allow';
      });
      if (splits.length > 0) visible.push({ id: d.id, title: d.title, splits: splits.map((s) => ({ name: s.name, kind: s.kind })) });
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

  async listObjects(
    job: JobPrincipal,
    datasetId: string,
    q: { prefix: string; cursor: string | undefined; limit: number },
    meta: RequestMeta,
  ): Promise<ListedPage> {
    const dataset = await this.datasets.get(datasetId);
    const resource: AuditResource = { type: 'objects', dataset: datasetId, keyHex: hex(q.prefix) };
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
    if (dataset === undefined || allowed.length === 0) {
      await this.audit.record(meta, { ...who(job), action: 'list', decision: 'deny', status: 404, resource, policySet });
      throw new NotVisibleError();
    }
    let page: ListedPage;
    try {
      page = await this.pageOfSplits(dataset, allowed, q);
    } catch (err) {
      await this.audit
        .record(meta, { ...who(job), action: 'list', decision: 'allow', status: 503, resource, policies: [...policies].sort(), policySet })
        .catch(() => undefined);
      throw err;
    }
    await this.audit.record(meta, {
      ...who(job),
      action: 'list',
      decision: 'allow',
      status: 200,
      resource,
      policies: [...policies].sort(),
      policySet,
      detail: { splits: allowed.map((s) => s.name), returned: page.objects.length },
    });
    return page;
  }

  /**
   * Opens one object for GET or HEAD. The decision is made and logged before the store is
   * asked; the leaf of an allowed read (status and bytes included) is durable before the body
   * is handed back, so a failing audit store means nothing is served.
   */
  async openObject(job: JobPrincipal, req: ObjectRequest, meta: RequestMeta): Promise<ObjectResponse> {
    const action = req.method === 'GET' ? 'read' : 'head';
    const resource: AuditResource = { type: 'object', dataset: req.dataset, keyHex: hex(req.key) };
    const dataset = await this.datasets.get(req.dataset);
    let decision: PolicyDecision | undefined;
    if (dataset !== undefined) {
      const split = splitOf(dataset, req.key) ?? null;
      decision = this.policy.decide(
        {
          principal: { type: 'Job', id: job.jobId, team: job.team },
          action: 'read',
          resource: { type: 'Object', dataset: dataset.id, split: split && { name: split.name, kind: split.kind }, key: req.key },
          listener: 'sandbox',
          now: this.clock.now(),
        },
        await this.grants.forTeam(job.team),
      );
    }
    const logged = {
      ...who(job),
      action,
      resource,
      policies: decision?.policies ?? [],
      policySet: decision?.policySet ?? this.policy.active.sha256,
      ...(decision !== undefined && decision.errors.length > 0 ? { detail: { policyErrors: decision.errors } } : {}),
    };
    if (dataset === undefined || decision === undefined || decision.decision !== 'allow') {
      await this.audit.record(meta, { ...logged, decision: 'deny', status: 404 });
      throw new NotVisibleError();
    }

    let opened: { meta: ObjectMeta; body: ObjectBody | undefined; range: { start: number; end: number } | undefined };
    try {
      opened = await this.open(dataset, req);
    } catch (err) {
      if (err instanceof ObjectNotFoundError) {
        await this.audit.record(meta, { ...logged, decision: 'allow', status: 404 });
        throw new NotVisibleError();
      }
      if (err instanceof RangeNotSatisfiableError) {
        await this.audit.record(meta, { ...logged, decision: 'allow', status: 416, detail: { size: err.size } });
        throw new RangeError416(err.size);
      }
      // The decision was made: it is logged even though the store failed (best effort: the
      // request fails with 503 either way).
      await this.audit.record(meta, { ...logged, decision: 'allow', status: 503 }).catch(() => undefined);
      throw err;
    }

    const { body } = opened;
    const quotaGrant = await this.quotaGrant(job, decision);
    const etag = opened.meta.etag;
    let status: ObjectResponse['status'] = opened.range === undefined ? 200 : 206;
    if (req.ifMatch !== undefined && !etagMatches(req.ifMatch, etag, false)) status = 412;
    else if (req.ifNoneMatch !== undefined && etagMatches(req.ifNoneMatch, etag, true)) status = 304;
    const sending = status === 200 || status === 206;
    const contentLength = opened.range === undefined ? opened.meta.size : opened.range.end - opened.range.start + 1;
    const bytes = sending && req.method === 'GET' ? contentLength : 0;
    if (quotaGrant !== undefined && bytes > 0 && (await this.grants.bytesServed(quotaGrant.id)) + bytes > (quotaGrant.byteQuota ?? Infinity)) {
      body?.body.destroy();
      await this.audit.record(meta, { ...logged, decision: 'deny', status: 429, detail: { quota: quotaGrant.byteQuota ?? 0, grant: quotaGrant.id } });
      throw new QuotaExhaustedError(quotaGrant.id);
    }
    try {
      await this.audit.record(meta, {
        ...logged,
        decision: 'allow',
        status,
        range: opened.range === undefined ? null : `${opened.range.start}-${opened.range.end}`,
        bytes,
      });
    } catch (err) {
      body?.body.destroy();
      throw err;
    }
    if (quotaGrant !== undefined && bytes > 0) await this.grants.addBytesServed(quotaGrant.id, bytes);
    if (!sending || body === undefined) body?.body.destroy();
    return {
      status,
      meta: opened.meta,
      range: sending ? opened.range : undefined,
      contentLength: sending ? contentLength : 0,
      body: sending ? body?.body : undefined,
    };
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

  /** The grant that allowed a read, when it has a byte quota (counted per grant, all its jobs). */
  private async quotaGrant(job: JobPrincipal, decision: PolicyDecision) {
    const ids = new Set(decision.policies.filter((p) => p.startsWith('grant:')).map((p) => p.slice('grant:'.length)));
    if (ids.size === 0) return undefined;
    const limited = (await this.grants.forTeam(job.team)).grants.filter((g) => ids.has(g.id) && g.byteQuota !== undefined && g.byteQuota !== null);
    // Several grants may allow the same read; it is refused only when every one of them is spent.
    return limited.length === ids.size ? limited[0] : undefined;
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
   * One page across the allowed splits, in key order. The cursor is the last key examined (not
   * necessarily returned: keys of a nested split are skipped), so no key is seen twice or lost.
   */
  private async pageOfSplits(dataset: Dataset, allowed: Split[], q: { prefix: string; cursor: string | undefined; limit: number }): Promise<ListedPage> {
    const out: ListedPage['objects'] = [];
    let examined: string | undefined;
    for (const s of [...allowed].sort((a, b) => (a.prefix < b.prefix ? -1 : 1))) {
      const effective = s.prefix.startsWith(q.prefix) ? s.prefix : q.prefix.startsWith(s.prefix) ? q.prefix : undefined;
      if (effective === undefined) continue;
      if (q.cursor !== undefined && q.cursor >= effective && !q.cursor.startsWith(effective)) continue; // split already done
      let startAfter = q.cursor !== undefined && q.cursor > effective ? dataset.prefix + q.cursor : undefined;
      for (;;) {
        const want = q.limit - out.length;
        const page = await this.store.list(dataset.bucket, dataset.prefix + effective, startAfter, want);
        for (const o of page.objects) {
          const key = o.key.slice(dataset.prefix.length);
          examined = key;
          // A key belongs to the longest split prefix it starts with; never list another split's key.
          if (splitOf(dataset, key) !== s) continue;
          out.push({ key, size: o.size, etag: o.etag, lastModified: o.lastModified?.toISOString() ?? null });
        }
        if (out.length >= q.limit) return { objects: out, nextCursor: examined ?? null };
        if (!page.truncated || page.objects.length === 0) break;
        startAfter = dataset.prefix + (examined ?? '');
      }
    }
    return { objects: out, nextCursor: null };
  }
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
  source.pipe(trimmed);
  return { ...body, body: trimmed, contentLength: want.end - want.start + 1, range: want };
}

function who(job: JobPrincipal): { principal: string; team: string } {
  return { principal: `job:${job.jobId}`, team: job.team };
}

function hex(s: string): string {
  return Buffer.from(s, 'utf8').toString('hex');
}
