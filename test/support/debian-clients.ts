import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian's own clients, never a pip or npm download: what a contestant's image would carry. */
export const AWS_CLI = '/usr/bin/aws';
export const PYTHON = '/usr/bin/python3';
export const CURL = '/usr/bin/curl';

function boto3Present(): boolean {
  return existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import boto3'], { encoding: 'utf8' }).status === 0;
}

function missing(): string[] {
  return [
    ...(existsSync(AWS_CLI) ? [] : ['awscli']),
    ...(boto3Present() ? [] : ['python3-boto3']),
    ...(existsSync(CURL) ? [] : ['curl']),
  ];
}

/**
 * Installs Debian's awscli, python3-boto3 and curl when they are missing (as root, with apt);
 * throws, naming what is missing and why, when they cannot be had. The real-client suite does
 * not skip: these clients are the proof that the S3 API works for contestants.
 */
export function ensureDebianClients(): void {
  let need = missing();
  if (need.length === 0) return;
  process.stderr.write(`\n*** installing ${need.join(', ')} from Debian for the real-client S3 tests ***\n`);
  const apt = spawnSync('sh', ['-c', `apt-get install -y -q --no-install-recommends ${need.join(' ')} || { apt-get update -q && apt-get install -y -q --no-install-recommends ${need.join(' ')}; }`], {
    encoding: 'utf8',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    timeout: 600_000,
  });
  need = missing();
  if (need.length > 0) throw new Error(`the real-client S3 tests need Debian's ${need.join(', ')}; apt-get said:\n${apt.stdout}\n${apt.stderr}`);
}
