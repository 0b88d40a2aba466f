import { join } from 'node:path';
import { CedarPolicyEngine } from './cedar-policy.engine';
import { policyReads } from './decision-cache';
import { compilePolicyMap, loadPolicyFiles, type PolicyMap, readPolicyDir } from './policy-files';
import { type DecisionRequest, type GrantRule, type ManifestStatus, type SplitKind, type TeamGrants } from './policy.types';

const POLICY_DIR = join(__dirname, '..', '..', 'policies');
const T0 = Date.parse('2026-11-01T00:00:00Z');
const T1 = Date.parse('2026-12-01T00:00:00Z');
const DURING = new Date('2026-11-15T12:00:00Z');

function grantsOf(team: string, grants: GrantRule[]): TeamGrants {
  return { team, fingerprint: grants.map((g) => `${g.id}@${g.notBefore.getTime()}-${g.notAfter.getTime()}`).join(','), grants };
}

function read(
  key: string,
  opts: { now?: Date; split?: SplitKind | null; manifest?: ManifestStatus; context?: Record<string, number> } = {},
): DecisionRequest {
  const split = opts.split === undefined ? 'train' : opts.split;
  return {
    principal: { type: 'Job', id: 'job-1', team: 'a' },
    action: 'read',
    resource: {
      type: 'Object',
      dataset: 'lung',
      split: split === null ? null : { name: split, kind: split },
      key,
      manifest: opts.manifest ?? 'none',
    },
    listener: 'sandbox',
    now: opts.now ?? DURING,
    context: opts.context ?? { bytes: 100 },
  };
}

/** The shipped policies plus one more file. */
function withExtra(cedarText: string): PolicyMap {
  return { ...readPolicyDir(POLICY_DIR), 'extra.cedar': cedarText };
}

const grant = (id: string, split: string, notBefore = T0, notAfter = T1): GrantRule => ({
  id,
  team: 'a',
  dataset: 'lung',
  split,
  notBefore: new Date(notBefore),
  notAfter: new Date(notAfter),
});

describe('policyReads: what the shipped policies read, per action', () => {
  const reads = policyReads(loadPolicyFiles(POLICY_DIR).policies);

  it('reads no object key and no job id for a read, so reads of distinct keys share a decision', () => {
    expect(reads.get('read')).toEqual({
      principalId: false,
      resourceId: false,
      context: ['bytes', 'listener', 'quotaRemaining'],
      uncacheable: false,
    });
  });

  it('should not leave out an id a policy compares: review reads the person (`principal in resource.team`)', () => {
    expect(reads.get('review')?.principalId).toBe(true);
    expect(reads.get('authenticate')).toMatchObject({ principalId: true, resourceId: true });
  });

  it('counts a scope that names an entity, and a whole-context read, against the action only', () => {
    const r = policyReads({
      one: 'forbid (principal, action == Cage::Action::"read", resource == Cage::Object::"lung/x") ;',
      two: 'forbid (principal, action == Cage::Action::"list", resource) when { context == {} };',
    });
    expect(r.get('read')).toMatchObject({ resourceId: true, uncacheable: false });
    expect(r.get('list')).toMatchObject({ resourceId: false, uncacheable: true });
    expect(r.get('egress')).toMatchObject({ resourceId: false, uncacheable: false });
  });
});

