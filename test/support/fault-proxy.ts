import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';

/** `refuse`: the connection is dropped unanswered, as a store that is down does. */
export type Fault = 'cut-after-64k' | 'fail-500' | 'refuse';

/**
 * An S3 endpoint in front of a real one that injects faults: `rule` picks a fault per request
 * (or none, to pass it through untouched).
 */
export async function faultProxy(
  target: string,
  rule: (req: IncomingMessage) => Fault | undefined,
): Promise<{ url: string; server: Server }> {
  const t = new URL(target);
  const server = createServer((req, res) => {
    const fault = rule(req);
    if (fault === 'refuse') {
      req.socket.destroy();
      return;
    }
    if (fault === 'fail-500') {
      req.resume();
      res.writeHead(500, { 'content-type': 'application/xml' });
      res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>injected</Message></Error>');
      return;
    }
    const up = httpRequest({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
      upRes.on('error', () => res.destroy());
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      if (fault === 'cut-after-64k') {
        let sent = 0;
        upRes.on('data', (c: Buffer) => {
          if (sent >= 64 * 1024) return;
          sent += c.length;
          res.write(c);
          if (sent >= 64 * 1024) {
            upRes.destroy();
            res.destroy();
          }
        });
      } else {
        upRes.pipe(res);
      }
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}
