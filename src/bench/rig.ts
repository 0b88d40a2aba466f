import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ObjectStore } from '../storage/object-store.service';
import { type BenchDatabase } from './bench-database';
import { preparePolicyDir } from './bench-policies';
import { DirectClient, GatewayClient, PresignedClient } from './http-load';
import {
  type Child,
  onCleanup,
  processCpuUs,
  removeTempDir,
  startGateway,
  startHttpRelay,
  startS3rver,
  startTcpRelay,
  tempDir,
} from './processes';
import { GiB, MiB } from './stats';

/**
 * The measured system: s3rver in one child process, the gateway (`node dist/main.js`, demo
 * seeded, access logs off) in another, pointed at it; this process is the client. Test objects
 * are written straight into the store under the demo dataset's train split, which the demo
 * job is granted. The gateway reads a copy of ./policies with the egress limits raised for
 * figure 7 (preparePolicyDir says which); its read path does not use those limits.
 */

const BUCKET = 'cage-datasets';
const DATASET = 'lung-demo';

export interface BenchObject {
  /** Key relative to the dataset, as the gateway path takes it. */
  key: string;
  /** Key in the bucket, as the direct client takes it. */
  s3Key: string;
  size: number;
  etag: string;
}

/** A store other than the rig's own s3rver (Ceph RGW, from CAGE_TEST_S3_ENDPOINT). */
export interface ExternalStore {
  name: string;
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

export interface Rig {
  /** The store: the rig's s3rver, or an external one (pid: its radosgw process when found). */
  s3: { pid: number | undefined; endpoint: string };
  storeName: string;
  gateway: Child;
  store: ObjectStore;
  gw: GatewayClient;
  direct: DirectClient;
  /** The leanest direct client (presigned GETs over node:http): the time-to-first-byte baseline. */
  presigned: PresignedClient;
  /** The direct client through a bare TCP relay in its own process: the floor for any proxy here. */
  relay: { client: DirectClient; pid: number };
  /** Presigned GETs through a bare HTTP relay (node:http + undici) in its own process: the floor per small read. */
  httpRelay: { client: PresignedClient; pid: number; endpoint: string };
  bucket: string;
  dataset: string;
  /** The gateway's S3-compatible API (the sandbox listener) and the demo job's SigV4 key pair. */
  s3Api: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string };
  /** The control listener, the demo organizer's token and the demo team (figure 10 registers datasets). */
  control: { url: string; organizerToken: string; team: string };
  small: BenchObject;
  large: BenchObject;
  /** Written on the first rig only (its own s3rver, the gateway on PGlite). */
  huge: BenchObject | undefined;
  /** Where the gateway writes its CPU profile, when profiling. */
  profileDir: string | undefined;
  /** The gateway's PostgreSQL database, when it runs on one (else PGlite under its data dir). */
  database: BenchDatabase | undefined;
  /** How the gateway's policy copy differs from ./policies (for the table notes). */
  policyNote: string;
  /** Stops both children and removes the rig's files. */
  stop: () => Promise<void>;
}

export const SMALL_SIZE = 4 * 1024;
export const LARGE_SIZE = 64 * MiB;
export const HUGE_SIZE = GiB;

/** A Readable of `size` bytes made of one repeated block (1 MiB of random bytes by default): no big buffer. */
export function generated(size: number, block = randomBytes(MiB)): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= size) {
        this.push(null);
        return;
      }
      const n = Math.min(block.length, size - sent);
      sent += n;
      this.push(n === block.length ? block : block.subarray(0, n));
    },
  });
}

async function putObject(store: ObjectStore, key: string, size: number): Promise<BenchObject> {
  const s3Key = `${DATASET}/${key}`;
  if (size <= MiB) await store.put(BUCKET, s3Key, randomBytes(size), 'application/octet-stream', size);
  else await store.put(BUCKET, s3Key, generated(size), 'application/octet-stream', size);
  const head = await store.head(BUCKET, s3Key);
  if (head.size !== size) throw new Error(`${s3Key}: stored ${head.size} bytes, expected ${size}`);
  return { key, s3Key, size, etag: head.etag };
}

/** The store's CPU time (µs), or 0 when its process is not known. */
export function storeCpuUs(rig: Rig): number {
  return rig.s3.pid === undefined ? 0 : processCpuUs(rig.s3.pid);
}

