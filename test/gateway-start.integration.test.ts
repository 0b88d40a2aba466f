import { Server } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/config';
import { Gateway } from '../src/gateway';
import { POLICY_DIR } from './support/fixture';

/* Alone in its file: it counts the process's listening sockets. */
describe('a start-up that fails half-way', () => {
  // Sockets still listening in this process (a closed server whose last connection is ending is not).
  const servers = () =>
    (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().filter((h) => h instanceof Server && h.listening).length;

  it('should not leave anything listening or open, so the same data directory starts next time', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cage-start-fail-'));
    const badPolicies = mkdtempSync(join(tmpdir(), 'cage-bad-policy-'));
    writeFileSync(join(badPolicies, 'broken.cedar'), 'permit(principal, action, resource) when { nonsense };');
    const env = { CAGE_DATA_DIR: dataDir, CAGE_CONTROL_PORT: '0', CAGE_SANDBOX_PORT: '0', CAGE_DEMO: '0' };
    const before = servers();
    // The embedded store and the database are opened before the policy set is found not to compile.
    await expect(Gateway.start(loadConfig({ ...env, CAGE_POLICY_DIR: badPolicies }), { logger: false })).rejects.toThrow();
    expect(servers()).toBe(before);
    const g = await Gateway.start(loadConfig({ ...env, CAGE_POLICY_DIR: POLICY_DIR }), { logger: false });
    try {
      expect((await fetch(`${g.controlUrl}/readyz`)).status).toBe(200);
    } finally {
      await g.stop();
    }
    expect(servers()).toBe(before);
  });
});
