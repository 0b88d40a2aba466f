import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AuditLeaf } from '../src/audit/audit-leaf';
import { run } from '../src/cli/main';
import { type Fixture, startFixture } from './support/fixture';
import { bearer, rawRequest } from './support/http';
import { AuditRepository } from '../src/audit/audit.repository';
import { AuditWriter } from '../src/audit/audit-writer.service';
import { Checkpointer } from '../src/audit/checkpointer.service';

const N = 100_000;

describe('export → offline verify round trip at 100,000 leaves', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await startFixture({ db: 'pglite', env: { CAGE_CHECKPOINT_EVERY_LEAVES: '25000', CAGE_CHECKPOINT_EVERY_SECONDS: '3600' } });
    const base: Omit<AuditLeaf, 'requestId' | 'bytes'> = {
      v: 1,
      time: new Date().toISOString(),
      principal: 'job:load',
      team: 'alpha',
      listener: 'sandbox',
      action: 'read',
      decision: 'allow',
      status: 200,
      resource: { type: 'object', dataset: 'ct', keyHex: '74' },
      range: null,
      policies: ['grant:x'],
      policySet: 'ab',
      sha256: null,
      detail: null,
    };
    const start = await f.gateway.get(AuditRepository).size();
    const pending: Promise<unknown>[] = [];
    for (let i = start; i < N; i++) {
      pending.push(f.gateway.get(AuditWriter).append({ ...base, requestId: `load-${i}`, bytes: i }));
      if (pending.length >= 2000) await Promise.all(pending.splice(0));
    }
    await Promise.all(pending);
    await f.gateway.get(Checkpointer).checkpoint();
  }, 300_000);
  afterAll(async () => {
    await f?.stop();
  });

  it('exports the whole log with its checkpoints and verifies it offline; CSV carries the same leaves', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cage-export-100k-'));
    const io = (out: string[]) => ({
      stdout: { write: (s: string) => (out.push(s), true) },
      stderr: { write: (s: string) => (out.push(s), true) },
      env: { CAGE_URL: f.gateway.controlUrl, CAGE_TOKEN: f.auditorToken },
    });
    const log: string[] = [];
    expect(await run(['audit', 'export', '--out', dir], io(log))).toBe(0);
    expect(log.join('')).toContain(`exported ${N} leaves`);
    const verified: string[] = [];
    expect(await run(['audit', 'verify', dir, '--key', join(dir, 'key.txt')], io(verified))).toBe(0);
    expect(verified.join('')).toMatch(new RegExp(`ok: ${N} leaves, root [0-9a-f]{64}, [4-9] signed checkpoints verified`));
    const csv = await rawRequest(f.gateway.controlUrl, 'GET', `/v1/audit/export?format=csv&from=${N - 3}&to=${N}`, bearer(f.auditorToken));
    const rows = csv.body.toString().trim().split('\n');
    expect(rows[0]).toMatch(/^index,hash,time,principal,/);
    expect(rows.slice(1).map((r) => r.split(',')[0])).toEqual([String(N - 3), String(N - 2), String(N - 1)]);
  }, 300_000);
});
