import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian's own clients, never a pip or npm download: what a contestant's image would carry. */
export const AWS_CLI = '/usr/bin/aws';
export const PYTHON = '/usr/bin/python3';
export const CURL = '/usr/bin/curl';
export const S3CMD = '/usr/bin/s3cmd';
export const RCLONE = '/usr/bin/rclone';

function boto3Present(): boolean {
  return existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import boto3'], { encoding: 'utf8' }).status === 0;
}

function missing(): string[] {
  return [
    ...(existsSync(AWS_CLI) ? [] : ['awscli']),
    ...(boto3Present() ? [] : ['python3-boto3']),
    ...(existsSync(CURL) ? [] : ['curl']),
    ...(existsSync(S3CMD) ? [] : ['s3cmd']),
    ...(existsSync(RCLONE) ? [] : ['rclone']),
  ];
}

/**
 * The real-client suite does not skip: these clients are the proof that the S3 API works for
 * contestants. `npm test` (scripts/test) installs them when it can; run directly, a missing one
 * is named with the command that installs it.
 */
export function ensureDebianClients(): void {
  const need = missing();
  if (need.length > 0)
    throw new Error(
      `the real-client S3 tests need Debian's ${need.join(', ')}: run npm test (it installs them as root), or sudo apt-get install -y ${need.join(' ')}`,
    );
}

/**
 * A Python with pyarrow (not in Debian bookworm): scripts/test installs it with pip into a venv
 * of Debian's python3 (`CAGE_TEST_PYARROW_PYTHON`), from the package index the machine's pip is
 * configured with.
 */
export function pyarrowPython(): string {
  const python = process.env.CAGE_TEST_PYARROW_PYTHON ?? '.cache/test-venv/bin/python';
  if (!existsSync(python) || spawnSync(python, ['-c', 'import pyarrow.fs'], { encoding: 'utf8' }).status !== 0)
    throw new Error(
      `the pyarrow client test needs pyarrow: run npm test (it makes .cache/test-venv), or python3 -m venv .cache/test-venv && .cache/test-venv/bin/pip install pyarrow==${PYARROW_VERSION}`,
    );
  return python;
}

export const PYARROW_VERSION = '25.0.1';
