import { connect, createServer, type Socket } from 'node:net';
import { closeServer, listenOnLoopback, serveAsChild } from './child-endpoint';

/**
 * The floor for any proxy written in Node on this machine: a bare TCP relay in its own process
 * (each connection piped byte for byte to the store and back — no HTTP parsing, no policy, no
 * audit). The stream figures run the direct client through it too, so the table shows how much
 * of the gateway's gap to direct is the extra hop itself (a read and a write of every byte in
 * one more process on the same cores) and how much is the gateway's own work.
 * Usage: node tcp-relay-child.js <target-url>; prints one JSON line with its endpoint once
 * listening; stops on SIGTERM/SIGINT or when its parent's pipe closes.
 */
async function main(): Promise<void> {
  const target = new URL(process.argv[2] ?? '');
  const port = Number(target.port || (target.protocol === 'https:' ? 443 : 80));
  const open = new Set<Socket>();
  const server = createServer({ noDelay: true }, (client) => {
    const upstream = connect({ host: target.hostname, port, noDelay: true });
    for (const s of [client, upstream]) {
      open.add(s);
      s.once('close', () => open.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  const endpoint = await listenOnLoopback(server);
  serveAsChild(endpoint, () => closeServer(server, () => open.forEach((s) => s.destroy())));
}

main().catch((err: Error) => {
  process.stderr.write(`tcp-relay-child: ${err.message}\n`);
  process.exit(1);
});
