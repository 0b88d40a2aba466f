import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedS3 } from './embedded-s3';
import { ObjectStore } from './object-store.service';

/*
 * s3rver's own PUT truncated the object before the new bytes arrived and answered before they
 * were written: an upload that failed half-way left neither the old object nor the new one, and
 * a failed write (a full disk) was an unhandled error that ended the process.
 */
describe('the embedded store writes an object whole or not at all', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cage-embedded-s3-'));
  let s3: EmbeddedS3;
  let store: ObjectStore;
  beforeAll(async () => {
    s3 = await EmbeddedS3.start(dir);
    store = new ObjectStore({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
      forcePathStyle: true,
      timeoutMs: 5000,
    });
    await store.ensureBucket('bucket-one');
  });
  afterAll(async () => {
    store.destroy();
    await s3.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('should not lose the old object when an upload over it breaks off half-way', async () => {
    const old = Buffer.alloc(256 * 1024, 1);
    await store.put('bucket-one', 'k', old);
    // An upload that announces 1 MiB, sends 300 KiB and is cut (unsigned: s3rver checks no signature).
    await new Promise<void>((resolve) => {
      const u = new URL(s3.endpoint);
      const req = request({
        host: u.hostname,
        port: u.port,
        method: 'PUT',
        path: '/bucket-one/k',
        headers: { 'content-length': 1024 * 1024 },
      });
      req.on('error', () => resolve());
      req.write(Buffer.alloc(300 * 1024, 2), () => setTimeout(() => (req.destroy(), resolve()), 100));
    });
    await new Promise((r) => setTimeout(r, 200));
    const got = await store.get('bucket-one', 'k');
    const chunks: Buffer[] = [];
    for await (const c of got.body) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(old)).toBe(true);
    // No half-written file left behind beside it.
    const files = readdirSync(join(dir, 'bucket-one'), { recursive: true }).map(String);
    expect(files.filter((f) => f.includes('.partial-'))).toEqual([]);
  });

  it('stores a whole upload, replacing the old object', async () => {
    await store.put('bucket-one', 'k2', Buffer.alloc(10, 1));
    await store.put('bucket-one', 'k2', Buffer.alloc(20, 2));
    expect((await store.head('bucket-one', 'k2')).size).toBe(20);
  });
});

describe("the gateway's own embedded store", () => {
  const dir = mkdtempSync(join(tmpdir(), 'cage-embedded-private-'));
  let s3: EmbeddedS3;
  beforeAll(async () => {
    s3 = await EmbeddedS3.startPrivate(join(dir, 's3'), join(dir, 's3.sock'));
  });
  afterAll(async () => {
    await s3.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('listens on a Unix socket only its user may open, and serves the gateway with the key pair made for this start', async () => {
    expect(statSync(join(dir, 's3.sock')).mode & 0o777).toBe(0o600);
    expect(s3.endpoint).not.toMatch(/127\.0\.0\.1|localhost/);
    const store = new ObjectStore({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, timeoutMs: 5000, ...s3.access! });
    await store.ensureBucket('bucket-two');
    await store.put('bucket-two', 'k', Buffer.from('kept'));
    expect((await store.getBuffer('bucket-two', 'k', 100)).toString()).toBe('kept');
    store.destroy();
  });

  it("should not answer a client with s3rver's well-known keys, even one that reaches its socket", async () => {
    const intruder = new ObjectStore({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
      forcePathStyle: true,
      timeoutMs: 5000,
      socketPath: s3.access!.socketPath,
    });
    await expect(intruder.list('bucket-two', '', undefined, 10)).rejects.toThrow(/AccessDenied/);
    await expect(intruder.getBuffer('bucket-two', 'k', 100)).rejects.toThrow();
    intruder.destroy();
  });
});
