import { EmbeddedS3 } from '../storage/embedded-s3';
import { serveAsChild } from './child-endpoint';

/**
 * The object store of the benchmark, in its own process so that the gateway's CPU figures are
 * the gateway's alone. Usage: node s3rver-child.js <directory>. Prints one JSON line with the
 * endpoint once listening; stops on SIGTERM/SIGINT or when its parent's pipe closes.
 */
async function main(): Promise<void> {
  const dir = process.argv[2];
  if (dir === undefined) throw new Error('usage: s3rver-child <directory>');
  const s3 = await EmbeddedS3.start(dir);
  serveAsChild(s3.endpoint, () => s3.stop());
}

main().catch((err: Error) => {
  process.stderr.write(`s3rver-child: ${err.message}\n`);
  process.exit(1);
});
