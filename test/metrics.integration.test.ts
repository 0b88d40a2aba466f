/**
 * GET /metrics (issue 12): scraped over HTTP after real traffic and parsed with a Prometheus
 * text-format parser; the counters move by what the traffic did, no label carries a team or an
 * object key, the sandbox listener serves none of it, and only whom the rule lets in may read it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attemptBits, refusalBits } from '../src/egress/kinds/refusal-feedback';
import { roundBitsUp } from '../src/egress/kinds/information-bits';
import { EmbeddedS3 } from '../src/storage/embedded-s3';
import { postEgress, predictions } from './support/egress';
import { faultProxy } from '../src/bench/fault-proxy';
import { DATASET, type Fixture, startFixture } from './support/fixture';
import { bearer, objectPath, rawRequest } from './support/http';
import { Scrape } from './support/prometheus';
import { SigV4TestClient } from './support/sigv4-client';
import { Checkpointer } from '../src/audit/checkpointer.service';
import { PolicyEngine } from '../src/policy/policy.types';

const SCRAPE_TOKEN = 'scrape-0123456789abcdef0123456789abcdef';
const OBJECT_ROUTE = '/v1/datasets/:dataset/objects/*';
const EGRESS_ROUTE = '/v1/egress/:kind';
const ROW = 'scan-9,1,2,3,0.5';

describe('Prometheus metrics on the control listener', () => {
  let f: Fixture;
  let s3: EmbeddedS3;
  let proxy: { url: string; server: Server };
  let s3Dir: string;
  /** Fail the store's GETs of one object (a store error the gateway must count). */
  let failStore = false;

  beforeAll(async () => {
    s3Dir = mkdtempSync(join(tmpdir(), 'cage-s3-'));
    s3 = await EmbeddedS3.start(s3Dir);
    proxy = await faultProxy(s3.endpoint, (req) =>
      failStore && req.method === 'GET' && (req.url ?? '').includes('/train/scan-1.mhd') ? 'fail-500' : undefined,
    );
    // Checkpoints only when the test makes them, so the lag it reads is exact.
    f = await startFixture({
      db: 'pglite',
      s3Endpoint: proxy.url,
      env: { CAGE_METRICS_TOKEN: SCRAPE_TOKEN, CAGE_CHECKPOINT_EVERY_SECONDS: '3600' },
    });
  });
  afterAll(async () => {
    await f?.stop();
    await new Promise((r) => proxy?.server.close(r));
    await s3?.stop();
    rmSync(s3Dir, { recursive: true, force: true });
  });

  async function scrape(headers: Record<string, string> = bearer(SCRAPE_TOKEN)): Promise<Scrape> {
    const r = await rawRequest(f.gateway.controlUrl, 'GET', '/metrics', headers);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    return new Scrape(r.body.toString('utf8'));
  }

  const read = (key: string, token = f.alpha.token) => rawRequest(f.gateway.sandboxUrl, 'GET', objectPath(DATASET, key), bearer(token));

  it('counts a read, a denied read, a release and a refusal by the right amounts', async () => {
    const before = await scrape();
    const leavesBefore = before.total('cage_policy_decisions_total');

    const ok = await read('train/annotations.csv');
    const nfd = await read('train/cafe\u0301.txt');
    const denied = await read('labels/test_annotations.csv');
    expect([ok.status, nfd.status, denied.status]).toEqual([200, 200, 404]);
    const released = await postEgress(f.gateway.sandboxUrl, 'predictions', f.beta.token, predictions([ROW]));
    const refused = await postEgress(f.gateway.sandboxUrl, 'predictions', f.beta.token, predictions(['scan-9,1000,2,3,0.5']));
    expect([released.status, refused.status]).toEqual([201, 422]);

    const after = await scrape();
    const delta = (name: string, labels: Record<string, string>) => after.value(name, labels) - before.value(name, labels);

    // HTTP, by route pattern and status.
    expect(delta('cage_http_requests_total', { listener: 'sandbox', route: OBJECT_ROUTE, method: 'GET', status: '200' })).toBe(2);
    expect(delta('cage_http_requests_total', { listener: 'sandbox', route: OBJECT_ROUTE, method: 'GET', status: '404' })).toBe(1);
    expect(delta('cage_http_requests_total', { listener: 'sandbox', route: EGRESS_ROUTE, method: 'POST', status: '201' })).toBe(1);
    expect(delta('cage_http_requests_total', { listener: 'sandbox', route: EGRESS_ROUTE, method: 'POST', status: '422' })).toBe(1);
    const latency = (b: Scrape) =>
      b.histogram('cage_http_request_duration_seconds', { listener: 'sandbox', route: OBJECT_ROUTE, method: 'GET', status: '200' });
    expect(latency(after).count - latency(before).count).toBe(2);
    expect(latency(after).sum).toBeGreaterThan(latency(before).sum);

    // Decisions by effect, and the bytes the allowed reads logged.
    expect(delta('cage_policy_decisions_total', { action: 'read', decision: 'allow' })).toBe(2);
    expect(delta('cage_policy_decisions_total', { action: 'read', decision: 'deny' })).toBe(1);
    expect(delta('cage_policy_decisions_total', { action: 'egress.release', decision: 'allow' })).toBe(1);
    expect(delta('cage_policy_decisions_total', { action: 'egress.reject', decision: 'deny' })).toBe(1);
    const served = f.objects.get('train/annotations.csv')!.length + f.objects.get('train/cafe\u0301.txt')!.length;
    expect(delta('cage_data_bytes_served_total', { listener: 'sandbox' })).toBe(served);
    expect(after.value('cage_open_streams', { listener: 'sandbox' })).toBe(0);

    // Egress by kind and outcome, and the bits charged for both (the release's and the refusal's).
    expect(delta('cage_egress_attempts_total', { kind: 'predictions', outcome: 'released' })).toBe(1);
    expect(delta('cage_egress_attempts_total', { kind: 'predictions', outcome: 'refused' })).toBe(1);
    const kinds = f.gateway.get(PolicyEngine).egress.kinds;
    const refusalCharge = roundBitsUp(refusalBits(kinds.get('predictions')!) + attemptBits(kinds));
    expect(delta('cage_egress_bits_charged_total', { kind: 'predictions' })).toBeCloseTo((released.json.bits as number) + refusalCharge, 6);

    // Every committed leaf went through one batch: the batch sizes add up to the leaves counted.
    const leaves = after.total('cage_policy_decisions_total') - leavesBefore;
    expect(leaves).toBeGreaterThanOrEqual(5);
    const batches = (b: Scrape) => b.histogram('cage_audit_batch_size');
    expect(batches(after).sum - batches(before).sum).toBe(leaves);
    expect(batches(after).count - batches(before).count).toBeGreaterThanOrEqual(1);
    const commits = (b: Scrape) => b.histogram('cage_audit_commit_duration_seconds');
    expect(commits(after).count - commits(before).count).toBe(batches(after).count - batches(before).count);
  });

  it('keeps every histogram cumulative: buckets never decrease, and +Inf is the count', async () => {
    await read('train/annotations.csv');
    const s = await scrape();
    const histograms = [...s.families.values()].filter((fam) => fam.type === 'HISTOGRAM' && fam.name.startsWith('cage_'));
    expect(histograms.map((h) => h.name).sort()).toEqual([
      'cage_audit_batch_size',
      'cage_audit_commit_duration_seconds',
      'cage_http_request_duration_seconds',
    ]);
    for (const h of histograms) {
      const series = s.histogramSeries(h.name);
      expect(series.length).toBeGreaterThan(0);
      for (const { buckets, count } of series) {
        expect(buckets.length).toBeGreaterThan(1);
        expect(buckets[buckets.length - 1][0]).toBe(Infinity);
        for (let i = 1; i < buckets.length; i++) expect(buckets[i][1]).toBeGreaterThanOrEqual(buckets[i - 1][1]);
        expect(buckets[buckets.length - 1][1]).toBe(count);
      }
    }
    // The read above is in one of the latency series, under its route pattern.
    expect(s.histogramSeries('cage_http_request_duration_seconds').some((x) => x.labels.route === OBJECT_ROUTE && x.count > 0)).toBe(true);
  });

  it('should not put a team, a job, a dataset or an object key in any label value', async () => {
    // Keys that would stand out if a URL or a key leaked into a label.
    await read('train/café.txt');
    await read('train/no-such-object-8c1f.bin');
    await read('train/scan-1.raw', f.beta.token);
    await rawRequest(
      f.gateway.sandboxUrl,
      'GET',
      '/v1/datasets/ct/objects/train/annotations.csv?x=secret-query-7d2e',
      bearer(f.alpha.token),
    );
    await rawRequest(f.gateway.controlUrl, 'GET', '/no/such/route/5b9a');
    const values = (await scrape()).labelValues();
    expect(values.length).toBeGreaterThan(50);
    const forbidden = [DATASET, 'alpha', 'beta', f.alpha.jobId, f.beta.jobId, ...f.objects.keys()].map((v) => v.toLowerCase());
    for (const v of values) {
      expect(forbidden).not.toContain(v.toLowerCase());
      for (const needle of ['annotations', 'scan-1', 'caf', 'no-such-object', 'secret-query', '5b9a', f.alpha.jobId, f.beta.jobId])
        expect(v).not.toContain(needle);
    }
    expect(values).toContain(OBJECT_ROUTE);
    expect(values).toContain('(unmatched)');
  });

  it('reports the leaves no signed checkpoint covers yet', async () => {
    await f.gateway.get(Checkpointer).checkpoint();
    expect((await scrape()).value('cage_audit_checkpoint_lag_leaves')).toBe(0);
    await read('train/annotations.csv');
    await read('labels/test_annotations.csv');
    expect((await scrape()).value('cage_audit_checkpoint_lag_leaves')).toBe(2);
    await f.gateway.get(Checkpointer).checkpoint();
    expect((await scrape()).value('cage_audit_checkpoint_lag_leaves')).toBe(0);
  });

  it('counts object store and database failures', async () => {
    const before = await scrape();
    failStore = true;
    try {
      expect((await read('train/scan-1.mhd')).status).toBe(503);
    } finally {
      failStore = false;
    }
    // The audit table refuses leaves: the commit fails with a statement error (and nothing is served).
    await f.db.query('ALTER TABLE audit_leaves ADD CONSTRAINT refuse_all CHECK (false) NOT VALID');
    try {
      expect((await read('train/annotations.csv')).status).toBe(503);
    } finally {
      await f.db.query('ALTER TABLE audit_leaves DROP CONSTRAINT refuse_all');
    }
    const after = await scrape();
    expect(
      after.value('cage_store_errors_total', { operation: 'get' }) - before.value('cage_store_errors_total', { operation: 'get' }),
    ).toBe(1);
    expect(
      after.value('cage_database_errors_total', { reason: 'statement' }) -
        before.value('cage_database_errors_total', { reason: 'statement' }),
    ).toBeGreaterThanOrEqual(1);
    expect(after.value('cage_database_errors_total', { reason: 'unavailable' })).toBe(
      before.value('cage_database_errors_total', { reason: 'unavailable' }),
    );
  });

  it('serves the default process metrics on the same registry', async () => {
    const s = await scrape();
    expect(s.families.has('process_cpu_seconds_total')).toBe(true);
    expect(s.families.has('nodejs_eventloop_lag_seconds')).toBe(true);
  });

  it('should not serve metrics on the sandbox listener, to a job or to anyone', async () => {
    for (const headers of [{}, bearer(SCRAPE_TOKEN), bearer(f.alpha.token)]) {
      const r = await rawRequest(f.gateway.sandboxUrl, 'GET', '/metrics', headers);
      // Paths the REST API does not claim belong to the S3 API, which wants a signature first.
      expect(r.status).toBe(403);
      expect(r.body.toString()).not.toContain('cage_');
      expect(r.body.toString()).not.toContain('# HELP');
    }
    // Signed, it is an S3 listing of a bucket named "metrics": there is none.
    const signed = await new SigV4TestClient(f.gateway.sandboxUrl, f.alpha).send({ method: 'GET', path: '/metrics', date: new Date() });
    expect(signed.status).toBe(404);
    expect(signed.body.toString()).toContain('<Code>NoSuchBucket</Code>');
    expect(signed.body.toString()).not.toContain('cage_');
  });

  it('lets in the scrape token, organizers and auditors; refuses no token, a wrong token and a contestant', async () => {
    const get = (headers: Record<string, string>) => rawRequest(f.gateway.controlUrl, 'GET', '/metrics', headers);
    expect((await get({})).status).toBe(401);
    expect((await get(bearer('scrape-wrong-456789abcdef0123456789abcdef'))).status).toBe(401);
    expect((await get(bearer(f.alpha.token))).status).toBe(401);
    expect((await get({ authorization: `Basic ${Buffer.from(`x:${SCRAPE_TOKEN}`).toString('base64')}` })).status).toBe(401);
    const contestant = await get(bearer(f.contestantToken));
    expect(contestant.status).toBe(403);
    expect(contestant.body.toString()).not.toContain('cage_');
    for (const token of [SCRAPE_TOKEN, f.organizerToken, f.auditorToken]) {
      const r = await get(bearer(token));
      expect(r.status).toBe(200);
      expect(r.body.toString()).toContain('# TYPE cage_http_requests_total counter');
    }
  });

  it('the sample Grafana dashboard uses only metric names the gateway exports, and shows every one', async () => {
    const s = await scrape();
    const exported = new Set([...s.families.keys()]);
    const dashboard = JSON.parse(readFileSync(join(__dirname, '..', 'deploy', 'grafana', 'cage-dashboard.json'), 'utf8')) as unknown;
    const exprs = collectExprs(dashboard);
    expect(exprs.length).toBeGreaterThanOrEqual(10);
    const used = new Set(
      exprs.flatMap((e) =>
        [...e.matchAll(/\b(cage_[a-z0-9_]+|process_[a-z0-9_]+|nodejs_[a-z0-9_]+)\b/g)].map((m) => familyOf(m[1], exported)),
      ),
    );
    for (const name of used) expect({ name, exported: exported.has(name) }).toEqual({ name, exported: true });
    const ours = [...exported].filter((n) => n.startsWith('cage_')).sort();
    expect(ours.filter((n) => !used.has(n))).toEqual([]);
  });
});

describe('Prometheus metrics configured public', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await startFixture({ db: 'pglite', env: { CAGE_METRICS_PUBLIC: '1' } });
  });
  afterAll(async () => {
    await f?.stop();
  });

  it('serves /metrics without a credential only when CAGE_METRICS_PUBLIC=1', async () => {
    const r = await rawRequest(f.gateway.controlUrl, 'GET', '/metrics');
    expect(r.status).toBe(200);
    expect(new Scrape(r.body.toString()).families.has('cage_policy_decisions_total')).toBe(true);
    // Still nothing on the sandbox listener.
    expect((await rawRequest(f.gateway.sandboxUrl, 'GET', '/metrics')).status).not.toBe(200);
  });
});

/** Every `expr` in a Grafana dashboard (panels, nested rows, templating queries). */
function collectExprs(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(collectExprs);
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([k, v]) => (k === 'expr' && typeof v === 'string' ? [v] : collectExprs(v)));
}

/** A histogram's series names (`_bucket`, `_sum`, `_count`) belong to its family. */
function familyOf(series: string, exported: Set<string>): string {
  if (exported.has(series)) return series;
  const base = series.replace(/_(bucket|sum|count)$/, '');
  return exported.has(base) ? base : series;
}
