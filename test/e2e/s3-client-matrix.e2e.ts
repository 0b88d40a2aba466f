import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Client as MinioClient } from 'minio';
import { AuditRepository } from '../../src/audit/audit.repository';
import { type AuditLeaf } from '../../src/audit/audit-leaf';
import { SeriesRepository } from '../../src/datasets/series.repository';
import { OUTBOX_BUCKET } from '../../src/egress/egress-release';
import { artifactChecker } from '../../src/egress/kinds/check-artifact';
import { type IssuedJob } from '../../src/jobs/job.service';
import { PolicyEngine } from '../../src/policy/policy.types';
import { ObjectStore } from '../../src/storage/object-store.service';
import { AWS_CLI, CURL, ensureDebianClients, PYTHON, pyarrowPython, RCLONE, S3CMD } from '../support/debian-clients';
import { predictionsOf } from '../support/egress';
import { DATASET, type Fixture, jobOfNewTeam, startFixture } from '../support/fixture';
import { largePredictionsPolicyDir } from '../support/policies';

/** A client process, run asynchronously: the gateway under test shares this process's event loop. */
function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env, encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ status: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr });
    });
  });
}

const MiB = 1024 * 1024;

/**
 * Issue 19's client matrix: each client as a contestant runs it, with its defaults and nothing
 * but the endpoint and a job's keys (Debian's aws-cli v2, boto3, s3cmd, rclone and curl; minio-js
 * from npm). Every upload must be released once, byte for byte the canonical form the egress
 * checker makes of what was sent, with one leaf per step; every presigned URL must serve its
 * object byte for byte and nothing else.
 */
