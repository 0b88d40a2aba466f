import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Readable } from 'node:stream';
import { faultProxy, type Fault } from '../src/bench/fault-proxy';
import { EmbeddedS3 } from '../src/storage/embedded-s3';
import {
  ObjectNotFoundError,
  ObjectStore,
  ObjectStoreUnavailableError,
  RangeNotSatisfiableError,
} from '../src/storage/object-store.service';
import { EXTERNAL_S3, S3_KINDS, type S3Kind } from './support/backends';

/*
 * The store's GET path (src/storage/lean-get.ts: undici and the SDK's SigV4 signer, no S3 client
 * middleware) against real S3 servers: Ceph RGW checks every signature, so a key encoded or
 * signed wrongly is a 403 there.
 */

async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const AWKWARD_KEYS = [
  'train/plain.raw',
  'train/with space+plus.mhd',
  "train/(paren)!*'~.raw",
  'train/ünïcode/ß.raw',
  'train/a=b&c;d,e@f$g.raw',
  'train//double/slash',
];

describe.each(S3_KINDS)('the store GET path on %s', (kind: S3Kind) => {
  const dir = mkdtempSync(join(tmpdir(), 'cage-store-get-'));
  let s3: EmbeddedS3 | undefined;
  let options: ConstructorParameters<typeof ObjectStore>[0];
  let store: ObjectStore;
  const bucket = `cage-get-${randomBytes(4).toString('hex')}`;
  const big = randomBytes(16 * 1024 * 1024);
  // s3rver's router cannot hold an empty path segment; Ceph RGW can.
  const keys = kind === 's3rver' ? AWKWARD_KEYS.filter((k) => !k.includes('//')) : AWKWARD_KEYS;

  beforeAll(async () => {
    if (kind === 's3rver') {
      s3 = await EmbeddedS3.start(dir);
      options = {
        endpoint: s3.endpoint,
        region: 'us-east-1',
        accessKeyId: 'S3RVER',
        secretAccessKey: 'S3RVER',
        forcePathStyle: true,
        timeoutMs: 3000,
      };
    } else {
      options = { ...EXTERNAL_S3!, forcePathStyle: true, timeoutMs: 3000 };
    }
    store = new ObjectStore(options);
    await store.ensureBucket(bucket);
    for (const k of keys) await store.put(bucket, k, Buffer.from(`bytes of ${k}`));
    await store.put(bucket, 'big.raw', big);
  }, 60_000);
  afterAll(async () => {
    store.destroy();
    await s3?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(keys)('reads %j whole and by range, signed as the store checks it', async (key) => {
    const whole = await store.get(bucket, key);
    expect((await readAll(whole.body)).toString()).toBe(`bytes of ${key}`);
    expect(whole.etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(whole.lastModified).toBeInstanceOf(Date);
    const part = await store.get(bucket, key, { start: 0, end: 4 });
    expect((await readAll(part.body)).toString()).toBe('bytes');
    expect(part.range).toEqual({ start: 0, end: 4 });
    expect(part.size).toBe(Buffer.byteLength(`bytes of ${key}`));
  });

  it('should not mistake a missing key or an unsatisfiable range for a failing store', async () => {
    await expect(store.get(bucket, 'train/absent.raw')).rejects.toBeInstanceOf(ObjectNotFoundError);
    const err = await store.get(bucket, 'big.raw', { start: big.length + 10 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RangeNotSatisfiableError);
    expect((err as RangeNotSatisfiableError).size).toBe(big.length);
  });

  it('should not read with a wrong secret: the store refuses it and the caller sees a failing store', async () => {
    if (kind === 's3rver') return; // s3rver checks no signature; Ceph RGW does
    const wrong = new ObjectStore({ ...options, secretAccessKey: 'not-the-secret' });
    try {
      await expect(wrong.get(bucket, 'train/plain.raw')).rejects.toBeInstanceOf(ObjectStoreUnavailableError);
    } finally {
      wrong.destroy();
    }
  });

  it('should not buffer a body its reader does not read: the connection waits (backpressure)', async () => {
    const o = await store.get(bucket, 'big.raw');
    await new Promise((r) => setTimeout(r, 300));
    expect(o.body.readableLength).toBeLessThan(1024 * 1024);
    expect((await readAll(o.body)).equals(big)).toBe(true);
  });

  it('should not raise an error when a reader lets a body go, and reuses the connection afterwards', async () => {
    const errors: Error[] = [];
    for (let i = 0; i < 200; i++) {
      const o = await store.get(bucket, 'big.raw');
      o.body.on('error', (e: Error) => errors.push(e));
      if (i % 2 === 0) await new Promise((r) => o.body.once('readable', r));
      o.body.destroy();
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(errors).toEqual([]);
    expect((await readAll((await store.get(bucket, 'train/plain.raw')).body)).toString()).toBe('bytes of train/plain.raw');
  }, 60_000);
});

describe('the store GET path when the store fails', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cage-store-get-fault-'));
  let s3: EmbeddedS3;
  let fault: Fault | undefined;
  let seen = 0;
  let proxy: Awaited<ReturnType<typeof faultProxy>>;
  let store: ObjectStore;

  beforeAll(async () => {
    s3 = await EmbeddedS3.start(dir);
    proxy = await faultProxy(s3.endpoint, () => {
      seen++;
      const f = fault;
      if (f === 'fail-500') fault = undefined; // a transient failure: the next try passes
      return f;
    });
    store = new ObjectStore({
      endpoint: proxy.url,
      region: 'us-east-1',
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
      forcePathStyle: true,
      timeoutMs: 500,
    });
    await store.ensureBucket('bucket-fault');
    await store.put('bucket-fault', 'k', Buffer.from('hello'));
  });
  afterAll(async () => {
    store.destroy();
    proxy.release();
    await proxy.close();
    await s3.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    fault = undefined;
    seen = 0;
    proxy.release();
  });

  it('tries once more after a 5xx, as the SDK client does', async () => {
    fault = 'fail-500';
    expect((await readAll((await store.get('bucket-fault', 'k')).body)).toString()).toBe('hello');
    expect(seen).toBe(2);
  });

  it('should not wait forever on a store that never answers: a failing store within the timeout, twice', async () => {
    fault = 'stall';
    const t0 = Date.now();
    await expect(store.get('bucket-fault', 'k')).rejects.toBeInstanceOf(ObjectStoreUnavailableError);
    expect(Date.now() - t0).toBeLessThan(2500);
    expect(seen).toBe(2);
  });

  it('should not serve from a store that refuses connections', async () => {
    fault = 'refuse';
    await expect(store.get('bucket-fault', 'k')).rejects.toBeInstanceOf(ObjectStoreUnavailableError);
  });

  it('stops waiting when the caller aborts', async () => {
    fault = 'stall';
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('caller gone')), 50);
    const t0 = Date.now();
    await expect(store.get('bucket-fault', 'k', undefined, ac.signal)).rejects.toBeInstanceOf(ObjectStoreUnavailableError);
    expect(Date.now() - t0).toBeLessThan(400);
    expect(seen).toBe(1);
  });
});