describe('CedarPolicyEngine with its decision cache', () => {
  it('gives the decision Cedar gives, for a mix of requests crossing grant windows (and remembers most)', () => {
    const engine = new CedarPolicyEngine(loadPolicyFiles(POLICY_DIR), new Date());
    const mid = (T0 + T1) / 2;
    const teams = [
      grantsOf('a', [grant('g-train', 'train'), grant('g-test', 'test', mid, T1)]),
      grantsOf('a', [grant('g-train', 'train', T0, mid)]),
      grantsOf('a', []),
    ];
    const times = [T0 - 1, T0, mid - 1, mid, T1 - 1, T1].map((t) => new Date(t));
    const splits: (SplitKind | null)[] = ['train', 'test', 'labels', null];
    const manifests: ManifestStatus[] = ['none', 'listed', 'mismatch', 'absent'];
    const contexts: Record<string, number>[] = [
      { bytes: 0 },
      { bytes: 100 },
      { bytes: 100, quotaRemaining: 99 },
      { bytes: 100, quotaRemaining: 100 },
    ];
    let compared = 0;
    for (let round = 0; round < 2; round++)
      for (const g of teams)
        for (const now of times)
          for (const split of splits)
            for (const manifest of manifests)
              for (const context of contexts) {
                const req = read(`k-${compared % 7}`, { now, split, manifest, context });
                expect(engine.decide(req, g)).toEqual(engine.evaluate(req, g));
                const list: DecisionRequest = {
                  ...req,
                  action: 'list',
                  resource: { type: 'Split', dataset: 'lung', split: split ?? 'none', kind: split ?? 'train' },
                };
                expect(engine.decide(list, g)).toEqual(engine.evaluate(list, g));
                compared += 2;
              }
    const { hits, misses } = engine.cacheStats;
    expect(hits + misses).toBe(compared);
    expect(hits).toBeGreaterThan(compared / 2);
  });

  it('should not answer a read of one key from the decision of another when a policy names the key', () => {
    const engine = new CedarPolicyEngine(
      compilePolicyMap(
        withExtra('@id("hide-x")\nforbid (principal, action == Cage::Action::"read", resource == Cage::Object::"lung/train/x.raw");\n'),
      ),
      new Date(),
    );
    const g = grantsOf('a', [grant('g-train', 'train')]);
    expect(engine.decide(read('train/y.raw'), g).decision).toBe('allow');
    expect(engine.decide(read('train/x.raw'), g)).toMatchObject({ decision: 'deny', policies: ['hide-x'] });
  });

  it('should not allow a read once the grant window has closed, though it was allowed a moment before', () => {
    const engine = new CedarPolicyEngine(loadPolicyFiles(POLICY_DIR), new Date());
    const g = grantsOf('a', [grant('g-train', 'train')]);
    expect(engine.decide(read('train/a', { now: new Date(T1 - 1) }), g).decision).toBe('allow');
    expect(engine.decide(read('train/a', { now: new Date(T1) }), g).decision).toBe('deny');
  });

  it('should not allow a read under grants that changed (a revoked grant) from a remembered allow', () => {
    const engine = new CedarPolicyEngine(loadPolicyFiles(POLICY_DIR), new Date());
    expect(engine.decide(read('train/a'), grantsOf('a', [grant('g-train', 'train')])).decision).toBe('allow');
    expect(engine.decide(read('train/a'), grantsOf('a', [])).decision).toBe('deny');
  });

  it('should not keep a remembered decision across a policy activation', () => {
    const engine = new CedarPolicyEngine(loadPolicyFiles(POLICY_DIR), new Date());
    const g = grantsOf('a', [grant('g-train', 'train')]);
    expect(engine.decide(read('train/a'), g).decision).toBe('allow');
    engine.activate(
      compilePolicyMap(withExtra('@id("no-reads")\nforbid (principal, action == Cage::Action::"read", resource);\n')),
      new Date(),
    );
    expect(engine.decide(read('train/a'), g)).toMatchObject({ decision: 'deny', policies: ['no-reads'] });
  });

  it('should not remember across time when a policy reads the clock, nor at all when it reads the whole context', () => {
    const at = Date.parse('2026-11-20T00:00:00Z');
    const engine = new CedarPolicyEngine(
      compilePolicyMap(
        withExtra(
          `@id("freeze")\nforbid (principal, action == Cage::Action::"read", resource) when { context.now >= ${at} };\n` +
            '@id("odd")\nforbid (principal, action == Cage::Action::"list", resource) when { context == context && principal is Cage::User };\n',
        ),
      ),
      new Date(),
    );
    const g = grantsOf('a', [grant('g-train', 'train')]);
    expect(engine.decide(read('train/a', { now: new Date(at - 1) }), g).decision).toBe('allow');
    expect(engine.decide(read('train/a', { now: new Date(at) }), g)).toMatchObject({ decision: 'deny', policies: ['freeze'] });
    const before = engine.cacheStats;
    const list: DecisionRequest = {
      ...read(''),
      action: 'list',
      resource: { type: 'Split', dataset: 'lung', split: 'train', kind: 'train' },
    };
    engine.decide(list, g);
    engine.decide(list, g);
    expect(engine.cacheStats).toEqual(before);
  });

  it('should not let a caller change a remembered decision', () => {
    const engine = new CedarPolicyEngine(loadPolicyFiles(POLICY_DIR), new Date());
    const g = grantsOf('a', [grant('g-train', 'train')]);
    const d = engine.decide(read('train/a'), g);
    expect(() => d.policies.push('grant:forged')).toThrow();
    expect(engine.decide(read('train/b'), g).policies).toEqual(['grant:g-train']);
  });
});
