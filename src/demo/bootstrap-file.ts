import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Bootstrap {
  controlUrl: string;
  sandboxUrl: string;
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

/** Writes bootstrap.json atomically, mode 0600: it holds credentials. */
export function writeBootstrap(dataDir: string, b: Bootstrap): string {
  const file = bootstrapPath(dataDir);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(b, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
  return file;
}
