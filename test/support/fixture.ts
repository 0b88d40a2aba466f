import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type CageConfig } from '../../src/config/config';
import { type Database } from '../../src/db/database';
import { Gateway } from '../../src/gateway';
import { type IssuedJob } from '../../src/jobs/job.service';
import { Clock } from '../../src/clock/clock';
import { EXTERNAL_S3, type DbKind, openTestDatabase, type S3Kind } from './backends';
import { DatasetRepository } from '../../src/datasets/dataset.repository';
import { GrantRepository } from '../../src/grants/grant.repository';
import { JobService } from '../../src/jobs/job.service';
import { SeriesRepository } from '../../src/datasets/series.repository';
import { ObjectStore } from '../../src/storage/object-store.service';
import { TeamRepository } from '../../src/teams/team.repository';
import { TokenService } from '../../src/auth/token.service';
import { contestantToken } from './tokens';

export const POLICY_DIR = join(__dirname, '..', '..', 'policies');
export const DATASET = 'ct';

/**
 * The objects every fixture gateway holds (dataset-relative key → bytes). s3rver's router cannot
 * hold a key with `//`, so that one is stored only on a real S3 server.
 */
export function fixtureObjects(s3: S3Kind): Map<string, Buffer> {
  const rnd = (n: number) => randomBytes(n);
  return new Map<string, Buffer>([
    ['train/scan-1.raw', rnd(256 * 1024 + 7)],
    ['train/scan-1.mhd', Buffer.from('ObjectType = Image\nNDims = 3\n')],
    ['train/annotations.csv', Buffer.from('seriesuid,coordX,coordY,coordZ,diameter_mm\nscan-1,1,2,3,4\n')],
    ...(s3 === 'external' ? [['train/a//b', Buffer.from('double slash')] as [string, Buffer]] : []),
    ['train/café.txt', Buffer.from('nfc')],
    ['train/cafe\u0301.txt', Buffer.from('nfd')],
    ['train/empty.bin', Buffer.alloc(0)],
    ['test/scan-9.raw', rnd(1000)],
    ['labels/test_annotations.csv', Buffer.from('seriesuid,coordX,coordY,coordZ,diameter_mm\nscan-9,5,6,7,8\n')],
    ['stray.bin', Buffer.from('outside every split')],
  ]);
}

export interface Fixture {
  gateway: Gateway;
  db: Database;
  objects: Map<string, Buffer>;
  /** Team alpha: granted train. Team beta: granted test. */
  alpha: IssuedJob;
  beta: IssuedJob;
  organizerToken: string;
  auditorToken: string;
  contestantToken: string;
  config: CageConfig;
  stop: () => Promise<void>;
}

export interface FixtureOptions {
  db: DbKind;
  s3?: S3Kind;
  /** Overrides CAGE_S3_ENDPOINT (e.g. a fault-injecting proxy in front of s3rver). */
  s3Endpoint?: string;
  policyDir?: string;
  env?: Record<string, string>;
  clock?: Clock;
}

/** The test split's series (team beta predicts on these). */
export const TEST_SERIES = ['scan-8', 'scan-9'];

/**
 * A started gateway (both listeners on ephemeral ports) with a small dataset, two teams with
 * one grant each, and a job per team. The bucket is unique per fixture, so fixtures can share
 * an external S3 server.
 */
