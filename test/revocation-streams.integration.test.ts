import { get, type IncomingMessage } from 'node:http';
import { AuditRepository } from '../src/audit/audit.repository';
import { DatasetRepository } from '../src/datasets/dataset.repository';
import { GrantRepository } from '../src/grants/grant.repository';
import { JobService } from '../src/jobs/job.service';
import { ObjectStore } from '../src/storage/object-store.service';
import { DB_KINDS } from './support/backends';
import { DATASET, type Fixture, startFixture } from './support/fixture';
import { SigV4TestClient } from './support/sigv4-client';

/*
 * Issue 15: revocation reaches downloads already running. A client reads the first bytes of a
 * 64 MiB object and stops reading (as a slow reader would); the organizer revokes; the gateway
 * must end the transfer within a second and log how many bytes it had served.
 */
const SIZE = 64 * 1024 * 1024;
const meta = { requestId: 'revocation-test', listener: 'internal' as const };

interface Download {
  first: Promise<void>;
  /** Reads on (a paused client socket reads nothing, so it notices a cut only when it reads again). */
  resume: () => void;
  ended: Promise<{ received: number; complete: boolean }>;
}

/** Starts a GET, takes its first chunk, then stops reading. */
function slowDownload(url: string, headers: Record<string, string>): Download {
  let received = 0;
  let res: IncomingMessage | undefined;
  let gotFirst: () => void = () => undefined;
  const first = new Promise<void>((r) => (gotFirst = r));
  const ended = new Promise<{ received: number; complete: boolean }>((resolve, reject) => {
    const req = get(url, { headers }, (r) => {
      res = r;
      if (r.statusCode !== 200) reject(new Error(`status ${r.statusCode}`));
      r.on('data', (c: Buffer) => {
        if (received === 0) {
          r.pause();
          gotFirst();
        }
        received += c.length;
      });
      r.on('error', () => undefined);
      r.on('close', () => resolve({ received, complete: r.complete }));
    });
    req.on('error', () => resolve({ received, complete: false }));
  });
  return { first, ended, resume: () => res?.resume() };
}

describe.each(DB_KINDS)('revocation reaches open downloads (%s)', (db) => {
  let f: Fixture;
  let grantBeta: string;
  beforeAll(async () => {
    f = await startFixture({ db });
    const { bucket } = (await f.gateway.get(DatasetRepository).get(DATASET))!;
    const big = Buffer.alloc(SIZE, 7);
    for (const split of ['train', 'test']) await f.gateway.get(ObjectStore).put(bucket, `${DATASET}/${split}/big.bin`, big);
    grantBeta = (await f.gateway.get(GrantRepository).forTeam('beta')).grants[0].id;
  }, 120_000);
  afterAll(async () => {
    await f?.stop();
  });

  /** Milliseconds from now until the job's download is cut (its read.cut leaf), or the limit. */
  const cutWithin = async (jobId: string, limitMs: number): Promise<number> => {
    const start = Date.now();
    while (Date.now() - start < limitMs && !(await cuts()).some((l) => l.principal === `job:${jobId}`))
      await new Promise((r) => setTimeout(r, 20));
    return Date.now() - start;
  };
  const cuts = async () => (await f.gateway.get(AuditRepository).find({ action: 'read.cut', limit: 100 })).map((l) => l.leaf);

  it('should not let a REST download run on once its job is revoked: cut within 1 s, bytes served logged', async () => {
    const job = await f.gateway.get(JobService).issue('alpha', 3600, 'test', meta);
    const d = slowDownload(`${f.gateway.sandboxUrl}/v1/datasets/${DATASET}/objects/train/big.bin`, {
      authorization: `Bearer ${job.token}`,
    });
    await d.first;
    const revoked = await fetch(`${f.gateway.controlUrl}/v1/jobs/${job.jobId}/revoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${f.organizerToken}` },
    });
    expect(revoked.status).toBe(200);
    const after = await cutWithin(job.jobId, 2000);
    d.resume();
    const end = await d.ended;
    process.stdout.write(`job revoked: download cut after ${after} ms, ${end.received} of ${SIZE} bytes received\n`);
    expect(end.complete).toBe(false);
    expect(end.received).toBeLessThan(SIZE);
    expect(after).toBeLessThanOrEqual(1000);
    const leaf = (await cuts()).find((l) => l.principal === `job:${job.jobId}`);
    expect(leaf).toMatchObject({ decision: 'deny', resource: { dataset: DATASET }, detail: { reason: 'job revoked' } });
    expect(Number(leaf?.detail?.bytesServed)).toBeGreaterThan(0);
    expect(Number(leaf?.detail?.bytesServed)).toBeLessThan(SIZE);
  });

  it('should not let an S3 download run on once the grant it reads under is revoked', async () => {
    const job = await f.gateway.get(JobService).issue('beta', 3600, 'test', meta);
    const s3 = new SigV4TestClient(f.gateway.sandboxUrl, job);
    const signed = await s3.sign({ method: 'GET', path: `/${DATASET}/test/big.bin`, date: new Date(), payloadHash: 'UNSIGNED-PAYLOAD' });
    const d = slowDownload(`${f.gateway.sandboxUrl}${signed.target}`, signed.headers);
    await d.first;
    const revoked = await fetch(`${f.gateway.controlUrl}/v1/grants/${grantBeta}/revoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${f.organizerToken}` },
    });
    expect(revoked.status).toBe(200);
    const after = await cutWithin(job.jobId, 2000);
    d.resume();
    const end = await d.ended;
    process.stdout.write(`grant revoked: S3 download cut after ${after} ms, ${end.received} of ${SIZE} bytes received\n`);
    expect(end.complete).toBe(false);
    expect(after).toBeLessThanOrEqual(1000);
    expect((await cuts()).find((l) => l.principal === `job:${job.jobId}`)).toMatchObject({
      detail: { reason: 'grant revoked or ended' },
    });
  });

  it('lets a download whose rights stand run to its end', async () => {
    const job = await f.gateway.get(JobService).issue('alpha', 3600, 'test', meta);
    const r = await fetch(`${f.gateway.sandboxUrl}/v1/datasets/${DATASET}/objects/train/big.bin`, {
      headers: { authorization: `Bearer ${job.token}` },
    });
    expect((await r.arrayBuffer()).byteLength).toBe(SIZE);
    expect((await cuts()).find((l) => l.principal === `job:${job.jobId}`)).toBeUndefined();
  });
});
