/**
 * Runs first inside a `cage run` sandbox (whose network namespace holds nothing but its own
 * loopback): opens the job's one door, 127.0.0.1:<port>, bridged to the gateway's sandbox
 * listener through the Unix socket bind-mounted at <socket>; then runs the job, and exits with
 * its status. Node's standard library only: it is started with the host's node, alone in the
 * sandbox's view. Usage: node relay.js <socket> <port> -- <command> [args...]
 */
import { spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';

const [socketPath, portText, dashes, command, ...args] = process.argv.slice(2);
if (socketPath === undefined || portText === undefined || dashes !== '--' || command === undefined) {
  process.stderr.write('usage: relay.js <socket> <port> -- <command> [args...]\n');
  process.exit(2);
}

const door = createServer((client) => {
  const gateway = connect(socketPath);
  client.pipe(gateway).pipe(client);
  client.on('error', () => gateway.destroy());
  gateway.on('error', () => client.destroy());
});
door.listen(Number(portText), '127.0.0.1', () => {
  const job = spawn(command, args, { stdio: 'inherit' });
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => job.kill(signal));
  job.on('error', (err) => {
    process.stderr.write(`cage run: cannot start ${command}: ${err.message}\n`);
    process.exit(127);
  });
  job.on('exit', (code, signal) => process.exit(code ?? 128 + (signal === null ? 0 : osSignal(signal))));
});

function osSignal(name: NodeJS.Signals): number {
  return ({ SIGKILL: 9, SIGTERM: 15, SIGINT: 2, SIGSEGV: 11, SIGABRT: 6, SIGHUP: 1 } as Record<string, number>)[name] ?? 1;
}
