import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OUTBOX_BUCKET } from '../../src/egress/egress-release';
import { AWS_CLI, CURL, ensureDebianClients, PYTHON } from '../support/debian-clients';
import { predictions } from '../support/egress';
import { DATASET, type Fixture, startFixture } from '../support/fixture';
import { AuditRepository } from '../../src/audit/audit.repository';
import { DatasetRepository } from '../../src/datasets/dataset.repository';
import { ObjectStore } from '../../src/storage/object-store.service';

/** A client process, run asynchronously: the gateway under test shares this process's event loop. */
function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env, encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ status: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr });
    });
  });
}

/**
 * Clients no one here wrote, run as a contestant runs them: Debian's aws-cli and boto3 and curl,
 * pointed at the sandbox listener with a job's access keys and nothing else changed.
 */
describe('real S3 clients against the sandbox listener', () => {
  let f: Fixture;
  const home = mkdtempSync(join(tmpdir(), 'cage-aws-'));
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    ensureDebianClients();
    f = await startFixture({ db: 'pglite' });
  }, 600_000);
  afterAll(async () => {
    await f?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  const as = (job: 'alpha' | 'beta'): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    // A clean home: no profile of the machine's leaks into the test.
    HOME: home,
    AWS_CONFIG_FILE: join(home, 'none'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'none'),
    AWS_ACCESS_KEY_ID: f[job].accessKeyId,
    AWS_SECRET_ACCESS_KEY: f[job].secretAccessKey,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
  });
  beforeEach(() => {
    env = as('alpha');
  });

  const aws = (...args: string[]) => run(AWS_CLI, ['--endpoint-url', f.gateway.sandboxUrl, ...args], env);
  const python = (script: string, args: string[] = []) => run(PYTHON, ['-c', script, f.gateway.sandboxUrl, ...args], env);

  it('aws s3 ls: the granted dataset and the outbox', async () => {
    const r = await aws('s3', 'ls');
    expect(r.stderr).toBe('');
    expect(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/).pop()),
    ).toEqual([DATASET, 'outbox']);
    const inside = await aws('s3', 'ls', `s3://${DATASET}/`);
    expect(inside.stdout).toContain('PRE train/');
    expect(inside.stdout).not.toContain('test/');
    expect(inside.stdout).not.toContain('labels/');
  });

  it('aws s3 ls --recursive: every granted key, none other', async () => {
    const r = await aws('s3', 'ls', '--recursive', `s3://${DATASET}/`);
    expect(r.status).toBe(0);
    const keys = r.stdout
      .trim()
      .split('\n')
      .map((l) => l.replace(/^\S+\s+\S+\s+\d+\s+/, ''));
    expect(keys.sort()).toEqual([...f.objects.keys()].filter((k) => k.startsWith('train/')).sort());
  });

  it('aws s3 cp of a dataset object: byte-exact', async () => {
    const out = join(home, 'scan-1.raw');
    const r = await aws('s3', 'cp', `s3://${DATASET}/train/scan-1.raw`, out);
    expect(r.status).toBe(0);
    expect(readFileSync(out).equals(f.objects.get('train/scan-1.raw')!)).toBe(true);
  });

  it('aws s3 cp of a large object: aws-cli fetches it in parallel ranges, each one decided and logged', async () => {
    const big = randomBytes(20 * 1024 * 1024 + 3);
    const ds = (await f.gateway.get(DatasetRepository).get(DATASET))!;
    await f.gateway.get(ObjectStore).put(ds.bucket, `${ds.prefix}train/big.raw`, big);
    const out = join(home, 'big.raw');
    const r = await aws('s3', 'cp', `s3://${DATASET}/train/big.raw`, out);
    expect(r.status).toBe(0);
    expect(readFileSync(out).equals(big)).toBe(true);
    const keyHex = Buffer.from('train/big.raw').toString('hex');
    const reads = (await f.gateway.get(AuditRepository).find({ limit: 100_000 }))
      .map((l) => l.leaf)
      .filter((l) => l.action === 'read' && l.resource?.keyHex === keyHex);
    expect(reads.length).toBeGreaterThan(1);
    expect(reads.every((l) => l.decision === 'allow' && l.status === 206 && l.range !== null)).toBe(true);
    expect(reads.reduce((n, l) => n + l.bytes, 0)).toBe(big.length);
    await f.gateway.get(ObjectStore).delete(ds.bucket, `${ds.prefix}train/big.raw`);
  });

  it('aws s3api get-object --range: exactly the range', async () => {
    const out = join(home, 'range.bin');
    const r = await aws('s3api', 'get-object', '--bucket', DATASET, '--key', 'train/scan-1.raw', '--range', 'bytes=1000-1999', out);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      ContentLength: 1000,
      ContentRange: `bytes 1000-1999/${f.objects.get('train/scan-1.raw')!.length}`,
    });
    expect(readFileSync(out).equals(f.objects.get('train/scan-1.raw')!.subarray(1000, 2000))).toBe(true);
  });

  it('aws s3 cp of a test-split object the team is not granted: a 404, nothing written', async () => {
    const out = join(home, 'stolen.raw');
    const r = await aws('s3', 'cp', `s3://${DATASET}/test/scan-9.raw`, out);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/404|Not Found/);
    expect(() => readFileSync(out)).toThrow();
  });

  it('aws s3 cp of predictions into the outbox: released by the egress pipeline', async () => {
    env = as('beta');
    const file = join(home, 'predictions.csv');
    writeFileSync(file, predictions(['scan-9,10.2,-20.7,30.1,0.91234']));
    const before = (await f.gateway.get(ObjectStore).list(OUTBOX_BUCKET, '', undefined, 1000)).objects.length;
    const r = await aws('s3', 'cp', file, 's3://outbox/predictions/from-aws-cli.csv');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect((await f.gateway.get(ObjectStore).list(OUTBOX_BUCKET, '', undefined, 1000)).objects.length).toBe(before + 1);
  });

  it('boto3: a paginated listing sees every granted key once', async () => {
    const r = await python(
      `import sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1])
keys = [o["Key"] for p in s3.get_paginator("list_objects_v2").paginate(Bucket="${DATASET}", PaginationConfig={"PageSize": 2}) for o in p.get("Contents", [])]
print("\\n".join(keys))`,
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toEqual([...f.objects.keys()].filter((k) => k.startsWith('train/')).sort());
  });

  it('boto3: put_object of predictions, the receipt in the response headers; a refusal is a ClientError with the reason', async () => {
    env = as('beta');
    const r = await python(
      `import sys, boto3
from botocore.exceptions import ClientError
s3 = boto3.client("s3", endpoint_url=sys.argv[1])
h = s3.put_object(Bucket="outbox", Key="predictions/boto3.csv", Body=open(sys.argv[2], "rb"))["ResponseMetadata"]["HTTPHeaders"]
print(h["x-cage-egress-status"], h["x-cage-receipt-id"])
try:
    s3.put_object(Bucket="outbox", Key="predictions/bad.csv", Body=b"name,birthdate\\nJane Doe,1950-01-01\\n")
except ClientError as e:
    print(e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"])`,
      [join(home, 'predictions.csv')],
    );
    expect(r.stderr).toBe('');
    const [released, refused] = r.stdout.trim().split('\n');
    expect(released).toMatch(/^released egr-/);
    expect(refused).toBe('EgressRejected 422');
  });

  it('boto3 presigned GET, fetched with curl', async () => {
    const url = (
      await python(
        `import sys, boto3
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=sys.argv[1], config=Config(signature_version="s3v4"))
print(s3.generate_presigned_url("get_object", Params={"Bucket": "${DATASET}", "Key": "train/annotations.csv"}, ExpiresIn=300))`,
      )
    ).stdout.trim();
    expect(url).toContain('X-Amz-Signature=');
    const r = await run(CURL, ['-sS', '--fail', url], env);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(f.objects.get('train/annotations.csv')!.toString());
    const tampered = await run(CURL, ['-sS', '-o', '/dev/null', '-w', '%{http_code}', url.replace('annotations.csv', 'scan-1.raw')], env);
    expect(tampered.stdout).toBe('403');
  });
});