export async function startFixture(opts: FixtureOptions): Promise<Fixture> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cage-test-'));
  const external = opts.s3 === 'external' ? EXTERNAL_S3 : undefined;
  const env: Record<string, string> = {
    CAGE_DATA_DIR: dataDir,
    CAGE_CONTROL_PORT: '0',
    CAGE_SANDBOX_PORT: '0',
    CAGE_POLICY_DIR: opts.policyDir ?? POLICY_DIR,
    CAGE_DEMO: '0',
    ...(external === undefined
      ? {}
      : {
          CAGE_S3_ENDPOINT: external.endpoint,
          CAGE_S3_ACCESS_KEY_ID: external.accessKeyId,
          CAGE_S3_SECRET_ACCESS_KEY: external.secretAccessKey,
          CAGE_S3_REGION: external.region,
        }),
    ...(opts.s3Endpoint === undefined
      ? {}
      : { CAGE_S3_ENDPOINT: opts.s3Endpoint, CAGE_S3_ACCESS_KEY_ID: 'S3RVER', CAGE_S3_SECRET_ACCESS_KEY: 'S3RVER' }),
    ...opts.env,
  };
  const config = loadConfig(env);
  const { db, drop } = await openTestDatabase(opts.db);
  const gateway = await Gateway.start(config, { logger: false, db, clock: opts.clock });
  const gw = gateway;
  const bucket = `cage-test-${randomBytes(5).toString('hex')}`;
  await gw.get(ObjectStore).ensureBucket(bucket);
  const objects = fixtureObjects(opts.s3 ?? 's3rver');
  for (const [key, body] of objects) await gw.get(ObjectStore).put(bucket, `${DATASET}/${key}`, body);
  const now = gw.get(Clock).now();
  await gw.get(DatasetRepository).insert(
    {
      id: DATASET,
      bucket,
      prefix: `${DATASET}/`,
      title: 'fixture',
      splits: [
        { name: 'train', kind: 'train', prefix: 'train/' },
        { name: 'test', kind: 'test', prefix: 'test/' },
        { name: 'labels', kind: 'labels', prefix: 'labels/' },
      ],
    },
    now,
    'test',
  );
  await gw.get(SeriesRepository).upsert(
    TEST_SERIES.map((seriesuid) => ({
      dataset: DATASET,
      split: 'test',
      seriesuid,
      box: { min: [-100, -100, -100], max: [100, 100, 100] },
    })),
  );
  const meta = { requestId: 'fixture', listener: 'internal' as const };
  const window = { notBefore: new Date(now.getTime() - 3600_000), notAfter: new Date(now.getTime() + 3600_000), byteQuota: null };
  for (const [team, split] of [
    ['alpha', 'train'],
    ['beta', 'test'],
  ] as const) {
    await gw.get(TeamRepository).insert({ id: team, name: team }, now, 'test');
    await gw.get(GrantRepository).insert({ id: `${team}-${split}-${randomUUID()}`, team, dataset: DATASET, split, ...window }, now, 'test');
  }
  const alpha = await gw.get(JobService).issue('alpha', 3600, 'test', meta);
  const beta = await gw.get(JobService).issue('beta', 3600, 'test', meta);
  return {
    gateway,
    db,
    objects,
    alpha,
    beta,
    config,
    organizerToken: await gw.get(TokenService).issueUser('olga', 'organizer', null, 3600),
    auditorToken: await gw.get(TokenService).issueUser('aud', 'auditor', null, 3600),
    contestantToken: await contestantToken(gw, 'carl', 'alpha', 3600),
    stop: async () => {
      await gateway.stop();
      await drop().catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A clock tests can move (budget days, time windows). */
export class TestClock extends Clock {
  constructor(public at = new Date()) {
    super();
  }

  override now(): Date {
    return new Date(this.at);
  }

  advance(ms: number): void {
    this.at = new Date(this.at.getTime() + ms);
  }
}

/**
 * A job of a new team granted the fixture's test split (its scans are what predictions name):
 * each team has its own daily egress caps, so a suite can upload more than five times.
 */
export async function jobOfNewTeam(f: Pick<Fixture, 'gateway'>, now = new Date()): Promise<IssuedJob> {
  const id = `t${randomUUID().slice(0, 8)}`;
  await f.gateway.get(TeamRepository).insert({ id, name: id }, now, 'test');
  await f.gateway.get(GrantRepository).insert(
    {
      id: `${id}-test`,
      team: id,
      dataset: DATASET,
      split: 'test',
      notBefore: new Date(now.getTime() - 60_000),
      notAfter: new Date(now.getTime() + 86_400_000),
      byteQuota: null,
    },
    now,
    'test',
  );
  return f.gateway.get(JobService).issue(id, 86_400, 'test', { requestId: 'test', listener: 'control' });
}
