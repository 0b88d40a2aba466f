import { createServer } from 'node:http';
import { Pool } from 'undici';

/**
 * The floor for a small read through any HTTP gateway written in Node on this machine: a bare
 * HTTP relay in its own process (node:http parses each request, one GET goes to the store over an
 * undici keep-alive pool, its status, length and ETag and body go back) with nothing else — no
 * routing framework, credential, policy, audit or logging. The small-read figures print its CPU
 * per request next to the gateway's.
 * Usage: node http-relay-child.js <store-url>; prints one JSON line with its endpoint once
 * listening; stops on SIGTERM/SIGINT or when its parent's pipe closes.
 */
function main(): void {
  const store = new Pool(new URL(process.argv[2] ?? '').origin, { connections: 256 });
  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    store
      .request({
        path: req.url ?? '/',
        method: 'GET',
        headers: { host: req.headers.host ?? '', ...(req.headers.range ? { range: req.headers.range } : {}) },
      })
      .then((up) => {
        const headers: Record<string, string> = {};
        for (const name of ['content-length', 'content-type', 'etag', 'last-modified', 'content-range']) {
          const v = up.headers[name];
          if (typeof v === 'string') headers[name] = v;
        }
        res.writeHead(up.statusCode, headers);
        up.body.pipe(res);
      })
      .catch(() => {
        res.statusCode = 502;
        res.end();
      });
  });
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
    void store.destroy();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdin.on('end', stop);
  process.stdin.resume();
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('relay: no port');
    process.stdout.write(`${JSON.stringify({ endpoint: `http://127.0.0.1:${address.port}`, pid: process.pid })}\n`);
  });
}

main();
