import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/config';
import { Gateway } from '../src/gateway';
import { DATASET, type Fixture, POLICY_DIR, startFixture } from './support/fixture';
import { bearer, objectPath, rawRequest } from './support/http';
import { AuditRepository } from '../src/audit/audit.repository';
import { PolicyEngine } from '../src/policy/policy.types';
import { PolicyWatcher } from '../src/policy/policy-watcher';

describe('policy reload from CAGE_POLICY_DIR', () => {
  let f: Fixture;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cage-policies-'));
    cpSync(POLICY_DIR, dir, { recursive: true });
    f = await startFixture({ db: 'pglite', policyDir: dir });
  });
  afterAll(async () => {
    await f?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const read = (key: string) => rawRequest(f.gateway.sandboxUrl, 'GET', objectPath(DATASET, key), bearer(f.alpha.token));
  const leaves = async (action: string) => (await f.gateway.get(AuditRepository).find({ action, limit: 1000 })).map((l) => l.leaf);

  it('activates a valid change, audits it with the new SHA-256, and decides with it', async () => {
    const before = f.gateway.get(PolicyEngine).active;
    expect((await read('train/annotations.csv')).status).toBe(200);
    writeFileSync(
      join(dir, 'embargo.cedar'),
      '@id("embargo-annotations")\nforbid (principal, action == Cage::Action::"read", resource is Cage::Object)\nwhen { resource.split.kind == "train" && context.now > 0 && principal in Cage::Team::"alpha" };\n',
    );
    await f.gateway.get(PolicyWatcher).reload();
    const after = f.gateway.get(PolicyEngine).active;
    expect(after.sha256).not.toBe(before.sha256);
    expect(after.version).toBe(before.version + 1);
    expect((await read('train/annotations.csv')).status).toBe(404);
    const activations = await leaves('policy.activate');
    expect(activations[activations.length - 1]).toMatchObject({
      policySet: after.sha256,
      detail: { before: before.sha256, after: after.sha256 },
    });
  });

  it.each([
    ['a syntax error', 'forbid (principal, action, resource'],
    ['an attribute the schema does not have', 'forbid (principal, action, resource is Cage::Object) when { resource.owner == "x" };'],
    ['a reserved grant id', '@id("grant:forged")\npermit (principal, action, resource);'],
  ])('should not activate a set with %s: the previous set keeps deciding', async (_what, text) => {
    const active = f.gateway.get(PolicyEngine).active;
    writeFileSync(join(dir, 'broken.cedar'), text);
    await f.gateway.get(PolicyWatcher).reload();
    expect(f.gateway.get(PolicyEngine).active).toEqual(active);
    expect((await read('train/annotations.csv')).status).toBe(404); // embargo still in force
    expect((await read('labels/test_annotations.csv')).status).toBe(404);
    const rejects = await leaves('policy.reject');
    expect(rejects[rejects.length - 1]).toMatchObject({ decision: 'deny', policySet: active.sha256 });
    rmSync(join(dir, 'broken.cedar'));
  });

  it('should not activate a broken egress kind file or budget: the previous set keeps deciding', async () => {
    const active = f.gateway.get(PolicyEngine).active;
    const kinds = f.gateway.get(PolicyEngine).egress.kinds;
    for (const [file, text] of [
      [join('egress', 'predictions.json'), '{"kind": "predictions", "format": "predictions-csv", "maxBytes": -1}'],
      ['budget.json', '{"dailyBits": "lots"}'],
    ] as const) {
      const original = readFileSync(join(dir, file), 'utf8');
      writeFileSync(join(dir, file), text);
      await f.gateway.get(PolicyWatcher).reload();
      expect(f.gateway.get(PolicyEngine).active).toEqual(active);
      expect(f.gateway.get(PolicyEngine).egress.kinds).toBe(kinds);
      writeFileSync(join(dir, file), original);
    }
  });

  it('picks up a change by itself, without an explicit reload', async () => {
    rmSync(join(dir, 'embargo.cedar'));
    const deadline = Date.now() + 5000;
    while ((await read('train/annotations.csv')).status !== 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect((await read('train/annotations.csv')).status).toBe(200);
  });
});

describe('the first policy set', () => {
  it('should not start a gateway on a policy directory that breaks its own expectations', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cage-policies-'));
    cpSync(POLICY_DIR, dir, { recursive: true });
    writeFileSync(join(dir, 'open.cedar'), '@id("open-door")\npermit (principal, action, resource);\n');
    const dataDir = mkdtempSync(join(tmpdir(), 'cage-first-'));
    const config = loadConfig({
      CAGE_DATA_DIR: dataDir,
      CAGE_CONTROL_PORT: '0',
      CAGE_SANDBOX_PORT: '0',
      CAGE_DEMO: '0',
      CAGE_POLICY_DIR: dir,
    });
    await expect(Gateway.start(config, { logger: false })).rejects.toThrow(/breaks expectations: .*team A cannot read team B's grant/);
    rmSync(dir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });
});
