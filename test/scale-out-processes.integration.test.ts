import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AuditLeaf } from '../src/audit/audit-leaf';
import { verifyExport } from '../src/audit/verify/offline-verifier';
import { PostgresDatabase } from '../src/db/postgres.database';
import { type Bootstrap, readBootstrap } from '../src/demo/bootstrap-file';
import { DEMO_DATASET } from '../src/demo/demo-seeder';
import { readPolicyDir } from '../src/policy/policy-files';
import { HELD_BUCKET, OUTBOX_BUCKET, QUARANTINE_BUCKET } from '../src/egress/egress-release';
import { EmbeddedS3 } from '../src/storage/embedded-s3';
import { ObjectStore } from '../src/storage/object-store.service';
import { EXTERNAL_S3, POSTGRES_URL } from './support/backends';
import { faultProxy } from '../src/bench/fault-proxy';
import { POLICY_DIR } from './support/fixture';

/*
 * Issue 14's multi-replica suite: three gateway processes (dist/main.js, as a pod runs it) on one
 * PostgreSQL database and one S3 store, started at the same moment on an empty database; reads,
 * refusals and egress across all three; one replica killed with SIGKILL mid-load and restarted;
 * the store unreachable for three seconds; then the log exported and verified offline.
 *
 * The store is the CI's Ceph RGW (CAGE_TEST_S3_ENDPOINT), else an s3rver of this suite's own,
 * behind a proxy that can cut it off (the proxy is the "store stopped"). The gateway's outbox and
 * quarantine buckets have fixed names, and earlier suites leave their released artifacts in them:
 * they are emptied first, as a fresh deployment's store would be (else the replicas' reconcilers
 * would rightly quarantine other logs' objects as "no release leaf here").
 */
const describeWithPostgres = POSTGRES_URL === undefined ? describe.skip : describe;
const MAIN = join(__dirname, '..', 'dist', 'main.js');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface ReplicaProcess {
  env: Record<string, string>;
  controlUrl: string;
  sandboxUrl: string;
  child: ChildProcess;
  output: string;
  exited: Promise<number | null>;
}

/** What a contestant's or organizer's client saw: status and the request id the gateway gave it. */
interface Observed {
  replica: number;
  what: 'read' | 'refused-read' | 'egress';
  status: number;
  requestId: string | undefined;
}

