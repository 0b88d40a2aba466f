import { PassThrough, Transform, Writable } from 'node:stream';
import { type AuditLog } from '../audit/audit-log.service';
import { OpenDownloads, type WatchedDownload } from './open-downloads';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const STALL_MS = 150;

function rig() {
  const leaves: Record<string, unknown>[] = [];
  const downloads = new OpenDownloads(
    { get: () => Promise.resolve({ revokedAt: null, expiresAt: new Date(Date.now() + 3_600_000) } as never) },
    {
      forTeam: () =>
        Promise.resolve({
          team: 't',
          grants: [{ dataset: 'd', split: 'train', notBefore: new Date(0), notAfter: new Date(Date.now() + 3_600_000) }],
        } as never),
    },
    { record: (_meta: unknown, leaf: Record<string, unknown>) => Promise.resolve(void leaves.push(leaf)) } as unknown as AuditLog,
    { now: () => new Date() },
    STALL_MS,
  );
  const download: WatchedDownload = {
    job: { kind: 'job', jobId: 'j', team: 't' } as never,
    dataset: 'd',
    split: 'train',
    meta: { requestId: 'r', listener: 'sandbox' },
    leaf: { principal: 'job:j', team: 't', resource: { type: 'object', dataset: 'd', keyHex: '00' } },
  };
  return { downloads, download, leaves };
}

describe('open downloads and a store that stops sending', () => {
  it('cuts a download whose store went silent while the client was ready for more, and logs the bytes served', async () => {
    const { downloads, download, leaves } = rig();
    const store = new PassThrough();
    const out = downloads.watch(store, download);
    let received = 0;
    let failure: Error | undefined;
    out.on('data', (c: Buffer) => (received += c.length));
    out.on('error', (err) => (failure = err));
    out.resume(); // as the reply's pipe does
    store.write(Buffer.alloc(1000));
    await sleep(20);
    expect(await downloads.sweep()).toBe(0); // bytes just came: not stalled
    await sleep(STALL_MS + 50); // the store says nothing more
    expect(await downloads.sweep()).toBe(0); // once could be a late sweep
    expect(await downloads.sweep()).toBe(1);
    await sleep(10);
    expect(failure?.message).toMatch(/object store stalled/);
    expect(out).toBe(store); // served as is: no stream in between
    expect(store.destroyed).toBe(true);
    expect(received).toBe(1000);
    expect(leaves).toEqual([
      expect.objectContaining({ action: 'read.cut', detail: { reason: 'object store stalled', bytesServed: 1000 } }),
    ]);
    expect(downloads.size).toBe(0);
  });

  it('never cuts a download that a slow client is holding back, however long', async () => {
    const { downloads, download } = rig();
    const store = new PassThrough();
    const out = downloads.watch(store, download);
    // The client reads nothing for a while: backpressure reaches the store's body.
    const stuck = new Writable({ highWaterMark: 1, write: (_c, _e, done) => void setTimeout(done, 10_000).unref() });
    out.pipe(stuck);
    for (let i = 0; i < 64; i++) store.write(Buffer.alloc(64 * 1024));
    for (let i = 0; i < 4; i++) {
      await sleep(STALL_MS);
      expect(await downloads.sweep()).toBe(0);
    }
    expect(out.destroyed).toBe(false);
    expect(downloads.size).toBe(1);
    out.destroy();
    store.destroy();
  });

  it('never cuts a held-back download whose store has sent its last bytes', async () => {
    const { downloads, download } = rig();
    const store = new PassThrough();
    const out = downloads.watch(store, download);
    const stuck = new Writable({ highWaterMark: 1, write: (_c, _e, done) => void setTimeout(done, 10_000).unref() });
    out.pipe(stuck);
    // Small last chunks (under a stream's buffer), then the end, all while the client reads nothing.
    for (let i = 0; i < 3; i++) store.write(Buffer.alloc(8 * 1024));
    store.end();
    for (let i = 0; i < 4; i++) {
      await sleep(STALL_MS);
      expect(await downloads.sweep()).toBe(0);
    }
    expect(out.destroyed).toBe(false);
    out.destroy();
  });

  it('loses no byte before its consumer pipes it, and counts what it handed on when cut', async () => {
    const { downloads, download, leaves } = rig();
    const store = new PassThrough();
    const out = downloads.watch(store, download);
    store.write(Buffer.alloc(3000, 1));
    await sleep(20); // the reply pipes the body only after the read's leaf is logged
    const got: Buffer[] = [];
    const sink = new Writable({ write: (c: Buffer, _e, done) => void (got.push(c), done()) });
    out.pipe(sink);
    store.write(Buffer.alloc(500, 2));
    await sleep(10);
    expect(Buffer.concat(got)).toEqual(Buffer.concat([Buffer.alloc(3000, 1), Buffer.alloc(500, 2)]));
    await sleep(STALL_MS + 50);
    await downloads.sweep();
    expect(await downloads.sweep()).toBe(1);
    expect(leaves).toEqual([expect.objectContaining({ detail: { reason: 'object store stalled', bytesServed: 3500 } })]);
  });

  it('lets a body go whose output ended though its input never finished (a trimmed range)', async () => {
    const { downloads, download } = rig();
    const source = new PassThrough();
    // As trimToRange does: the last wanted byte ends the output and the source is dropped.
    const trimmed = new Transform({
      transform(chunk: Buffer, _e, done) {
        this.push(chunk.subarray(0, 1));
        this.push(null);
        source.destroy();
        done();
      },
    });
    source.pipe(trimmed);
    const out = downloads.watch(trimmed, download);
    out.pipe(new Writable({ write: (_c, _e, done) => done() }));
    source.write(Buffer.alloc(100));
    await sleep(20);
    expect(downloads.size).toBe(0);
    expect(trimmed.destroyed).toBe(true);
  });
});
