import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteBucketCommand, DeleteObjectCommand, ListBucketsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { openCheckpoint } from '../src/audit/merkle/checkpoint';
import { run } from '../src/cli/main';
import { loadConfig } from '../src/config/config';
import { PostgresDatabase } from '../src/db/postgres.database';
import { Gateway } from '../src/gateway';
import { EmbeddedS3 } from '../src/storage/embedded-s3';
import { POSTGRES_URL } from './support/backends';
import { postEgress, predictions } from './support/egress';
import { POLICY_DIR } from './support/fixture';
import { bearer, objectPath, rawRequest } from './support/http';
import { AuditWriter } from '../src/audit/audit-writer.service';
import { Checkpointer } from '../src/audit/checkpointer.service';
import { Clock } from '../src/clock/clock';
import { DatasetRepository } from '../src/datasets/dataset.repository';
import { GrantRepository } from '../src/grants/grant.repository';
import { JobService } from '../src/jobs/job.service';
import { SeriesRepository } from '../src/datasets/series.repository';
import { ObjectStore } from '../src/storage/object-store.service';
import { TeamRepository } from '../src/teams/team.repository';
import { TokenService } from '../src/auth/token.service';
import { MerkleStore } from '../src/audit/merkle-store.repository';

const SCRIPTS = join(__dirname, '..', 'scripts');
const DATASET = 'ct';
const SCAN = randomBytes(200 * 1024 + 3);

function script(
  name: 'backup' | 'restore',
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      [join(SCRIPTS, name), ...args],
      { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, maxBuffer: 16 * 1024 * 1024 },
      (err, out, errText) => {
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, out, err: errText });
      },
    );
  });
}

async function cage(g: Gateway, token: string, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(argv, {
    stdout: { write: (s: string) => ((out += s), true) },
    stderr: { write: (s: string) => ((err += s), true) },
    env: { CAGE_URL: g.controlUrl, CAGE_TOKEN: token },
  });
  return { code, out, err };
}

interface Before {
  pinnedKey: string;
  checkpoint: string;
  size: number;
  artifact: { id: string; sha256: string; content: Buffer };
  organizer: string;
  auditor: string;
  job: string;
}

/** A dataset, a grant, a job that reads and releases predictions, and a checkpoint over it all. */
async function traffic(g: Gateway): Promise<Before> {
  const gw = g;
  const now = gw.get(Clock).now();
  await gw.get(ObjectStore).ensureBucket('cage-bk-data');
  await gw.get(ObjectStore).put('cage-bk-data', `${DATASET}/test/scan-9.raw`, SCAN);
  await gw.get(ObjectStore).put('cage-bk-data', 'elsewhere/not-ours.bin', Buffer.from('another prefix of the bucket'));
  await gw.get(DatasetRepository).insert(
    {
      id: DATASET,
      bucket: 'cage-bk-data',
      prefix: `${DATASET}/`,
      title: 'backup',
      splits: [{ name: 'test', kind: 'test', prefix: 'test/' }],
    },
    now,
    'test',
  );
  await gw.get(SeriesRepository).upsert(
    ['scan-8', 'scan-9'].map((seriesuid) => ({
      dataset: DATASET,
      split: 'test',
      seriesuid,
      box: { min: [-100, -100, -100], max: [100, 100, 100] },
    })),
  );
  await gw.get(TeamRepository).insert({ id: 'beta', name: 'beta' }, now, 'test');
  await gw.get(GrantRepository).insert(
    {
      id: 'beta-test',
      team: 'beta',
      dataset: DATASET,
      split: 'test',
      notBefore: new Date(now.getTime() - 3600_000),
      notAfter: new Date(now.getTime() + 3600_000),
      byteQuota: null,
    },
    now,
    'test',
  );
  const job = await gw.get(JobService).issue('beta', 3600, 'test', { requestId: 'backup-test', listener: 'internal' });
  const organizer = await gw.get(TokenService).issueUser('olga', 'organizer', null, 3600);
  const auditor = await gw.get(TokenService).issueUser('aud', 'auditor', null, 3600);

  for (let i = 0; i < 3; i++) {
    const read = await rawRequest(g.sandboxUrl, 'GET', objectPath(DATASET, 'test/scan-9.raw'), bearer(job.token));
    expect(read.status).toBe(200);
  }
  const released = await postEgress(
    g.sandboxUrl,
    'predictions',
    job.token,
    predictions(['scan-9,10.2,-20.7,30.1,0.91234', 'scan-8,0,0,0,0.5']),
  );
  expect(released.status).toBe(201);
  const receipt = released.json as { id: string; sha256: string };
  const content = await rawRequest(g.controlUrl, 'GET', `/v1/egress/${receipt.id}/content`, bearer(organizer));
  expect(content.status).toBe(200);

  await gw.get(AuditWriter).flush();
  await gw.get(Checkpointer).checkpoint();
  const checkpoint = (await rawRequest(g.controlUrl, 'GET', '/v1/audit/checkpoint', bearer(auditor))).body.toString();
  const pinnedKey = (await rawRequest(g.controlUrl, 'GET', '/v1/audit/checkpoint/key', bearer(auditor))).body.toString().trim();
  return {
    pinnedKey,
    checkpoint,
    size: await gw.get(MerkleStore).size(),
    artifact: { id: receipt.id, sha256: receipt.sha256, content: content.body },
    organizer,
    auditor,
    job: job.token,
  };
}

