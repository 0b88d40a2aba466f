// A hostile team's egress flood, run as its own process so it does not share the gateway's event
// loop: for each job token, PARALLEL loops (default 2) of 16 MiB uploads of line endings
// (refused at line 1), each started as soon as the last is answered, until the deadline.
// Prints a JSON summary.
import { request } from 'node:http';

const [url, tokens, seconds, parallel] = [
  process.argv[2],
  process.argv[3].split(','),
  Number(process.argv[4]),
  Number(process.argv[5] ?? 2),
];
const u = new URL(url);
const deadline = Date.now() + seconds * 1000;
const SIZE = 16 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 0x0a);
const statuses = {};

function upload(token) {
  return new Promise((resolve) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        method: 'POST',
        path: '/v1/egress/predictions',
        agent: false,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv', 'content-length': SIZE },
      },
      (res) => {
        statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
        res.resume();
        res.on('end', resolve);
        res.on('error', resolve);
      },
    );
    req.on('error', () => resolve());
    let sent = 0;
    const write = () => {
      while (sent < SIZE) {
        sent += CHUNK.length;
        if (!req.write(CHUNK)) return void req.once('drain', write);
      }
      req.end();
    };
    write();
  });
}

async function loop(token) {
  while (Date.now() < deadline) await upload(token);
}

await Promise.all(tokens.flatMap((t) => Array.from({ length: parallel }, () => loop(t))));
process.stdout.write(JSON.stringify({ statuses }) + '\n');