describe('the S3 client matrix (issue 19)', () => {
  let f: Fixture;
  let dir: string;
  const home = mkdtempSync(join(tmpdir(), 'cage-clients-'));

  beforeAll(async () => {
    ensureDebianClients();
    dir = largePredictionsPolicyDir();
    f = await startFixture({ db: 'pglite', policyDir: dir });
  }, 600_000);
  afterAll(async () => {
    await f?.stop();
    rmSync(home, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  const envOf = (job: IssuedJob): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    HOME: home,
    AWS_CONFIG_FILE: join(home, 'none'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'none'),
    AWS_ACCESS_KEY_ID: job.accessKeyId,
    AWS_SECRET_ACCESS_KEY: job.secretAccessKey,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
  });
  const hostPort = () => new URL(f.gateway.sandboxUrl).host;
  const outboxKeys = async () => (await f.gateway.get(ObjectStore).list(OUTBOX_BUCKET, '', undefined, 10_000)).objects.map((o) => o.key);
  const leavesOf = async (job: IssuedJob): Promise<AuditLeaf[]> =>
    (await f.gateway.get(AuditRepository).find({ limit: 1_000_000 })).map((l) => l.leaf).filter((l) => l.principal === `job:${job.jobId}`);

  /** What the egress checker makes of `bytes` for this fixture's test scans. */
  async function canonical(bytes: Buffer): Promise<Buffer> {
    const kind = f.gateway.get(PolicyEngine).egress.kinds.get('predictions')!;
    const scans = await f.gateway.get(SeriesRepository).boxes([{ dataset: DATASET, split: 'test' }]);
    const checker = artifactChecker(kind, { scans });
    checker.push(bytes);
    return checker.end().canonical;
  }

  /** Runs an upload; then exactly one new outbox object, the canonical bytes, one release leaf for the job. */
  async function expectReleasedOnce(job: IssuedJob, bytes: Buffer, upload: () => Promise<void>): Promise<AuditLeaf[]> {
    const before = await outboxKeys();
    await upload();
    const added = (await outboxKeys()).filter((k) => !before.includes(k));
    expect(added).toHaveLength(1);
    const stored = await f.gateway.get(ObjectStore).getBuffer(OUTBOX_BUCKET, added[0], 64 * MiB);
    expect(stored.equals(await canonical(bytes))).toBe(true);
    const leaves = await leavesOf(job);
    const releases = leaves.filter((l) => l.action === 'egress.release');
    expect(releases).toHaveLength(1);
    expect(releases[0].sha256).toBe(createHash('sha256').update(stored).digest('hex'));
    return leaves;
  }

  const fileOf = (name: string, bytes: Buffer) => {
    const path = join(home, name);
    writeFileSync(path, bytes);
    return path;
  };

  describe('presigned URLs, fetched with curl', () => {
    const expectServes = async (url: string, key: string) => {
      const r = await run(CURL, ['-sS', '--fail', url], {});
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(f.objects.get(key)!.toString());
      const tampered = await run(CURL, ['-sS', '-o', '/dev/null', '-w', '%{http_code}', url.replace('annotations.csv', 'scan-1.raw')], {});
      expect(tampered.stdout).toBe('403');
    };

    it('aws-cli v2 `s3 presign` (SigV4)', async () => {
      const r = await run(
        AWS_CLI,
        ['--endpoint-url', f.gateway.sandboxUrl, 's3', 'presign', `s3://${DATASET}/train/annotations.csv`],
        envOf(f.alpha),
      );
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('X-Amz-Signature=');
      await expectServes(r.stdout.trim(), 'train/annotations.csv');
    });

    it('boto3 `generate_presigned_url` with its defaults (SigV2 with a custom endpoint)', async () => {
      const r = await run(
        PYTHON,
        [
          '-c',
          `import sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1])
print(s3.generate_presigned_url("get_object", Params={"Bucket": "${DATASET}", "Key": "train/annotations.csv"}, ExpiresIn=300))`,
          f.gateway.sandboxUrl,
        ],
        envOf(f.alpha),
      );
      expect(r.stderr).toBe('');
      expect(r.stdout).toContain('AWSAccessKeyId=');
      await expectServes(r.stdout.trim(), 'train/annotations.csv');
    });

    it('s3cmd `signurl` (SigV2)', async () => {
      const cfg = join(home, 's3cmd-alpha.cfg');
      writeFileSync(cfg, s3cmdConfig(f.alpha, hostPort()));
      const expiry = String(Math.floor(Date.now() / 1000) + 300);
      const r = await run(S3CMD, ['-c', cfg, 'signurl', `s3://${DATASET}/train/annotations.csv`, expiry], {
        PATH: process.env.PATH,
        HOME: home,
      });
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('Signature=');
      await expectServes(r.stdout.trim(), 'train/annotations.csv');
    });
  });

  it('boto3 with SigV2 set in its config (signature_version "s3"): lists, reads, and uploads released once', async () => {
    const job = await jobOfNewTeam(f);
    const bytes = predictionsOf(4096, 1);
    await expectReleasedOnce(job, bytes, async () => {
      const r = await run(
        PYTHON,
        [
          '-c',
          `import sys, boto3
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=sys.argv[1], config=Config(signature_version="s3"))
keys = [o["Key"] for o in s3.list_objects_v2(Bucket="${DATASET}", Prefix="test/").get("Contents", [])]
assert keys == ["test/scan-9.raw"], keys
assert s3.get_object(Bucket="${DATASET}", Key="test/scan-9.raw")["Body"].read() == open(sys.argv[3], "rb").read()
h = s3.put_object(Bucket="outbox", Key="predictions/boto3-sigv2.csv", Body=open(sys.argv[2], "rb"))["ResponseMetadata"]["HTTPHeaders"]
print(h["x-cage-egress-status"])`,
          f.gateway.sandboxUrl,
          fileOf('boto3-sigv2.csv', bytes),
          fileOf('scan-9.raw', f.objects.get('test/scan-9.raw')!),
        ],
        envOf(job),
      );
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe('released');
    });
  });

  it('`aws s3 cp` of a 20 MiB predictions file: aws-cli uploads it in parts, released once as one artifact', async () => {
    const job = await jobOfNewTeam(f);
    const bytes = predictionsOf(20 * MiB, 2);
    const leaves = await expectReleasedOnce(job, bytes, async () => {
      const r = await run(
        AWS_CLI,
        ['--endpoint-url', f.gateway.sandboxUrl, 's3', 'cp', fileOf('big.csv', bytes), 's3://outbox/predictions/big.csv'],
        envOf(job),
      );
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    });
    const steps = leaves.filter((l) => l.action.startsWith('upload.'));
    expect(steps.filter((l) => l.action === 'upload.create')).toHaveLength(1);
    expect(steps.filter((l) => l.action === 'upload.part' && l.decision === 'allow').length).toBeGreaterThanOrEqual(3);
    expect(steps.filter((l) => l.action === 'upload.complete' && l.decision === 'allow')).toHaveLength(1);
    expect(steps.filter((l) => l.action === 'upload.part').reduce((n, l) => n + l.bytes, 0)).toBe(bytes.length);
  }, 300_000);

  it('rclone `copyto` into the outbox with default flags: released once', async () => {
    const job = await jobOfNewTeam(f);
    const bytes = predictionsOf(64 * 1024, 3);
    await expectReleasedOnce(job, bytes, async () => {
      const r = await run(RCLONE, ['copyto', fileOf('rclone.csv', bytes), 'cage:outbox/predictions/rclone.csv'], {
        PATH: process.env.PATH,
        HOME: home,
        // An empty config file: the remote comes from the environment alone.
        RCLONE_CONFIG: fileOf('rclone.conf', Buffer.alloc(0)),
        RCLONE_CONFIG_CAGE_TYPE: 's3',
        RCLONE_CONFIG_CAGE_PROVIDER: 'Other',
        RCLONE_CONFIG_CAGE_ENDPOINT: f.gateway.sandboxUrl,
        RCLONE_CONFIG_CAGE_ACCESS_KEY_ID: job.accessKeyId,
        RCLONE_CONFIG_CAGE_SECRET_ACCESS_KEY: job.secretAccessKey,
      });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    });
  }, 120_000);

  it('s3cmd `put` (SigV4, and SigV2 with --signature-v2): each released once', async () => {
    for (const [i, extra] of [[4, []] as const, [5, ['--signature-v2']] as const]) {
      const job = await jobOfNewTeam(f);
      const cfg = join(home, `s3cmd-${i}.cfg`);
      writeFileSync(cfg, s3cmdConfig(job, hostPort()));
      const bytes = predictionsOf(8192, i);
      await expectReleasedOnce(job, bytes, async () => {
        const r = await run(S3CMD, ['-c', cfg, ...extra, 'put', fileOf(`s3cmd-${i}.csv`, bytes), 's3://outbox/predictions/s3cmd.csv'], {
          PATH: process.env.PATH,
          HOME: home,
        });
        expect(r.status).toBe(0);
      });
    }
  }, 120_000);

  it("pyarrow's S3FileSystem `open_output_stream` of a 12 MiB predictions file: released once", async () => {
    const python = pyarrowPython();
    const job = await jobOfNewTeam(f);
    const bytes = predictionsOf(12 * MiB, 7);
    const leaves = await expectReleasedOnce(job, bytes, async () => {
      const r = await run(
        python,
        [
          '-c',
          `import sys
from pyarrow import fs
s3 = fs.S3FileSystem(access_key=sys.argv[2], secret_key=sys.argv[3], endpoint_override=sys.argv[1], scheme="http", region="us-east-1")
with s3.open_output_stream("outbox/predictions/pyarrow.csv") as out:
    with open(sys.argv[4], "rb") as f:
        while chunk := f.read(1 << 20):
            out.write(chunk)`,
          hostPort(),
          job.accessKeyId,
          job.secretAccessKey,
          fileOf('pyarrow.csv', bytes),
        ],
        { PATH: process.env.PATH, HOME: home },
      );
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    });
    expect(leaves.filter((l) => l.action === 'upload.complete' && l.decision === 'allow')).toHaveLength(1);
  }, 300_000);

  it('minio-js `putObject` with a stream: released once', async () => {
    const job = await jobOfNewTeam(f);
    const bytes = predictionsOf(256 * 1024, 6);
    const u = new URL(f.gateway.sandboxUrl);
    const client = new MinioClient({
      endPoint: u.hostname,
      port: Number(u.port),
      useSSL: false,
      accessKey: job.accessKeyId,
      secretKey: job.secretAccessKey,
      region: 'us-east-1',
      pathStyle: true,
    });
    await expectReleasedOnce(job, bytes, async () => {
      const chunks = [bytes.subarray(0, 1000), bytes.subarray(1000, 100_000), bytes.subarray(100_000)];
      await client.putObject('outbox', 'predictions/minio.csv', Readable.from(chunks), bytes.length);
    });
  });
});

function s3cmdConfig(job: IssuedJob, hostPort: string): string {
  return [
    '[default]',
    `access_key = ${job.accessKeyId}`,
    `secret_key = ${job.secretAccessKey}`,
    `host_base = ${hostPort}`,
    `host_bucket = ${hostPort}`,
    'use_https = False',
    'bucket_location = us-east-1',
    '',
  ].join('\n');
}
