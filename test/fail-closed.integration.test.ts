import { EmbeddedS3 } from '../src/storage/embedded-s3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DB_KINDS } from './support/backends';
import { DATASET, type Fixture, startFixture } from './support/fixture';
import { type FaultProxy, faultProxy } from '../src/bench/fault-proxy';
import { bearer, objectPath, rawRequest, type RawResponse } from './support/http';
import { SigV4TestClient } from './support/sigv4-client';
import { predictions } from './support/egress';
import { OUTBOX_BUCKET } from '../src/egress/egress-release';
import { AuditRepository } from '../src/audit/audit.repository';
import { AuditWriter } from '../src/audit/audit-writer.service';
import { DatasetRepository } from '../src/datasets/dataset.repository';
import { ObjectStore } from '../src/storage/object-store.service';

describe.each(DB_KINDS)('fail closed on %s', (db) => {
  let f: Fixture;
  const committed = new Set<string>();
  beforeEach(async () => {
    f = await startFixture({ db });
    committed.clear();
    f.gateway.get(AuditWriter).onCommitted((leaf) => committed.add(leaf.requestId));
  });
  afterEach(async () => {
    await f?.stop();
  });

  const read = () => rawRequest(f.gateway.sandboxUrl, 'GET', objectPath(DATASET, 'train/scan-1.raw'), bearer(f.alpha.token));

  it('should not serve a byte once the audit table refuses leaves, while everything else still works', async () => {
    expect((await read()).status).toBe(200);
    // The audit store alone fails: grants, jobs and datasets still read fine.
    await f.db.query('ALTER TABLE audit_leaves ADD CONSTRAINT refuse_all CHECK (false) NOT VALID');
    for (let i = 0; i < 5; i++) {
      const r = await read();
      expect(r.status).toBe(503);
      expect(JSON.parse(r.body.toString())).toMatchObject({ error: 'unavailable' });
      expect(committed.has(r.headers['x-request-id'] as string)).toBe(false);
    }
    const denied = await rawRequest(f.gateway.sandboxUrl, 'GET', objectPath(DATASET, 'labels/test_annotations.csv'), bearer(f.alpha.token));
    expect(denied.status).toBe(503);
    await f.db.query('ALTER TABLE audit_leaves DROP CONSTRAINT refuse_all');
    expect((await read()).status).toBe(200);
  });

  it('through the S3 API too: no byte read and nothing released while the audit table refuses leaves', async () => {
    const s3 = new SigV4TestClient(f.gateway.sandboxUrl, f.alpha);
    const get = () => s3.send({ method: 'GET', path: `/${DATASET}/train/scan-1.raw`, date: new Date() });
    expect((await get()).status).toBe(200);
    await f.db.query('ALTER TABLE audit_leaves ADD CONSTRAINT refuse_all CHECK (false) NOT VALID');
    const r = await get();
    expect(r.status).toBe(503);
    expect(r.body.toString()).toContain('<Code>ServiceUnavailable</Code>');
    expect(r.body.length).toBeLessThan(600);
    const outboxBefore = (await f.gateway.get(ObjectStore).list(OUTBOX_BUCKET, '', undefined, 1000)).objects.length;
    const put = await new SigV4TestClient(f.gateway.sandboxUrl, f.beta).send({
      method: 'PUT',
      path: '/outbox/predictions/p.csv',
      date: new Date(),
      body: predictions(['scan-9,1,2,3,0.5']),
    });
    expect(put.status).toBe(503);
    expect((await f.gateway.get(ObjectStore).list(OUTBOX_BUCKET, '', undefined, 1000)).objects.length).toBe(outboxBefore);
    await f.db.query('ALTER TABLE audit_leaves DROP CONSTRAINT refuse_all');
    expect((await get()).status).toBe(200);
  });

  it('serves nothing unlogged when the database stops in the middle of a read loop', async () => {
    const responses: RawResponse[] = [];
    let stop = false;
    const loop = async () => {
      while (!stop) responses.push(await read());
    };
    const loops = [loop(), loop(), loop(), loop()];
    while (responses.filter((r) => r.status === 200).length < 20) await new Promise((r) => setTimeout(r, 5));
    await f.db.close();
    const closedAt = responses.length;
    await new Promise((r) => setTimeout(r, 200));
    stop = true;
    await Promise.all(loops);

    const after = responses.slice(closedAt + 4); // requests possibly in flight at the close may still finish
    expect(after.length).toBeGreaterThan(0);
    for (const r of after) {
      expect(r.status).toBe(503);
      expect(r.body.length).toBeLessThan(300);
    }
    for (const r of responses.filter((x) => x.status === 200)) {
      expect(committed.has(r.headers['x-request-id'] as string)).toBe(true);
      expect(r.aborted).toBe(false);
    }
    const ready = await rawRequest(f.gateway.controlUrl, 'GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body.toString()).message).toContain('database unreachable');
  });
});

describe('a backend failure mid-stream', () => {
  let s3: EmbeddedS3;
  let proxy: FaultProxy;
  let stallBodies = false;
  let f: Fixture;
  beforeAll(async () => {
    s3 = await EmbeddedS3.start(mkdtempSync(join(tmpdir(), 'cage-s3-')));
    proxy = await faultProxy(
      s3.endpoint,
      (req) =>
        (req.url ?? '').includes('fail-me')
          ? 'fail-500'
          : req.method === 'GET' && (req.url ?? '').includes('cut-me')
            ? 'cut-after-64k'
            : req.method === 'GET' && (req.url ?? '').includes('hang-me')
              ? 'stall'
              : undefined,
      () => stallBodies,
    );
    f = await startFixture({ db: 'pglite', s3Endpoint: proxy.url, env: { CAGE_S3_TIMEOUT_MS: '1500' } });
    const ds = (await f.gateway.get(DatasetRepository).get(DATASET))!;
    await f.gateway.get(ObjectStore).put(ds.bucket, `${DATASET}/train/cut-me.raw`, Buffer.alloc(4 * 1024 * 1024, 7));
  });
  afterAll(async () => {
    await f?.stop();
    await proxy?.close();
    await s3?.stop();
  });

  it('should not hold a request forever when the store hangs before answering: 503 within the store timeout, logged', async () => {
    const before = await f.gateway.get(AuditRepository).size();
    const t0 = Date.now();
    const r = await rawRequest(f.gateway.sandboxUrl, 'GET', objectPath(DATASET, 'train/hang-me.raw'), bearer(f.alpha.token));
    // Two attempts of at most 1.5 s each, then 503.
    expect(r.status).toBe(503);
    expect(Date.now() - t0).toBeLessThan(6000);
    const [leaf] = await f.gateway.get(AuditRepository).find({ after: before - 1, limit: 1 });
    expect(leaf.leaf).toMatchObject({ requestId: r.headers['x-request-id'], decision: 'allow', status: 503, bytes: 0 });
    proxy.release();
  });

  it('should not hold a download forever when the store stops mid-body: cut within the store timeout, the cut logged', async () => {
    const ds = (await f.gateway.get(DatasetRepository).get(DATASET))!;
    await f.gateway.get(ObjectStore).put(ds.bucket, `${DATASET}/train/big.raw`, Buffer.alloc(32 * 1024 * 1024, 3));
    const before = await f.gateway.get(AuditRepository).size();
    const t0 = Date.now();
    const pending = rawRequest(f.gateway.sandboxUrl, 'GET', objectPath(DATASET, 'train/big.raw'), bearer(f.alpha.token));
    await new Promise((r) => setTimeout(r, 100));
    stallBodies = true;
    try {
      const r = await pending;
      expect(r.status).toBe(200);
      expect(r.aborted).toBe(true);
      expect(r.body.length).toBeLessThan(32 * 1024 * 1024);
      expect(Date.now() - t0).toBeLessThan(8000);
    } finally {
      stallBodies = false;
    }
    const leaves = (await f.gateway.get(AuditRepository).find({ after: before - 1, limit: 10 })).map((l) => l.leaf);
    expect(leaves).toEqual([
      expect.objectContaining({ action: 'read', decision: 'allow', status: 200 }),
      expect.objectContaining({ action: 'read.cut', detail: expect.objectContaining({ reason: 'object store stalled' }) }),
    ]);
  });

  it('should not give the client a short 200: the response is cut, not completed', async () => {
    const r = await rawRequest(f.gateway.sandboxUrl, 'GET', objectPath(DATASET, 'train/cut-me.raw'), bearer(f.alpha.token));
    expect(r.status).toBe(200);
    expect(Number(r.headers['content-length'])).toBe(4 * 1024 * 1024);
    expect(r.body.length).toBeLessThan(4 * 1024 * 1024);
    expect(r.aborted).toBe(true);
    // The gateway keeps serving other requests.
    expect((await rawRequest(f.gateway.sandboxUrl, 'GET', objectPath(DATASET, 'train/scan-1.mhd'), bearer(f.alpha.token))).status).toBe(
      200,
    );
  });

  it('answers 503 when the store fails after an allow, and still logs exactly one leaf for the decision', async () => {
    const before = await f.gateway.get(AuditRepository).size();
    const r = await rawRequest(f.gateway.sandboxUrl, 'GET', objectPath(DATASET, 'train/fail-me.raw'), bearer(f.alpha.token));
    expect(r.status).toBe(503);
    expect(await f.gateway.get(AuditRepository).size()).toBe(before + 1);
    const [leaf] = await f.gateway.get(AuditRepository).find({ after: before - 1, limit: 1 });
    expect(leaf.leaf).toMatchObject({ requestId: r.headers['x-request-id'], decision: 'allow', status: 503, bytes: 0 });
  });
});
