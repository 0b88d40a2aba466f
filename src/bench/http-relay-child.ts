import { createServer, type IncomingHttpHeaders } from 'node:http';
import { pipeline } from 'node:stream';
import { Pool } from 'undici';
import { closeServer, listenOnLoopback, serveAsChild } from './child-endpoint';

/**
 * The floor for a small read through any HTTP gateway written in Node on this machine: a bare
 * HTTP relay in its own process (node:http parses each request, one GET with the client's headers
 * goes to the store over an undici keep-alive pool, its status, length and ETag and body go back)
 * with nothing else — no routing framework, credential, policy, audit or logging. The client signs
 * for the relay's host, which the relay passes on, so presigned URLs and SigV4 headers both hold.
 * The small-read, time-to-first-byte and ranged-read figures print it next to the gateway.
 * Usage: node http-relay-child.js <store-url>; prints one JSON line with its endpoint once
 * listening; stops on SIGTERM/SIGINT or when its parent's pipe closes.
 */
async function main(): Promise<void> {
  const store = new Pool(new URL(process.argv[2] ?? '').origin, { connections: 256 });
  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    store
      .request({
        path: req.url ?? '/',
        method: 'GET',
        headers: forwarded(req.headers),
      })
      .then((up) => {
        const headers: Record<string, string> = {};
        for (const name of ['content-length', 'content-type', 'etag', 'last-modified', 'content-range']) {
          const v = up.headers[name];
          if (typeof v === 'string') headers[name] = v;
        }
        res.writeHead(up.statusCode, headers);
        // A client that goes away releases the store's body (and its pooled connection) too.
        pipeline(up.body, res, () => undefined);
      })
      .catch(() => {
        res.statusCode = 502;
        res.end();
      });
  });
  const endpoint = await listenOnLoopback(server);
  serveAsChild(endpoint, async () => {
    await closeServer(server, () => server.closeAllConnections());
    await store.destroy();
  });
}

/** The request's headers less the hop-by-hop ones (RFC 9110 §7.6.1), which undici refuses or sets itself. */
function forwarded(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'expect']);

main().catch((err: Error) => {
  process.stderr.write(`http-relay-child: ${err.message}\n`);
  process.exit(1);
});
