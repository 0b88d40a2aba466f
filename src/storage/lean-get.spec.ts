import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { LeanGet } from './lean-get';

/** A server that records what the store would see and answers 200 with a few bytes. */
async function recorder(): Promise<{ server: Server; endpoint: string; seen: { url: string; headers: IncomingHttpHeaders }[] }> {
  const seen: { url: string; headers: IncomingHttpHeaders }[] = [];
  const server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    res.end('bytes');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

describe('the lean store GET', () => {
  it('presigns a key once and reuses it, with the Range header beside the signature', async () => {
    const { server, endpoint, seen } = await recorder();
    const get = new LeanGet({ endpoint, region: 'us-east-1', accessKeyId: 'AK', secretAccessKey: 'SK', timeoutMs: 5000 });
    try {
      for (const range of [undefined, 'bytes=0-1']) {
        const a = await get.get('bucket', 'train/a b.raw', range);
        for await (const _ of a.body) void _;
      }
      const b = await get.get('bucket', 'train/other.raw', undefined);
      for await (const _ of b.body) void _;
    } finally {
      await get.destroy();
      server.close();
    }
    const [first, ranged, other] = seen;
    expect(first.url).toMatch(/^\/bucket\/train\/a%20b\.raw\?/);
    const q = new URL(first.url, endpoint).searchParams;
    expect(q.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(q.get('X-Amz-Credential')).toMatch(/^AK\/\d{8}\/us-east-1\/s3\/aws4_request$/);
    expect(q.get('X-Amz-Expires')).toBe('3600');
    expect(q.get('X-Amz-SignedHeaders')).toBe('host');
    expect(q.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    expect(first.headers.authorization).toBeUndefined();
    // The same key: the same presigned URL, the range sent as a header.
    expect(ranged.url).toBe(first.url);
    expect(ranged.headers.range).toBe('bytes=0-1');
    // Another key: its own signature.
    expect(new URL(other.url, endpoint).searchParams.get('X-Amz-Signature')).not.toBe(q.get('X-Amz-Signature'));
  });
});
