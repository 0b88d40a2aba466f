import 'reflect-metadata';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from './config/config';
import { Gateway } from './gateway';

/**
 * Writes the OpenAPI documents of both listeners to openapi/, so API changes show in review
 * (`npm run openapi` then generates the CLI's types from openapi/control.json). A test fails
 * when the committed documents differ from what the code serves.
 */
async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cage-openapi-'));
  const gateway = await Gateway.start(
    loadConfig({
      CAGE_DATA_DIR: dataDir,
      CAGE_CONTROL_PORT: '0',
      CAGE_SANDBOX_PORT: '0',
      CAGE_DEMO: '0',
      CAGE_POLICY_DIR: join(__dirname, '..', 'policies'),
    }),
    { logger: false },
  );
  try {
    const out = join(__dirname, '..', 'openapi');
    mkdirSync(out, { recursive: true });
    for (const [name, doc] of Object.entries(gateway.openapi))
      writeFileSync(join(out, `${name}.json`), `${JSON.stringify(doc, null, 2)}\n`);
  } finally {
    await gateway.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

void main();
