#!/usr/bin/env node
// `npm start` builds only when the sources changed: a SHA-256 over every file the build reads
// (src/, the tsconfig files, nest-cli.json, package-lock.json) is kept in dist/.build-fingerprint
// and compared before building. Content, not mtimes: a fresh clone or a git checkout changes
// mtimes without changing what the build would produce. `nest build` empties dist first, so a
// deleted source (a migration, say) never lingers in a stale build.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const stamp = join(root, 'dist', '.build-fingerprint');

function* files(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (e.isFile()) yield p;
  }
}

const hash = createHash('sha256');
for (const p of [
  ...files(join(root, 'src')),
  ...['tsconfig.json', 'tsconfig.build.json', 'nest-cli.json', 'package-lock.json'].map((f) => join(root, f)),
]) {
  if (!existsSync(p)) continue;
  hash
    .update(`${relative(root, p)}\0`)
    .update(readFileSync(p))
    .update('\0');
}
const fingerprint = hash.digest('hex');

if (existsSync(join(root, 'dist', 'main.js')) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === fingerprint) {
  process.stderr.write('cage: build is up to date\n');
  process.exit(0);
}
process.stderr.write('cage: sources changed, building (nest build)…\n');
const r = spawnSync(process.execPath, [join(root, 'node_modules', '@nestjs', 'cli', 'bin', 'nest.js'), 'build'], {
  cwd: root,
  stdio: 'inherit',
});
if (r.status !== 0) process.exit(r.status ?? 1);
writeFileSync(stamp, `${fingerprint}\n`);
