import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '../src/audit/audit-log.service';
import { AuditRepository } from '../src/audit/audit.repository';
import { CHECKPOINT_BUCKET, Checkpointer } from '../src/audit/checkpointer.service';
import { TokenService } from '../src/auth/token.service';
import { loadConfig } from '../src/config/config';
import { DatasetRepository } from '../src/datasets/dataset.repository';
import { TeamRepository } from '../src/teams/team.repository';
import { PostgresDatabase } from '../src/db/postgres.database';
import { Replica } from '../src/db/replica';
import { OUTBOX_BUCKET, QUARANTINE_BUCKET } from '../src/egress/egress-release';
import { EgressRepository } from '../src/egress/egress.repository';
import { OutboxReconciler } from '../src/egress/outbox-reconciler';
import { Gateway } from '../src/gateway';
import { IngestRunRepository } from '../src/ingest/ingest-run.repository';
import { PolicyStore } from '../src/policy/policy-store';
import { readPolicyDir } from '../src/policy/policy-files';
import { ObjectNotFoundError, ObjectStore } from '../src/storage/object-store.service';
import { EmbeddedS3 } from '../src/storage/embedded-s3';
import { POSTGRES_URL } from './support/backends';
import { POLICY_DIR } from './support/fixture';

/*
 * Scale-out (issue 14): several replicas of the gateway on one PostgreSQL and one S3 service.
 * Each replica here has its own pool, data directory and listeners, as separate processes would;
 * they share the database schema, the store and the signing key.
 */
const describeWithPostgres = POSTGRES_URL === undefined ? describe.skip : describe;

interface Cluster {
  schema: string;
  s3: EmbeddedS3;
  s3Dir: string;
  policyDir: string;
  signingKey: string;
  replicas: Gateway[];
  start(): Promise<Gateway>;
  drop(): Promise<void>;
}

async function cluster(): Promise<Cluster> {
  const schema = `cage_scale_${randomBytes(6).toString('hex')}`;
  const s3Dir = mkdtempSync(join(tmpdir(), 'cage-scale-s3-'));
  const s3 = await EmbeddedS3.start(s3Dir);
  const policyDir = mkdtempSync(join(tmpdir(), 'cage-scale-policies-'));
  cpSync(POLICY_DIR, policyDir, { recursive: true });
  const signingKey = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const c: Cluster = {
    schema,
    s3,
    s3Dir,
    policyDir,
    signingKey,
    replicas: [],
    async start() {
      const env = {
        CAGE_DATA_DIR: mkdtempSync(join(tmpdir(), 'cage-replica-')),
        CAGE_CONTROL_PORT: '0',
        CAGE_SANDBOX_PORT: '0',
        CAGE_DEMO: '0',
        CAGE_POLICY_DIR: policyDir,
        CAGE_SIGNING_KEY: signingKey,
        CAGE_S3_ENDPOINT: c.s3.endpoint,
        CAGE_S3_ACCESS_KEY_ID: 'S3RVER',
        CAGE_S3_SECRET_ACCESS_KEY: 'S3RVER',
      };
      const db = await PostgresDatabase.open(POSTGRES_URL!, schema);
      const g = await Gateway.start(loadConfig(env), { logger: false, db });
      c.replicas.push(g);
      return g;
    },
    async drop() {
      for (const g of c.replicas) await g.stop().catch(() => undefined);
      await c.s3.stop().catch(() => undefined);
      const admin = await PostgresDatabase.open(POSTGRES_URL!);
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.close();
    },
  };
  return c;
}

const actions = async (g: Gateway, action: string) => g.get(AuditRepository).find({ action, limit: 1000 });
const meta = { requestId: 'scale-out-test', listener: 'internal' as const };

