import { connect, createServer, type Socket } from 'node:net';

/**
 * The floor for any proxy written in Node on this machine: a bare TCP relay in its own process
 * (each connection piped byte for byte to the store and back — no HTTP parsing, no policy, no
 * audit). The stream figures run the direct client through it too, so the table shows how much
 * of the gateway's gap to direct is the extra hop itself (a read and a write of every byte in
 * one more process on the same cores) and how much is the gateway's own work.
 * Usage: node tcp-relay-child.js <target-url>; prints one JSON line with its endpoint once
 * listening; stops on SIGTERM/SIGINT or when its parent's pipe closes.
 */
function main(): void {
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
  const stop = () => {
    server.close(() => process.exit(0));
    for (const s of open) s.destroy();
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
