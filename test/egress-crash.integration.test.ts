import { mkdtempSync, rmSync } from 'node:fs';
import { type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/config';
import { OUTBOX_BUCKET, QUARANTINE_BUCKET } from '../src/egress/egress-release';
import { Gateway } from '../src/gateway';
import { EmbeddedS3 } from '../src/storage/embedded-s3';
import { DB_KINDS } from './support/backends';
import { postEgress, predictions } from './support/egress';
import { faultProxy } from '../src/bench/fault-proxy';
import { type Fixture, POLICY_DIR, startFixture, TestClock } from './support/fixture';
import { bearer, rawRequest } from './support/http';
import { AuditLog } from '../src/audit/audit-log.service';
import { AuditRepository } from '../src/audit/audit.repository';
import { EgressService } from '../src/egress/egress.service';
import { EgressReceiptsService } from '../src/egress/egress-receipts.service';
import { EgressRepository } from '../src/egress/egress.repository';
import { ObjectStore } from '../src/storage/object-store.service';
import { TeamRepository } from '../src/teams/team.repository';
import { contestantToken } from './support/tokens';

const METRICS = '{"n": 40, "metrics": {"auc": 0.9}}';
const outboxKeys = async (g: Gateway) => (await g.get(ObjectStore).list(OUTBOX_BUCKET, '', undefined, 1000)).objects.map((o) => o.key);

describe('an outbox write that fails', () => {
  const clock = new TestClock();
  let s3: EmbeddedS3;
  let proxy: { url: string; server: Server };
  let f: Fixture;
  let failOutbox = false;
  beforeAll(async () => {
    s3 = await EmbeddedS3.start(mkdtempSync(join(tmpdir(), 'cage-s3-')));
    proxy = await faultProxy(s3.endpoint, (req) =>
      failOutbox && req.method === 'PUT' && (req.url ?? '').startsWith(`/${OUTBOX_BUCKET}/`) ? 'fail-500' : undefined,
    );
    f = await startFixture({ db: 'pglite', s3Endpoint: proxy.url, clock });
  });
  afterAll(async () => {
    await f?.stop();
    proxy?.server.close();
    await s3?.stop();
  });

  it('answers 503, logs a failure leaf after the release leaf, marks the artifact failed, and releases nothing', async () => {
    failOutbox = true;
    const r = await postEgress(f.gateway.sandboxUrl, 'metrics', f.beta.token, METRICS, 'application/json');
    failOutbox = false;
    expect(r.status).toBe(503);
    expect(await outboxKeys(f.gateway)).toEqual([]);
    const leaves = (await f.gateway.get(AuditRepository).find({ limit: 1000 }))
      .map((l) => l.leaf)
      .filter((l) => l.requestId === r.headers['x-request-id']);
    expect(leaves.map((l) => l.action)).toEqual(['egress.release', 'egress.fail']);
    const id = leaves[0].resource!.id!;
    expect(
      (await f.gateway.get(EgressReceiptsService).get({ kind: 'user', sub: 'o', role: 'organizer', team: null }, id)).artifact.status,
    ).toBe('failed');
    // The failed artifact did not spend the day's budget.
    const budget = await f.gateway.get(EgressService).budget('beta');
    expect(budget.submissions.metrics.used).toBe(0);
    // Nor does the team see it: the job did not choose the failure, and the row would show the
    // canonical hash of content that never left.
    clock.advance(60_000);
    const person = await contestantToken(f.gateway, 'bea', 'beta', 600);
    const seen = JSON.parse((await rawRequest(f.gateway.controlUrl, 'GET', '/v1/egress', bearer(person))).body.toString()) as {
      artifacts: unknown[];
    };
    expect(seen.artifacts).toEqual([]);
    expect((await rawRequest(f.gateway.controlUrl, 'GET', `/v1/egress/${id}`, bearer(person))).status).toBe(404);
  });
});

describe.each(DB_KINDS)('audit store down during egress (%s)', (db) => {
  let f: Fixture;
  beforeAll(async () => {
    f = await startFixture({ db });
  });
  afterAll(async () => {
    await f?.stop();
  });

  it('answers 503 and puts nothing in the outbox', async () => {
    await f.db.query('ALTER TABLE audit_leaves ADD CONSTRAINT refuse_all CHECK (false) NOT VALID');
    const r = await postEgress(f.gateway.sandboxUrl, 'predictions', f.beta.token, predictions(['scan-9,1,2,3,0.5']));
    expect(r.status).toBe(503);
    expect(await outboxKeys(f.gateway)).toEqual([]);
    await f.db.query('ALTER TABLE audit_leaves DROP CONSTRAINT refuse_all');
    expect((await postEgress(f.gateway.sandboxUrl, 'predictions', f.beta.token, predictions(['scan-9,1,2,3,0.5']))).status).toBe(201);
  });
});

describe('restart after a crash between the release leaf and the outbox write', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cage-crash-'));
  const config = loadConfig({
    CAGE_DATA_DIR: dataDir,
    CAGE_CONTROL_PORT: '0',
    CAGE_SANDBOX_PORT: '0',
    CAGE_DEMO: '0',
    CAGE_POLICY_DIR: POLICY_DIR,
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('marks the half-released artifact failed with a leaf, and quarantines an outbox object without a release leaf', async () => {
    let g = await Gateway.start(config, { logger: false });
    const meta = { requestId: 'crash-test', listener: 'internal' as const };
    const now = new Date();
    await g.get(TeamRepository).insert({ id: 'beta', name: 'beta' }, now, 'test');
    // The state a crash leaves: the artifact reserved as releasing, its release leaf durable,
    // and no outbox object (the process died before the write).
    const repo = g.get(EgressRepository);
    await repo.insert(repo.database, {
      id: 'egr-crashed',
      team: 'beta',
      jobId: 'job-x',
      kind: 'metrics',
      status: 'releasing',
      day: now.toISOString().slice(0, 10),
      submittedSha256: 'a'.repeat(64),
      submittedBytes: 10,
      sha256: 'b'.repeat(64),
      bytes: 10,
      bits: 10,
      reasons: [],
      outboxKey: 'beta/metrics/egr-crashed.json',
      createdAt: now.toISOString(),
    });
    const { index } = await g.get(AuditLog).record(meta, {
      principal: 'job:job-x',
      team: 'beta',
      action: 'egress.release',
      decision: 'allow',
      resource: { type: 'artifact', id: 'egr-crashed' },
    });
    await repo.setAuditIndex('egr-crashed', index);
    // And an object someone put in the outbox behind the gateway's back.
    await g.get(ObjectStore).put(OUTBOX_BUCKET, 'beta/metrics/planted.json', '{"leak":1}');
    await g.stop();

    g = await Gateway.start(config, { logger: false });
    try {
      const org = { kind: 'user' as const, sub: 'o', role: 'organizer' as const, team: null };
      expect((await g.get(EgressReceiptsService).get(org, 'egr-crashed')).artifact.status).toBe('failed');
      const leaves = (await g.get(AuditRepository).find({ limit: 1000 })).map((l) => l.leaf);
      expect(leaves.find((l) => l.action === 'egress.fail' && l.resource?.id === 'egr-crashed')).toMatchObject({
        decision: 'error',
        detail: { reason: 'half-released at restart' },
      });
      expect(leaves.find((l) => l.action === 'egress.quarantine')).toMatchObject({
        resource: { keyHex: Buffer.from('beta/metrics/planted.json').toString('hex') },
      });
      expect(await outboxKeys(g)).toEqual([]);
      expect((await g.get(ObjectStore).getBuffer(QUARANTINE_BUCKET, 'beta/metrics/planted.json', 100)).toString()).toBe('{"leak":1}');
    } finally {
      await g.stop();
    }
  });
});