describeWithPostgres('replicas started together on an empty database', () => {
  let c: Cluster;
  beforeAll(async () => {
    c = await cluster();
  });
  afterAll(async () => {
    await c?.drop();
  });

  it('should not fail any of three replicas, nor store the first policy set or its leaf more than once', async () => {
    const started = await Promise.allSettled([c.start(), c.start(), c.start()]);
    expect(started.map((s) => (s.status === 'rejected' ? String(s.reason) : s.status))).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    const [a, b, d] = c.replicas;
    expect((await a.get(PolicyStore).versions()).map((v) => v.version)).toEqual([1]);
    expect(await actions(a, 'policy.activate')).toHaveLength(1);
    for (const g of [a, b, d]) expect(g.get(PolicyStore).engine.active.version).toBe(1);
    const ready = await Promise.all(c.replicas.map((g) => fetch(`${g.controlUrl}/readyz`).then((r) => r.status)));
    expect(ready).toEqual([200, 200, 200]);
  });

  it('serializes concurrent activations: one takes effect, the others get 409, and every replica follows within 1.5 s', async () => {
    const [a] = c.replicas;
    const before = (await actions(a, 'policy.activate')).length;
    const base = readPolicyDir(c.policyDir);
    const token = await a.get(TokenService).issueUser('org', 'organizer', null, 3600);
    const answers = await Promise.all(
      c.replicas.map((g, i) =>
        fetch(`${g.controlUrl}/v1/policy`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ files: { ...base, 'data-plane.cedar': `${base['data-plane.cedar']}\n// variant ${i}\n` } }),
        }),
      ),
    );
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 409, 409]);
    const refused = (await answers.find((r) => r.status === 409)!.json()) as { message: string };
    expect(refused.message).toMatch(/activated meanwhile by user:org/);
    expect((await actions(a, 'policy.activate')).length).toBe(before + 1);
    const t0 = Date.now();
    while (c.replicas.some((g) => g.get(PolicyStore).engine.active.version !== 2) && Date.now() - t0 < 1500)
      await new Promise((r) => setTimeout(r, 20));
    process.stdout.write(`policy activation seen by every replica after ${Date.now() - t0} ms\n`);
    expect(c.replicas.map((g) => g.get(PolicyStore).engine.active.version)).toEqual([2, 2, 2]);
  });

  it('converges replicas whose watchers see the same new files on one version and one leaf', async () => {
    const [a] = c.replicas;
    const before = (await actions(a, 'policy.activate')).length;
    const latest = (await a.get(PolicyStore).versions())[0].version;
    const map = readPolicyDir(c.policyDir);
    map['review.cedar'] = `${map['review.cedar']}\n// config map update\n`;
    const versions = await Promise.all(c.replicas.map((g) => g.get(PolicyStore).activate(map, 'policy-dir', meta, {}, 'converge')));
    expect(new Set(versions.map((v) => v.version))).toEqual(new Set([latest + 1]));
    expect((await actions(a, 'policy.activate')).length).toBe(before + 1);
  });
});

describeWithPostgres('work a replica owns', () => {
  let c: Cluster;
  let a: Gateway;
  let b: Gateway;
  beforeAll(async () => {
    c = await cluster();
    a = await c.start();
    b = await c.start();
    const now = new Date();
    await a.get(TeamRepository).insert({ id: 'team-a', name: 'Team A' }, now, 'test');
    await a
      .get(DatasetRepository)
      .insert(
        { id: 'ct', bucket: 'cage-scale-data', prefix: 'ct/', title: 'ct', splits: [{ name: 'train', kind: 'train', prefix: 'train/' }] },
        now,
        'test',
      );
  });
  afterAll(async () => {
    await c?.drop();
  });

  /** A release replica `g` is carrying out: its leaf durable, its outbox object written, its row still `releasing`. */
  async function releaseUnderWay(g: Gateway): Promise<{ id: string; key: string }> {
    const id = `art-${randomBytes(4).toString('hex')}`;
    const key = `team-a/${id}.json`;
    const bytes = Buffer.from(`{"artifact":"${id}"}\n`);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const repo = g.get(EgressRepository);
    await repo.insert(repo.database, {
      id,
      team: 'team-a',
      jobId: 'job-1',
      kind: 'metrics',
      status: 'releasing',
      day: new Date().toISOString().slice(0, 10),
      submittedSha256: sha256,
      submittedBytes: bytes.length,
      sha256,
      bytes: bytes.length,
      bits: 8,
      reasons: [],
      outboxKey: key,
      createdAt: new Date().toISOString(),
    });
    await repo.setAuditIndex(id, 0);
    await g.get(ObjectStore).put(OUTBOX_BUCKET, key, bytes);
    return { id, key };
  }

  it("should not let a restarting replica fail, quarantine or complete a live replica's release", async () => {
    const { id, key } = await releaseUnderWay(a);
    const failsBefore = (await actions(a, 'egress.fail')).length;
    const report = await b.get(OutboxReconciler).reconcile();
    expect(report).toEqual({ failed: [], completed: [], quarantined: [] });
    expect((await a.get(EgressRepository).get(id))?.status).toBe('releasing');
    expect((await a.get(ObjectStore).getBuffer(OUTBOX_BUCKET, key, 1000)).length).toBeGreaterThan(0);
    expect(await actions(a, 'egress.fail')).toHaveLength(failsBefore);
    // A replica starting now reconciles at start-up too, and leaves it alone as well.
    const d = await c.start();
    expect((await d.get(EgressRepository).get(id))?.status).toBe('releasing');
  });

  it('reconciles a release once its replica is gone (its liveness lock released with its session)', async () => {
    const g = await c.start();
    const { id } = await releaseUnderWay(g);
    await g.get(Replica).leave(); // what a kill -9 does to its session
    const report = await b.get(OutboxReconciler).reconcile();
    expect(report.completed).toEqual([id]);
    expect((await b.get(EgressRepository).get(id))?.status).toBe('released');
  });

  it("should not mark a live replica's ingest run interrupted when another replica starts", async () => {
    const run = `run-${randomBytes(4).toString('hex')}`;
    const mine = a.get(IngestRunRepository);
    await mine.insert({
      id: run,
      dataset: 'ct',
      source: '/nowhere',
      target: 'train',
      state: 'running',
      filesTotal: 0,
      filesDone: 0,
      filesWritten: 0,
      filesSkipped: 0,
      filesRefused: 0,
      bytesWritten: 0,
      summary: null,
      startedAt: new Date().toISOString(),
      startedBy: 'user:org',
      finishedAt: null,
      error: null,
    });
    await c.start();
    expect((await mine.get(run))?.state).toBe('running');
    await a.get(Replica).leave();
    await c.start();
    expect((await mine.get(run))?.state).toBe('interrupted');
  });
});

