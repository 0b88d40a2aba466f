import { EmbeddedS3 } from '../storage/embedded-s3';

/**
 * The object store of the benchmark, in its own process so that the gateway's CPU figures are
 * the gateway's alone. Usage: node s3rver-child.js <directory>. Prints one JSON line with the
 * endpoint once listening; stops on SIGTERM/SIGINT or when its parent's pipe closes.
 */
async function main(): Promise<void> {
  const dir = process.argv[2];
  if (dir === undefined) throw new Error('usage: s3rver-child <directory>');
  const s3 = await EmbeddedS3.start(dir);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    s3.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // The parent holds our stdin open; when it dies without cleaning up, so do we.
  process.stdin.on('end', stop);
  process.stdin.resume();
  process.stdout.write(`${JSON.stringify({ endpoint: s3.endpoint, pid: process.pid })}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`s3rver-child: ${err.message}\n`);
  process.exit(1);
});