/** A replica process on ports of its choosing (0): its URLs are read from its "listening" log line. */
function launch(r: Pick<ReplicaProcess, 'env'>): ReplicaProcess {
  const child = spawn(process.execPath, ['--no-turbo-inline-js-wasm-calls', MAIN], {
    env: { PATH: process.env.PATH ?? '', ...r.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const p: ReplicaProcess = {
    ...r,
    controlUrl: '',
    sandboxUrl: '',
    child,
    output: '',
    exited: new Promise((res) => child.on('exit', (code) => res(code))),
  };
  const take = (c: Buffer) => {
    p.output = (p.output + c.toString()).slice(-65_536);
    const line = /\{[^\n]*"message":"cage gateway listening"[^\n]*\}/.exec(p.output)?.[0];
    if (line !== undefined && p.controlUrl === '') {
      const listening = JSON.parse(line) as { control: string; sandbox: string };
      [p.controlUrl, p.sandboxUrl] = [listening.control, listening.sandbox];
    }
  };
  child.stdout?.on('data', take);
  child.stderr?.on('data', take);
  return p;
}

async function ready(p: ReplicaProcess, timeoutMs = 90_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let exited = false;
  void p.exited.then(() => (exited = true));
  while (Date.now() < until) {
    if (exited) throw new Error(`a replica exited during start-up:\n${p.output.slice(-4000)}`);
    const status =
      p.controlUrl === ''
        ? 0
        : await fetch(`${p.controlUrl}/readyz`).then(
            (r) => r.status,
            () => 0,
          );
    if (status === 200) return;
    await sleep(100);
  }
  throw new Error(`a replica did not become ready:\n${p.output.slice(-4000)}`);
}

describeWithPostgres('three gateway processes on one PostgreSQL and one store', () => {
  const database = `cage_replicas_${randomBytes(5).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'cage-replicas-'));
  let store: EmbeddedS3 | undefined;
  let storeDown = false;
  let s3Credentials: { accessKeyId: string; secretAccessKey: string; region: string };
  let proxy: { url: string; server: import('node:http').Server };
  const replicas: ReplicaProcess[] = [];
  let boot: Bootstrap;
  const observed: Observed[] = [];

  const auth = (token: string) => ({ authorization: `Bearer ${token}` });
  const control = (i: number, path: string, init: RequestInit = {}, token = boot.organizerToken) =>
    fetch(`${replicas[i].controlUrl}${path}`, { ...init, headers: { ...auth(token), ...(init.headers as Record<string, string>) } });

  beforeAll(async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build (npm test does)`);
    const admin = await PostgresDatabase.open(POSTGRES_URL!);
    await admin.query(`CREATE DATABASE ${database}`);
    await admin.close();
    const s3 =
      EXTERNAL_S3 ??
      (await (async () => {
        store = await EmbeddedS3.start(join(dir, 's3'));
        return { endpoint: store.endpoint, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', region: 'us-east-1' };
      })());
    const direct = new ObjectStore({ ...s3, forcePathStyle: true, timeoutMs: 10_000 });
    for (const bucket of [OUTBOX_BUCKET, HELD_BUCKET, QUARANTINE_BUCKET]) {
      await direct.ensureBucket(bucket);
      for (
        let page = await direct.list(bucket, '', undefined, 1000);
        page.objects.length > 0;
        page = await direct.list(bucket, '', undefined, 1000)
      )
        for (const o of page.objects) await direct.delete(bucket, o.key);
    }
    direct.destroy();
    proxy = await faultProxy(s3.endpoint, () => (storeDown ? 'refuse' : undefined));
    s3Credentials = s3;
    const signingKey = join(dir, 'signing-key.pem');
    writeFileSync(signingKey, generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), {
      mode: 0o600,
    });
    const pseudonymKey = join(dir, 'pseudonym-key');
    writeFileSync(pseudonymKey, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    const policies = join(dir, 'policies');
    cpSync(POLICY_DIR, policies, { recursive: true });
    const url = new URL(POSTGRES_URL!);
    url.pathname = `/${database}`;
    for (let i = 0; i < 3; i++) {
      replicas.push(
        launch({
          env: {
            CAGE_DATA_DIR: join(dir, `replica-${i}`),
            CAGE_CONTROL_PORT: '0',
            CAGE_SANDBOX_PORT: '0',
            CAGE_DATABASE_URL: url.toString(),
            CAGE_S3_ENDPOINT: proxy.url,
            CAGE_S3_ACCESS_KEY_ID: s3Credentials.accessKeyId,
            CAGE_S3_SECRET_ACCESS_KEY: s3Credentials.secretAccessKey,
            CAGE_S3_REGION: s3Credentials.region,
            CAGE_S3_FORCE_PATH_STYLE: '1',
            CAGE_S3_TIMEOUT_MS: '2000',
            CAGE_SIGNING_KEY_FILE: signingKey,
            CAGE_PSEUDONYM_KEY_FILE: pseudonymKey,
            CAGE_POLICY_DIR: policies,
            CAGE_DEMO: '1',
            CAGE_CHECKPOINT_EVERY_SECONDS: '1',
            CAGE_LOG_LEVEL: 'info',
            CAGE_LOG_FORMAT: 'json',
          },
        }),
      );
    }
    // Started at the same moment; all three must come up.
    await Promise.all(replicas.map((r) => ready(r)));
    const found = replicas.map((r) => readBootstrap(r.env.CAGE_DATA_DIR)).filter((b) => b !== undefined);
    expect(found).toHaveLength(1); // the first start's credentials, written once
    boot = found[0]!;
  }, 180_000);

  afterAll(async () => {
    for (const r of replicas) r.child.kill('SIGTERM');
    await Promise.all(replicas.map((r) => Promise.race([r.exited, new Promise((res) => setTimeout(res, 15_000).unref())])));
    proxy?.server.closeAllConnections();
    proxy?.server.close();
    await store?.stop();
    const admin = await PostgresDatabase.open(POSTGRES_URL!);
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.close();
  });

  it('survives load, a SIGKILL and a store outage with every request one leaf and a log that verifies offline', async () => {
    const job = boot.demoJob!;
    const list = await fetch(`${replicas[0].sandboxUrl}/v1/datasets/${DEMO_DATASET}/objects?prefix=train/&limit=20`, {
      headers: auth(job.token),
    });
    expect(list.status).toBe(200);
    const keys = ((await list.json()) as { objects: { key: string }[] }).objects.map((o) => o.key);
    expect(keys.length).toBeGreaterThan(0);

    // Load runs until the chaos is over, and a little longer.
    let loadUntil = Infinity;
    let killed: number | undefined;
    const record = (replica: number, what: Observed['what'], r: Response) =>
      observed.push({ replica, what, status: r.status, requestId: r.headers.get('x-request-id') ?? undefined });

    const reader = async (w: number) => {
      for (let n = 0; Date.now() < loadUntil; n++) {
        const i = (w + n) % 3;
        const refused = n % 4 === 3;
        const key = refused ? 'labels/test_annotations.csv' : keys[n % keys.length];
        try {
          const r = await fetch(`${replicas[i].sandboxUrl}/v1/datasets/${DEMO_DATASET}/objects/${encodeURI(key)}`, {
            headers: auth(job.token),
          });
          await r.arrayBuffer();
          record(i, refused ? 'refused-read' : 'read', r);
        } catch {
          // The killed replica's connections: no answer, nothing to count.
        }
      }
    };
    const submitter = async () => {
      for (let n = 0; Date.now() < loadUntil; n++) {
        const i = n % 3;
        try {
          const r = await fetch(`${replicas[i].sandboxUrl}/v1/egress/metrics`, {
            method: 'POST',
            headers: { ...auth(job.token), 'content-type': 'application/json' },
            body: JSON.stringify({ n: 100 + n, metrics: { auc: 0.5 + (n % 40) / 100 } }),
          });
          await r.arrayBuffer();
          record(i, 'egress', r);
        } catch {
          // as above
        }
        await sleep(700); // under the per-job rate (2/s): no throttled attempts, whose leaves are counted per second
      }
    };
    const chaos = async () => {
      await sleep(2000);
      killed = 1;
      replicas[1].child.kill('SIGKILL');
      await replicas[1].exited;
      await sleep(1500);
      replicas[1] = launch(replicas[1]);
      await ready(replicas[1]);
      await sleep(1500);
      storeDown = true;
      await sleep(3000);
      storeDown = false;
      loadUntil = Date.now() + 2000;
    };
    await Promise.all([reader(0), reader(1), reader(2), reader(3), submitter(), chaos()]);
    expect(killed).toBe(1);
    // Nothing crashed: the store's outage is answered 503, not by a replica going down.
    for (const r of replicas)
      if (r.child.exitCode !== null) throw new Error(`a replica exited (${r.child.exitCode}):\n${r.output.slice(-4000)}`);

    const statuses = (what: Observed['what']) => [...new Set(observed.filter((o) => o.what === what).map((o) => o.status))].sort();
    process.stdout.write(
      `load: ${observed.length} answered requests; reads ${JSON.stringify(statuses('read'))}, refusals ${JSON.stringify(
        statuses('refused-read'),
      )}, egress ${JSON.stringify(statuses('egress'))}\n`,
    );
    // Served, refused (not told apart from missing), or failed closed while the store was away.
    expect(statuses('read').every((s) => s === 200 || s === 503)).toBe(true);
    expect(statuses('read')).toContain(200);
    expect(statuses('refused-read')).toEqual([404]);
    expect(statuses('egress').every((s) => s === 201 || s === 503)).toBe(true);
    expect(observed.filter((o) => o.status === 503).length).toBeGreaterThan(0); // the outage was felt

    // Let checkpoints catch up, then export the log as a compliance officer does.
    await sleep(2500);
    const cps = (await (await control(0, '/v1/audit/checkpoints', {}, boot.auditorToken)).json()) as {
      checkpoints: { size: number; note: string }[];
    };
    const latest = cps.checkpoints[0];
    const exported = await (await control(2, `/v1/audit/export?format=jsonl&to=${latest.size}`, {}, boot.auditorToken)).text();
    const hashes = await (await control(1, `/v1/audit/leaf-hashes?to=${latest.size}`, {}, boot.auditorToken)).text();
    const keyList = (await (await control(0, '/v1/audit/checkpoint/keys', {}, boot.auditorToken)).json()) as {
      keys: { verifierKey: string }[];
    };
    const lines = exported
      .split('\n')
      .slice(0, -1)
      .map((l) => Buffer.from(l));
    expect(lines).toHaveLength(latest.size);
    const leafHashes = new Map(
      hashes
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/))
        .map(([i, h]) => [Number(i), h] as [number, string]),
    );
    const verdict = verifyExport(
      { lines, leafHashes, checkpoints: cps.checkpoints.map((c) => c.note) },
      keyList.keys.map((k) => k.verifierKey),
    );
    expect(verdict).toEqual(expect.objectContaining({ ok: true, size: latest.size }));
    // Every replica serves the same checkpoints.
    for (const i of [1, 2]) {
      const other = (await (await control(i, '/v1/audit/checkpoints', {}, boot.auditorToken)).json()) as typeof cps;
      const common = other.checkpoints.filter((c) => c.size <= latest.size);
      expect(common).toEqual(cps.checkpoints.filter((c) => c.size <= common[0].size));
    }

    // Every answered request is exactly one decision leaf (its request id). A release the store
    // refused after its leaf was durable adds the leaf that says so (egress.fail, naming the
    // release's index): logged before release, and never left looking released.
    const leaves = lines.map((l) => JSON.parse(l.toString()) as AuditLeaf);
    const byRequest = new Map<string, number>();
    leaves.forEach((l) => {
      const failedRelease = l.action === 'egress.fail' && leaves[Number(l.detail?.releaseIndex)]?.requestId === l.requestId;
      if (!failedRelease) byRequest.set(l.requestId, (byRequest.get(l.requestId) ?? 0) + 1);
    });
    const wrong = observed
      .filter((o) => byRequest.get(o.requestId ?? '') !== 1)
      .map((o) => ({ ...o, leaves: leaves.filter((l) => l.requestId === o.requestId).map((l) => `${l.action}:${l.decision}`) }));
    expect(wrong).toEqual([]);

    // The first start happened once: one policy version from the directory, one demo seeded.
    expect(leaves.filter((l) => l.action === 'policy.activate')).toHaveLength(1);
    expect(leaves.filter((l) => l.action === 'dataset.register')).toHaveLength(1);

    // No false fail or quarantine: a failed release never reached the outbox; every released
    // artifact's content is served, byte for byte what its leaf names.
    expect(leaves.filter((l) => l.action === 'egress.quarantine')).toEqual([]);
    const artifacts = (await (await control(0, '/v1/egress?limit=1000')).json()) as {
      artifacts: { id: string; status: string; sha256: string | null }[];
    };
    const released = artifacts.artifacts.filter((a) => a.status === 'released');
    expect(released.length).toBeGreaterThan(0);
    for (const a of released) {
      const content = await control(a.id.length % 3, `/v1/egress/${a.id}/content`);
      expect(content.status).toBe(200);
      expect(
        createHash('sha256')
          .update(Buffer.from(await content.arrayBuffer()))
          .digest('hex'),
      ).toBe(a.sha256);
    }
    for (const fail of leaves.filter((l) => l.action === 'egress.fail')) {
      const id = fail.resource?.id;
      expect(artifacts.artifacts.find((a) => a.id === id)?.status).toBe('failed');
    }
  }, 240_000);

  it('revokes a job on every replica within 1 s, and activates a policy set on every replica within 1 s', async () => {
    const created = await control(0, '/v1/jobs', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ team: 'demo', ttlSeconds: 3600 }),
    });
    expect(created.status).toBe(201);
    const job = (await created.json()) as { jobId: string; token: string };
    const reads = (i: number) =>
      fetch(`${replicas[i].sandboxUrl}/v1/datasets/${DEMO_DATASET}/objects?limit=1`, { headers: auth(job.token) }).then((r) => r.status);
    expect(await Promise.all([0, 1, 2].map(reads))).toEqual([200, 200, 200]);
    const revokedAt = Date.now();
    expect((await control(2, `/v1/jobs/${job.jobId}/revoke`, { method: 'POST' })).status).toBe(200);
    const seen = await Promise.all(
      [0, 1, 2].map(async (i) => {
        while ((await reads(i)) === 200) await sleep(20);
        return Date.now() - revokedAt;
      }),
    );
    process.stdout.write(`job revocation seen by the replicas after ${seen.join(', ')} ms\n`);
    expect(Math.max(...seen)).toBeLessThanOrEqual(1000);

    const files = readPolicyDir(POLICY_DIR);
    files['review.cedar'] = `${files['review.cedar']}\n// activated on one replica\n`;
    const before = ((await (await control(0, '/v1/policy')).json()) as { version: number }).version;
    const activatedAt = Date.now();
    const activated = await control(1, '/v1/policy', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ files }),
    });
    expect(activated.status).toBe(201);
    const followed = await Promise.all(
      [0, 1, 2].map(async (i) => {
        while (((await (await control(i, '/v1/policy')).json()) as { version: number }).version !== before + 1) await sleep(20);
        return Date.now() - activatedAt;
      }),
    );
    process.stdout.write(`policy activation seen by the replicas after ${followed.join(', ')} ms\n`);
    expect(Math.max(...followed)).toBeLessThanOrEqual(1000);
  }, 60_000);
});
