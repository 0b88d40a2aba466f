import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { type AddressInfo, type Socket } from 'node:net';

/**
 * What the proxy does to one request:
 * - `refuse`: the connection is dropped unanswered, as a store that is down does;
 * - `fail-500`: an S3 InternalError;
 * - `cut-after-64k`: the response is cut after 64 KiB of body;
 * - `stall`: the request is held and never answered (a hung store), until `release()`;
 * - `{ delayMs }`: passed through after a delay (a slow store).
 */
export type Fault = 'cut-after-64k' | 'fail-500' | 'refuse' | 'stall' | { delayMs: number };

export interface FaultProxy {
  url: string;
  server: Server;
  /** Drops every held (stalled) request and every open connection. */
  release: () => void;
  close: () => Promise<void>;
}

/**
 * An S3 endpoint in front of a real one that injects faults (tests and the soak suite): `rule`
 * picks a fault per request, or none to pass it through. While `hold()` is true, bodies already
 * flowing stop flowing too (the store hangs mid-response), and resume when it turns false.
 */
export async function faultProxy(
  target: string,
  rule: (req: IncomingMessage) => Fault | undefined,
  hold: () => boolean = () => false,
): Promise<FaultProxy> {
  const t = new URL(target);
  const stalled = new Set<Socket>();
  const server = createServer((req, res) => {
    const fault = rule(req);
    if (fault === 'refuse') {
      req.socket.destroy();
      return;
    }
    if (fault === 'stall') {
      stalled.add(req.socket);
      req.socket.once('close', () => stalled.delete(req.socket));
      req.resume();
      return;
    }
    if (fault === 'fail-500') {
      req.resume();
      res.writeHead(500, { 'content-type': 'application/xml' });
      res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>injected</Message></Error>');
      return;
    }
    const forward = () => {
      const up = httpRequest({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
        upRes.on('error', () => res.destroy());
        res.on('close', () => upRes.destroy());
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        let sent = 0;
        const resume = () => (hold() ? setTimeout(resume, 50) : upRes.resume());
        upRes.on('data', (c: Buffer) => {
          if (fault === 'cut-after-64k' && sent >= 64 * 1024) return;
          sent += c.length;
          if (!res.write(c)) {
            upRes.pause();
            res.once('drain', resume);
          } else if (hold()) {
            upRes.pause();
            setTimeout(resume, 50);
          }
          if (fault === 'cut-after-64k' && sent >= 64 * 1024) {
            upRes.destroy();
            res.destroy();
          }
        });
        upRes.on('end', () => res.end());
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    };
    if (typeof fault === 'object') {
      req.pause();
      setTimeout(forward, fault.delayMs);
    } else forward();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const release = () => {
    for (const s of stalled) s.destroy();
    stalled.clear();
  };
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    release,
    close: async () => {
      release();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
