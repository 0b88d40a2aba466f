#!/usr/bin/env node
// `npm run bench` builds the gateway with its benchmarks into .bench-dist/ (the production build
// in dist/ leaves benchmarks and test helpers out): tsc, then the assets nest-cli.json lists.
import { spawnSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const out = join(root, '.bench-dist');
rmSync(out, { recursive: true, force: true });
const r = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.bench.json')], {
  stdio: 'inherit',
});
if (r.status !== 0) process.exit(r.status ?? 1);
for (const dir of ['db/migrations', 'ui/public']) cpSync(join(root, 'src', dir), join(out, dir), { recursive: true });