/** The radosgw serving an external store, if it runs on this machine (its CPU is then counted). */
function radosgwPid(): number | undefined {
  const r = spawnSync('pgrep', ['-n', 'radosgw'], { encoding: 'utf8' });
  const pid = Number(r.stdout?.trim());
  return r.status === 0 && Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * Starts the rig on its own s3rver, or (external) with the gateway and the direct clients on
 * another store; the 1 GiB object is written only to the first (figures 2c and 5 run there). With
 * a database, the gateway runs on that PostgreSQL database instead of PGlite.
 */
export async function startRig(
  log: (msg: string) => void,
  { external, database }: { external?: ExternalStore; database?: BenchDatabase } = {},
): Promise<Rig> {
  const root = tempDir('cage-bench-');
  const profileDir = process.env.CAGE_BENCH_GATEWAY_CPU_PROF;
  const own = external === undefined ? await startS3rver(join(root, 's3')) : undefined;
  const s3 = own ?? { pid: radosgwPid(), endpoint: external!.endpoint, stop: () => Promise.resolve() };
  const creds = external ?? { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', region: 'us-east-1' };
  log(`${external?.name ?? 's3rver'} (pid ${s3.pid ?? '?'}) on ${s3.endpoint}`);
  const nodeArgs = (process.env.CAGE_BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const policyDir = join(root, 'policies');
  const policyNote = preparePolicyDir(policyDir);
  const gateway = await startGateway({
    dataDir: join(root, 'gateway'),
    s3Endpoint: s3.endpoint,
    s3Credentials: creds,
    cpuProfileDir: profileDir || undefined,
    nodeArgs,
    extraEnv: { CAGE_POLICY_DIR: policyDir, ...(database === undefined ? {} : { CAGE_DATABASE_URL: database.url }) },
  });
  log(`gateway (pid ${gateway.pid}) sandbox ${gateway.bootstrap.sandboxUrl}`);

  const store = new ObjectStore({
    endpoint: s3.endpoint,
    region: creds.region,
    accessKeyId: creds.accessKeyId,
    secretAccessKey: creds.secretAccessKey,
    forcePathStyle: true,
    timeoutMs: 60_000,
  });
  onCleanup(() => Promise.resolve(store.destroy()));
  const relay = await startTcpRelay(s3.endpoint);
  const relayStore = new ObjectStore({
    endpoint: relay.endpoint,
    region: creds.region,
    accessKeyId: creds.accessKeyId,
    secretAccessKey: creds.secretAccessKey,
    forcePathStyle: true,
    timeoutMs: 60_000,
  });
  onCleanup(() => Promise.resolve(relayStore.destroy()));
  const gw = new GatewayClient(gateway.bootstrap.sandboxUrl, gateway.bootstrap.demoJob.token);
  onCleanup(() => Promise.resolve(gw.close()));

  log(`writing test objects into the store (4 KiB, 64 MiB${external === undefined && database === undefined ? ', 1 GiB' : ''})`);
  const small = await putObject(store, 'train/bench/small-4k.bin', SMALL_SIZE);
  const large = await putObject(store, 'train/bench/large-64m.bin', LARGE_SIZE);
  // Figures 2c and 5 read it, on the first rig only.
  const huge = external === undefined && database === undefined ? await putObject(store, 'train/bench/huge-1g.bin', HUGE_SIZE) : undefined;

  // Sanity: the gateway serves these very bytes to the demo job.
  for (const o of [small, large]) {
    const f = await gw.get(DATASET, o.key);
    if (f.status !== 200 || f.bytes !== o.size || f.etag !== o.etag) {
      throw new Error(
        `gateway GET ${o.key}: status ${f.status}, ${f.bytes} bytes, etag ${f.etag ?? '-'} (expected 200, ${o.size}, ${o.etag})`,
      );
    }
  }
  const presigned = new PresignedClient(s3.endpoint, creds, creds.region);
  onCleanup(() => Promise.resolve(presigned.close()));
  await presigned.prepare(BUCKET, small.s3Key);
  const httpRelay = await startHttpRelay(s3.endpoint);
  const viaHttpRelay = new PresignedClient(httpRelay.endpoint, creds, creds.region);
  onCleanup(() => Promise.resolve(viaHttpRelay.close()));
  await viaHttpRelay.prepare(BUCKET, small.s3Key);
  const stop = async () => {
    presigned.close();
    viaHttpRelay.close();
    await httpRelay.stop();
    gw.close();
    store.destroy();
    relayStore.destroy();
    await relay.stop();
    try {
      await gateway.stop();
    } finally {
      // After the gateway, whose pool holds connections to it; whether or not the stops before it went well.
      await database?.drop();
    }
    await s3.stop();
    removeTempDir(root);
  };
  const { s3Endpoint, s3Region, demoJob } = gateway.bootstrap;
  const s3Api = { endpoint: s3Endpoint, region: s3Region, accessKeyId: demoJob.accessKeyId, secretAccessKey: demoJob.secretAccessKey };
  return {
    s3: { pid: s3.pid, endpoint: s3.endpoint },
    storeName: external?.name ?? 's3rver',
    gateway,
    store,
    gw,
    direct: new DirectClient(store),
    presigned,
    relay: { client: new DirectClient(relayStore), pid: relay.pid },
    httpRelay: { client: viaHttpRelay, pid: httpRelay.pid, endpoint: httpRelay.endpoint },
    bucket: BUCKET,
    dataset: DATASET,
    s3Api,
    control: { url: gateway.bootstrap.controlUrl, organizerToken: gateway.bootstrap.organizerToken, team: demoJob.team },
    small,
    large,
    huge,
    profileDir: profileDir || undefined,
    database,
    policyNote,
    stop,
  };
}