/** What must hold after a restore: the same log (root = the last checkpoint's, offline verification passes) and the same bytes. */
async function verifyRestored(g: Gateway, before: Before): Promise<void> {
  const gw = g;
  // The checkpoint made before the backup is the newest one still, and the tree's root at its size is its root.
  const served = (await rawRequest(g.controlUrl, 'GET', '/v1/audit/checkpoint', bearer(before.auditor))).body.toString();
  expect(served).toBe(before.checkpoint);
  const cp = openCheckpoint(served, before.pinnedKey);
  expect(cp.size).toBe(before.size);
  expect((await gw.get(MerkleStore).root(cp.size)).equals(cp.rootHash)).toBe(true);
  expect(await gw.get(MerkleStore).size()).toBeGreaterThanOrEqual(before.size);

  const dir = mkdtempSync(join(tmpdir(), 'cage-restored-export-'));
  try {
    expect((await cage(g, before.auditor, 'audit', 'export', '--out', dir)).code).toBe(0);
    writeFileSync(join(dir, 'pinned.key'), `${before.pinnedKey}\n`);
    const v = await cage(g, before.auditor, 'audit', 'verify', dir, '--key', join(dir, 'pinned.key'));
    expect(v.err).toBe('');
    expect(v.code).toBe(0);
    expect(v.out).toMatch(/^ok: \d+ leaves, root [0-9a-f]{64}, [1-9]\d* signed checkpoints verified/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  // The released artifact: the same bytes, the hash its release leaf names; tokens from before still work.
  const content = await rawRequest(g.controlUrl, 'GET', `/v1/egress/${before.artifact.id}/content`, bearer(before.organizer));
  expect(content.status).toBe(200);
  expect(content.body.equals(before.artifact.content)).toBe(true);
  expect(createHash('sha256').update(content.body).digest('hex')).toBe(before.artifact.sha256);
  // The dataset object, through the gateway, with the job's token from before.
  const read = await rawRequest(g.sandboxUrl, 'GET', objectPath(DATASET, 'test/scan-9.raw'), bearer(before.job));
  expect(read.status).toBe(200);
  expect(read.body.equals(SCAN)).toBe(true);
}

const base = (dataDir: string) => ({
  CAGE_DATA_DIR: dataDir,
  CAGE_CONTROL_PORT: '0',
  CAGE_SANDBOX_PORT: '0',
  CAGE_DEMO: '0',
  CAGE_POLICY_DIR: POLICY_DIR,
  CAGE_CHECKPOINT_EVERY_LEAVES: '1000000',
  CAGE_CHECKPOINT_EVERY_SECONDS: '3600',
});

describe('backup and restore of the embedded default (PGlite and s3rver files under the data dir)', () => {
  const work = mkdtempSync(join(tmpdir(), 'cage-bk-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('backs up, wipes, restores; the log verifies and a released artifact is byte-identical', async () => {
    const dataDir = join(work, 'data');
    const env = base(dataDir);
    const backupDir = join(work, 'backup');
    let g = await Gateway.start(loadConfig(env), { logger: false });
    let before: Before;
    try {
      before = await traffic(g);
      const refused = await script('backup', [backupDir], env);
      expect(refused.code).not.toBe(0);
      expect(refused.err).toContain('stop every replica first');
      expect(existsSync(backupDir)).toBe(false);
    } finally {
      await g.stop();
    }

    const made = await script('backup', [backupDir], env);
    expect(made.err).toBe('');
    expect(made.code).toBe(0);
    expect(statSync(backupDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(backupDir, 'keys', 'signing-key.pem')).mode & 0o777).toBe(0o600);
    expect(readdirSync(backupDir).sort()).toEqual(['SHA256SUMS', 'backup.json', 'keys', 'pglite.tar', 's3.tar']);

    rmSync(dataDir, { recursive: true, force: true });
    const restored = await script('restore', [backupDir], env);
    expect(restored.err).toBe('');
    expect(restored.code).toBe(0);
    // A second restore over the restored state is refused, not merged.
    const again = await script('restore', [backupDir], env);
    expect(again.code).not.toBe(0);
    expect(again.err).toContain('is not empty (--force moves it aside)');

    g = await Gateway.start(loadConfig(env), { logger: false });
    try {
      await verifyRestored(g, before);
    } finally {
      await g.stop();
    }
  }, 180_000);

  it('should not restore from a damaged backup', async () => {
    const dataDir = join(work, 'data-2');
    const env = base(dataDir);
    const g = await Gateway.start(loadConfig(env), { logger: false });
    await g.stop();
    const backupDir = join(work, 'backup-2');
    expect((await script('backup', [backupDir], env)).code).toBe(0);
    writeFileSync(join(backupDir, 'keys', 'pseudonym-key'), `${randomBytes(32).toString('base64')}\n`);
    rmSync(dataDir, { recursive: true, force: true });
    const r = await script('restore', [backupDir], env);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('the backup is damaged');
    expect(existsSync(join(dataDir, 'pglite'))).toBe(false);
  }, 120_000);
});

const describePg = POSTGRES_URL === undefined ? describe.skip : describe;

describePg('backup and restore on PostgreSQL, buckets through the S3 API', () => {
  const work = mkdtempSync(join(tmpdir(), 'cage-bk-pg-'));
  const database = `cage_bk_${randomBytes(5).toString('hex')}`;
  let s3: EmbeddedS3;
  const admin = async (sql: string) => {
    const db = await PostgresDatabase.open(POSTGRES_URL!);
    try {
      await db.query(sql);
    } finally {
      await db.close();
    }
  };
  beforeAll(async () => {
    // The object store outlives the gateways, as a real S3 service does.
    s3 = await EmbeddedS3.start(join(work, 's3'));
    await admin(`CREATE DATABASE ${database}`);
  });
  afterAll(async () => {
    await s3?.stop();
    await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    rmSync(work, { recursive: true, force: true });
  });

  it('backs up (pg_dump and every bucket), wipes both, restores; the log verifies and a released artifact is byte-identical', async () => {
    const url = new URL(POSTGRES_URL!);
    url.pathname = `/${database}`;
    const dataDir = join(work, 'data');
    const env = {
      ...base(dataDir),
      CAGE_DATABASE_URL: url.toString(),
      CAGE_S3_ENDPOINT: s3.endpoint,
      CAGE_S3_ACCESS_KEY_ID: 'S3RVER',
      CAGE_S3_SECRET_ACCESS_KEY: 'S3RVER',
    };
    let g = await Gateway.start(loadConfig(env), { logger: false });
    let before: Before;
    try {
      before = await traffic(g);
    } finally {
      await g.stop();
    }
    const backupDir = join(work, 'backup');
    const made = await script('backup', [backupDir], env);
    expect(made.err).toBe('');
    expect(made.code).toBe(0);
    // The dataset object (its prefix only), the released artifact, two copies of the checkpoint.
    expect(made.out).toContain('backed up 4 objects from 3 buckets');

    // Wipe: the database, every bucket, the data dir with its keys.
    await admin(`DROP DATABASE ${database} WITH (FORCE)`);
    const client = new S3Client({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    for (const b of (await client.send(new ListBucketsCommand({}))).Buckets ?? []) {
      for (const o of (await client.send(new ListObjectsV2Command({ Bucket: b.Name! }))).Contents ?? [])
        await client.send(new DeleteObjectCommand({ Bucket: b.Name!, Key: o.Key! }));
      await client.send(new DeleteBucketCommand({ Bucket: b.Name! }));
    }
    expect((await client.send(new ListBucketsCommand({}))).Buckets ?? []).toEqual([]);
    rmSync(dataDir, { recursive: true, force: true });

    await admin(`CREATE DATABASE ${database}`);
    const restored = await script('restore', [backupDir], env);
    expect(restored.err).toBe('');
    expect(restored.code).toBe(0);
    expect(restored.out).toMatch(/restored \d+ objects \(0 were already in place\)/);
    // Only the dataset's prefix of its bucket was copied.
    const keys = ((await client.send(new ListObjectsV2Command({ Bucket: 'cage-bk-data' }))).Contents ?? []).map((o) => o.Key);
    expect(keys).toEqual([`${DATASET}/test/scan-9.raw`]);
    // Restoring again finds everything in place and a non-empty database: refused without --force.
    const again = await script('restore', [backupDir], env);
    expect(again.code).not.toBe(0);
    expect(again.err).toContain('is not empty');
    client.destroy();

    g = await Gateway.start(loadConfig(env), { logger: false });
    try {
      await verifyRestored(g, before);
    } finally {
      await g.stop();
    }
  }, 240_000);
});
