import { compilePolicyMap, readPolicyDir } from '../src/policy/policy-files';
import { PolicyStore } from '../src/policy/policy-store';
import { PolicyVersionRepository } from '../src/policy/policy-version.repository';
import { type Fixture, POLICY_DIR, startFixture } from './support/fixture';
import { AuditLog } from '../src/audit/audit-log.service';
import { AuditRepository } from '../src/audit/audit.repository';
import { Clock } from '../src/clock/clock';
import { PolicyEngine } from '../src/policy/policy.types';

/**
 * A set stored by an older gateway version (or another replica) without the rules this version
 * enforces only in policy must never decide: quotas and manifests would silently stop.
 */
describe('stored policy sets are checked again', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await startFixture({ db: 'pglite' });
  });
  afterAll(async () => {
    await f?.stop();
  });

  /** The shipped set without its byte-quota forbid or its tests: what an older version stored. */
  function olderSet() {
    const map = readPolicyDir(POLICY_DIR);
    map['data-plane.cedar'] = map['data-plane.cedar'].replace(/@id\("read-within-byte-quota"\)[^;]*;/, '');
    for (const k of Object.keys(map)) if (k.startsWith('tests/')) delete map[k];
    return map;
  }

  it('should not follow another replica to a newer stored set that fails the checks', async () => {
    const repo = new PolicyVersionRepository(f.db);
    const active = f.gateway.get(PolicyEngine).active;
    const map = olderSet();
    await repo.insert({
      version: active.version + 1,
      sha256: compilePolicyMap(map).sha256,
      map,
      activatedAt: new Date().toISOString(),
      activatedBy: 'older replica',
    });
    await f.gateway.get(PolicyStore).sync();
    expect(f.gateway.get(PolicyEngine).active).toMatchObject({ version: active.version, sha256: active.sha256 });
  });

  it('should not start deciding with it either: the policy directory replaces it as a new version, logged', async () => {
    const repo = new PolicyVersionRepository(f.db);
    const stored = (await repo.latest())!;
    expect(stored.activatedBy).toBe('older replica');
    const store = await PolicyStore.open(repo, POLICY_DIR, f.gateway.get(AuditLog), f.gateway.get(Clock));
    expect(store.engine.active.version).toBe(stored.version + 1);
    expect(store.engine.active.sha256).toBe(compilePolicyMap(readPolicyDir(POLICY_DIR)).sha256);
    const [leaf] = (await f.gateway.get(AuditRepository).find({ action: 'policy.activate', limit: 1000 })).slice(-1);
    expect(leaf.leaf.detail).toMatchObject({ version: stored.version + 1, replaces: stored.version });
  });
});