describeWithPostgres('the store and the outbox under faults', () => {
  let c: Cluster;
  beforeAll(async () => {
    c = await cluster();
  });
  afterAll(async () => {
    await c?.drop();
  });

  it('should not refuse to start over an outbox object whose write a kill -9 cut short: it is quarantined, with a leaf', async () => {
    const a = await c.start();
    await a.get(ObjectStore).put(OUTBOX_BUCKET, 'orphan/broken.json', Buffer.from('{"cut":'));
    // What a kill -9 mid-write leaves in the embedded store: the object's metadata cut short,
    // after which the store fails every listing of the bucket.
    const dir = join(c.s3Dir, OUTBOX_BUCKET, 'orphan');
    for (const f of readdirSync(dir)) if (f.endsWith('metadata.json')) writeFileSync(join(dir, f), '{"content-ty');
    await expect(a.get(ObjectStore).list(OUTBOX_BUCKET, '', undefined, 10)).rejects.toThrow();
    // The store's process goes with the gateway's; both come back.
    const port = Number(new URL(c.s3.endpoint).port);
    await c.s3.stop();
    c.s3 = await EmbeddedS3.start(c.s3Dir, port);
    const b = await c.start();
    const leaves = await actions(b, 'egress.quarantine');
    expect(leaves.map((l) => l.leaf.resource)).toContainEqual({
      type: 'outbox-object',
      keyHex: Buffer.from('orphan/broken.json').toString('hex'),
    });
    await expect(b.get(ObjectStore).getBuffer(OUTBOX_BUCKET, 'orphan/broken.json', 1000)).rejects.toBeInstanceOf(ObjectNotFoundError);
    expect((await b.get(ObjectStore).getBuffer(QUARANTINE_BUCKET, 'orphan/broken.json', 1000)).toString()).toBe('{"cut":');
  });

  it('copies a checkpoint signed while the store was down once the store is back, under a prefix naming its log', async () => {
    const a = c.replicas[0] ?? (await c.start());
    const checkpointer = a.get(Checkpointer);
    expect(checkpointer.copyPrefix).toMatch(/^cage\.local_audit\/[0-9a-f-]{36}\/$/);
    const port = Number(new URL(c.s3.endpoint).port);
    await c.s3.stop();
    await a.get(AuditLog).record(meta, { principal: 'gateway', team: null, action: 'test.store-down', decision: 'info' });
    await checkpointer.checkpoint(); // signed in the database; the copy fails
    const latest = (await checkpointer.latest())!;
    c.s3 = await EmbeddedS3.start(c.s3Dir, port);
    await checkpointer.checkpoint();
    const copy = await a
      .get(ObjectStore)
      .getBuffer(CHECKPOINT_BUCKET, `${checkpointer.copyPrefix}${String(latest.size).padStart(16, '0')}.checkpoint`, 10_000);
    expect(copy.toString()).toBe(latest.note);
  });
});
