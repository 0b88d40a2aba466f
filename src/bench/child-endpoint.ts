import { type Server } from 'node:net';

/**
 * The protocol of the bench's child processes (processes.ts, startEndpointChild): once serving,
 * print one JSON line with the endpoint and pid; stop on SIGTERM/SIGINT, or when the parent's pipe
 * on stdin closes (a parent that dies without cleaning up takes its children with it).
 */
export function serveAsChild(endpoint: string, stop: () => Promise<void>): void {
  let stopping = false;
  const onStop = () => {
    if (stopping) return;
    stopping = true;
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);
  process.stdin.on('end', onStop);
  process.stdin.resume();
  process.stdout.write(`${JSON.stringify({ endpoint, pid: process.pid })}\n`);
}

/** Listens on a free loopback port; resolves with the server's http:// endpoint. */
export function listenOnLoopback(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') reject(new Error('no port'));
      else resolve(`http://127.0.0.1:${address.port}`);
    });
  });
}

/** Closes a server, ending its open connections through `dropConnections`. */
export function closeServer(server: Server, dropConnections: () => void): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  dropConnections();
  return closed;
}
