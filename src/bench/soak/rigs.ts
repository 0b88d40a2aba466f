import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { readBootstrap } from '../../demo/bootstrap-file';
import { DEMO_BUCKET, DEMO_DATASET } from '../../demo/demo-seeder';
import { EmbeddedS3 } from '../../storage/embedded-s3';
import { ObjectStore } from '../../storage/object-store.service';
import { type Fault, type FaultProxy, faultProxy } from '../fault-proxy';
import { type Child, onCleanup, startGateway, startS3rver, tempDir } from '../processes';
import { generated } from '../rig';
import { MiB } from '../stats';
import { type LoadTarget } from './load';

/**
 * The two systems the soak suite runs against, each `node dist/main.js` as operators run it
 * (the benchmark's build), demo seeded:
 * - production-shaped: PostgreSQL (a database of its own, dropped at the end) and an S3 store
 *   (s3rver in its own process) behind a proxy that can slow or hang it;
 * - the embedded default: PGlite and the embedded store under a data dir that is a small tmpfs
 *   of its own, so the disk can be filled.
 */

/** The demo dataset the gateway seeds: the soak's objects go under its train split. */
const DATASET = DEMO_DATASET;
const BUCKET = DEMO_BUCKET;

export interface Rig {
  name: string;
  gateway: Child;
  controlUrl: string;
  organizerToken: string;
  auditorToken: string;
  target: LoadTarget;
  stop: () => Promise<void>;
}

export interface PostgresRig extends Rig {
  /** Terminates every session of the gateway's database but ours; returns how many. */
  terminateBackends: () => Promise<number>;
  /** The store's fault (undefined: healthy), and whether bodies already flowing stall too. */
  store: { fault: Fault | undefined; hold: boolean; proxy: FaultProxy };
}

export interface EmbeddedRig extends Rig {
  /** Fills the data dir's file system to the last byte; returns the bytes written. */
  fillDisk: () => number;
  freeDisk: () => void;
}

function digestOfRepeated(size: number, block: Buffer): string {
  const h = createHash('sha256');
  for (let sent = 0; sent < size; sent += block.length) h.update(block.subarray(0, Math.min(block.length, size - sent)));
  return h.digest('hex');
}

async function seedObjects(store: ObjectStore, largeSize: number): Promise<Pick<LoadTarget, 'large' | 'small'>> {
  const small = { key: 'train/soak/small-1m.bin', content: randomBytes(MiB) };
  await store.put(BUCKET, `${DATASET}/${small.key}`, small.content, 'application/octet-stream', small.content.length);
  const block = randomBytes(MiB);
  const large = { key: 'train/soak/large.bin', size: largeSize, sha256: digestOfRepeated(largeSize, block) };
  await store.put(BUCKET, `${DATASET}/${large.key}`, generated(largeSize, block), 'application/octet-stream', largeSize);
  return { small, large };
}

function targetOf(
  dataDir: string,
  objects: Pick<LoadTarget, 'large' | 'small'>,
): { target: LoadTarget; controlUrl: string; organizerToken: string; auditorToken: string } {
  const boot = readBootstrap(dataDir);
  if (boot?.demoJob === undefined) throw new Error('the gateway wrote no demo job');
  return {
    controlUrl: boot.controlUrl,
    organizerToken: boot.organizerToken,
    auditorToken: boot.auditorToken,
    target: {
      sandboxUrl: boot.sandboxUrl,
      s3Region: boot.s3Region,
      token: boot.demoJob.token,
      accessKeyId: boot.demoJob.accessKeyId,
      secretAccessKey: boot.demoJob.secretAccessKey,
      dataset: DATASET,
      refusedKey: 'labels/test_annotations.csv',
      ...objects,
    },
  };
}

/**
 * The gateway's store timeout in the soak: shorter than its default (10 s) so that a hung store
 * shows within the fault's window, long enough that a busy two-core machine does not reach it
 * under the plain load (3 s did once in CI, with Ceph still running beside it).
 */
export const STORE_TIMEOUT_MS = 5000;

