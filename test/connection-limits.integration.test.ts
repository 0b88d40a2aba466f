import { connect, type Socket } from 'node:net';
import { type Fixture, startFixture } from './support/fixture';

/*
 * Issue 15: a hostile client cannot hold the listeners' connections. Small limits here, the same
 * code as the defaults (docs/operations.md lists them).
 */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function open(url: string): Promise<Socket & { closedAt?: number }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const s: Socket & { closedAt?: number } = connect(Number(u.port), u.hostname, () => resolve(s));
    s.on('error', () => undefined);
    s.on('close', () => (s.closedAt = Date.now()));
    s.once('error', reject);
  });
}
const stillOpen = (sockets: (Socket & { closedAt?: number })[]) => sockets.filter((s) => s.closedAt === undefined).length;

describe('bounded connections per listener and per client address', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await startFixture({
      db: 'pglite',
      env: {
        CAGE_IDLE_TIMEOUT_SECONDS: '1',
        CAGE_HEADERS_TIMEOUT_SECONDS: '1',
        CAGE_SANDBOX_MAX_CONNECTIONS: '30',
        CAGE_SANDBOX_MAX_CONNECTIONS_PER_ADDRESS: '20',
      },
    });
  });
  afterAll(async () => {
    await f?.stop();
  });

  it('should not keep a connection that never sends a byte', async () => {
    const idle = await Promise.all(Array.from({ length: 10 }, () => open(f.gateway.sandboxUrl)));
    await sleep(300);
    expect(stillOpen(idle)).toBe(10);
    await sleep(2500);
    expect(stillOpen(idle)).toBe(0);
  });

  it('should not wait for headers sent a byte at a time (slow-loris)', async () => {
    const s = await open(f.gateway.sandboxUrl);
    const started = Date.now();
    s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    const drip = setInterval(() => s.closedAt === undefined && s.write('X-a: b\r\n'), 200);
    while (s.closedAt === undefined && Date.now() - started < 5000) await sleep(50);
    clearInterval(drip);
    expect(s.closedAt).toBeDefined();
    expect(s.closedAt! - started).toBeLessThan(3000);
  });

  it('should not let one address hold more than its share, and keeps the control listener answering', async () => {
    const flood = await Promise.all(Array.from({ length: 35 }, () => open(f.gateway.sandboxUrl).catch(() => undefined)));
    const sockets = flood.filter((s) => s !== undefined);
    await sleep(300);
    expect(stillOpen(sockets)).toBeLessThanOrEqual(20);
    expect(stillOpen(sockets)).toBeGreaterThan(0);
    // The probes and the people's API are on the other listener, with limits of their own.
    expect((await fetch(`${f.gateway.controlUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${f.gateway.controlUrl}/readyz`)).status).toBe(200);
    const refused = await (
      await fetch(`${f.gateway.controlUrl}/metrics`, { headers: { authorization: `Bearer ${f.organizerToken}` } })
    ).text();
    expect(refused).toMatch(/cage_connections_refused_total\{listener="sandbox",reason="address"\} [1-9]/);
    for (const s of sockets) s.destroy();
    await sleep(200);
    // Freed: a request is served again.
    expect((await fetch(`${f.gateway.sandboxUrl}/healthz`)).status).toBe(200);
  });

  it('should not take a request head over 16 KiB', async () => {
    const r = await fetch(`${f.gateway.sandboxUrl}/healthz`, { headers: { 'x-big': 'a'.repeat(20_000) } }).catch((e: Error) => e);
    expect(r instanceof Error ? 431 : r.status).toBe(431);
  });
});
