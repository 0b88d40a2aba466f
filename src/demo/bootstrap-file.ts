import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface Bootstrap {
  controlUrl: string;
  sandboxUrl: string;
  /** The S3-compatible API (path-style, SigV4 with the demo job's access keys): the sandbox listener. */
  s3Endpoint: string;
  s3Region: string;
  organizerToken: string;
  auditorToken: string;
  demoJob?: { team: string; jobId: string; token: string; accessKeyId: string; secretAccessKey: string; expiresAt: string };
}

export function bootstrapPath(dataDir: string): string {
  return join(dataDir, 'bootstrap.json');
}

export function readBootstrap(dataDir: string): Bootstrap | undefined {
  const file = bootstrapPath(dataDir);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as Bootstrap;
}

/**
 * Writes bootstrap.json atomically, mode 0600: it holds credentials. The temporary file is
 * created exclusively (never through a planted symlink) and synced before the rename.
 */
export function writeBootstrap(dataDir: string, b: Bootstrap): string {
  const file = bootstrapPath(dataDir);
  const tmp = `${file}.${process.pid}.tmp`;
  rmSync(tmp, { force: true });
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(b, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  return file;
}