/** Settings both rigs share: checkpoints every second (the books are closed on one), the store timeout. */
const COMMON_ENV = { CAGE_CHECKPOINT_EVERY_SECONDS: '1', CAGE_S3_TIMEOUT_MS: String(STORE_TIMEOUT_MS) };

export async function startPostgresRig(adminUrl: string, largeSize: number, log: (m: string) => void): Promise<PostgresRig> {
  const root = tempDir('cage-soak-pg-');
  const database = `cage_soak_${randomBytes(5).toString('hex')}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  onCleanup(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  });
  const s3 = await startS3rver(join(root, 's3'));
  const store = { fault: undefined as Fault | undefined, hold: false, proxy: undefined as unknown as FaultProxy };
  store.proxy = await faultProxy(
    s3.endpoint,
    () => store.fault,
    () => store.hold,
  );
  onCleanup(() => store.proxy.close());
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  const dataDir = join(root, 'gateway');
  log(`PostgreSQL database ${database}, s3rver (pid ${s3.pid}) behind a fault proxy`);
  const gateway = await startGateway({
    dataDir,
    s3Endpoint: store.proxy.url,
    extraEnv: { ...COMMON_ENV, CAGE_DATABASE_URL: url.toString() },
  });
  const direct = new ObjectStore({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    forcePathStyle: true,
    timeoutMs: 60_000,
  });
  const objects = await seedObjects(direct, largeSize);
  direct.destroy();
  return {
    name: 'postgres',
    gateway,
    ...targetOf(dataDir, objects),
    store,
    terminateBackends: async () => {
      const r = await admin.query<{ n: string }>(
        'SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [database],
      );
      return Number(r.rows[0]?.n ?? 0);
    },
    stop: async () => {
      await gateway.stop();
      await s3.stop();
    },
  };
}

/**
 * The embedded default on a file system of `sizeMiB`: a tmpfs mounted over an empty dir. Needs
 * its own mount namespace (main.ts re-runs the suite under `unshare` for that), where the
 * mount is private and goes away with the suite.
 */
export async function startEmbeddedRig(sizeMiB: number, largeSize: number, log: (m: string) => void): Promise<EmbeddedRig> {
  const root = tempDir('cage-soak-embedded-');
  const dataDir = join(root, 'data');
  mkdirSync(dataDir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m,mode=0700`, 'cage-soak', dataDir]);
  onCleanup(() => Promise.resolve(void execFileSync('umount', ['-l', dataDir])));
  log(`embedded default (PGlite and the embedded store) on a ${sizeMiB} MiB tmpfs`);
  // The objects go into the embedded store's directory before the gateway starts (through an
  // s3rver of our own on that directory, which the gateway's then serves from).
  const seeding = await EmbeddedS3.start(join(dataDir, 's3'));
  const direct = new ObjectStore({
    endpoint: seeding.endpoint,
    region: 'us-east-1',
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    forcePathStyle: true,
    timeoutMs: 60_000,
  });
  await direct.ensureBucket(BUCKET);
  const objects = await seedObjects(direct, largeSize);
  direct.destroy();
  await seeding.stop();
  const gateway = await startGateway({ dataDir, s3Endpoint: undefined, extraEnv: COMMON_ENV });
  const filler = join(dataDir, 'soak-filler');
  return {
    name: 'embedded',
    gateway,
    ...targetOf(dataDir, objects),
    fillDisk: () => {
      const fd = openSync(filler, 'a');
      let written = 0;
      try {
        for (const size of [MiB, 64 * 1024, 4096, 512, 1]) {
          const buf = Buffer.alloc(size);
          for (;;) {
            try {
              written += writeSync(fd, buf);
            } catch (err) {
              if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
              break;
            }
          }
        }
      } finally {
        closeSync(fd);
      }
      if (statfsSync(dataDir).bavail !== 0) throw new Error('the data dir still has room after filling it');
      return written;
    },
    freeDisk: () => rmSync(filler, { force: true }),
    stop: () => gateway.stop(),
  };
}
