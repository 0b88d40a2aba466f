import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalJson, leafHash } from '../src/audit/audit-leaf';
import { DATASET, type Fixture, startFixture } from './support/fixture';
import { bearer, objectPath, rawRequest } from './support/http';
import { AuditRepository } from '../src/audit/audit.repository';
import { AuditWriter } from '../src/audit/audit-writer.service';

describe('the SIEM copy (CAGE_SIEM_FILE)', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'cage-siem-')), 'audit.jsonl');
  let f: Fixture;
  beforeAll(async () => {
    f = await startFixture({ db: 'pglite', env: { CAGE_SIEM_FILE: file } });
  });
  afterAll(async () => {
    await f?.stop();
  });

  it('mirrors every committed leaf as one JSON line whose hash a SIEM can recompute', async () => {
    await rawRequest(f.gateway.sandboxUrl, 'GET', objectPath(DATASET, 'train/scan-1.mhd'), bearer(f.alpha.token));
    await rawRequest(f.gateway.sandboxUrl, 'GET', objectPath(DATASET, 'labels/test_annotations.csv'), bearer(f.alpha.token));
    await f.gateway.get(AuditWriter).flush();
    await new Promise((r) => setTimeout(r, 200));
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { index: number; hash: string; leaf: Record<string, unknown> });
    const stored = await f.gateway.get(AuditRepository).find({ limit: 1000 });
    expect(lines.map((l) => l.index)).toEqual(stored.map((s) => s.index));
    for (const l of lines) expect(leafHash(canonicalJson(l.leaf)).toString('hex')).toBe(l.hash);
    expect(lines.map((l) => l.hash)).toEqual(stored.map((s) => s.hash));
    expect(lines.some((l) => l.leaf.action === 'read' && l.leaf.decision === 'deny')).toBe(true);
  });
});
