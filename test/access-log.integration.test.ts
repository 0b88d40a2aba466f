import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { loadConfig } from '../src/config/config';
import { Gateway } from '../src/gateway';
import { createLogger } from '../src/ops/logger';
import { POLICY_DIR } from './support/fixture';

/* The access line: one per request at info and debug; none below (where the gateway skips building it). */
describe.each(['info', 'warn'] as const)('access lines at CAGE_LOG_LEVEL=%s', (level) => {
  it(level === 'info' ? 'writes one line per request, path without its query' : 'should not write access lines', async () => {
    const lines: Record<string, unknown>[] = [];
    const stream = new PassThrough();
    stream.on('data', (c: Buffer) =>
      c
        .toString('utf8')
        .split('\n')
        .filter(Boolean)
        .forEach((l) => lines.push(JSON.parse(l) as Record<string, unknown>)),
    );
    const env = {
      CAGE_DATA_DIR: mkdtempSync(join(tmpdir(), 'cage-access-')),
      CAGE_CONTROL_PORT: '0',
      CAGE_SANDBOX_PORT: '0',
      CAGE_DEMO: '0',
      CAGE_POLICY_DIR: POLICY_DIR,
      CAGE_LOG_LEVEL: level,
    };
    const g = await Gateway.start(loadConfig(env), { logger: createLogger(level, 'json', stream) });
    try {
      expect((await fetch(`${g.controlUrl}/readyz?X-Amz-Signature=secret`)).status).toBe(200);
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      await g.stop();
    }
    const access = lines.filter((l) => l.context === 'Access');
    if (level === 'info') {
      expect(access).toEqual([expect.objectContaining({ message: 'request', method: 'GET', path: '/readyz', status: 200 })]);
      expect(JSON.stringify(access)).not.toContain('secret');
    } else expect(access).toEqual([]);
  });
});
