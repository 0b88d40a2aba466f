import { join } from 'node:path';
import { CedarPolicyEngine } from './cedar-policy.engine';
import { readFileSync } from 'node:fs';
import { compilePolicyFiles, compilePolicyMap, loadPolicyFiles, readPolicyDir } from './policy-files';
import { PolicyLoadError } from './policy-files';
import { type DecisionRequest, type GrantRule, type ManifestStatus, type TeamGrants } from './policy.types';

const POLICY_DIR = join(__dirname, '..', '..', 'policies');
const T0 = new Date('2026-11-01T00:00:00Z');
const T1 = new Date('2026-12-01T00:00:00Z');
const DURING = new Date('2026-11-15T12:00:00Z');

function grantsOf(team: string, grants: GrantRule[]): TeamGrants {
  return { team, fingerprint: grants.map((g) => `${g.id}@${g.notBefore.getTime()}-${g.notAfter.getTime()}`).join(','), grants };
}

function read(
  team: string,
  split: { name: string; kind: 'train' | 'test' | 'labels' | 'val' } | null,
  key: string,
  now = DURING,
  listener: 'sandbox' | 'control' = 'sandbox',
  manifest: ManifestStatus = 'none',
  context: Record<string, number> = { bytes: 100 },
): DecisionRequest {
  return {
    principal: { type: 'Job', id: `job-${team}`, team },
    action: 'read',
    resource: { type: 'Object', dataset: 'lung', split, key, manifest },
    listener,
    now,
    context,
  };
}

describe('CedarPolicyEngine: data-plane decisions', () => {
  const engine = new CedarPolicyEngine(loadPolicyFiles(POLICY_DIR), new Date());
  const trainGrant: GrantRule = { id: 'g-a-train', team: 'a', dataset: 'lung', split: 'train', notBefore: T0, notAfter: T1 };
  const teamA = grantsOf('a', [trainGrant]);
  const TRAIN = { name: 'train', kind: 'train' as const };

  it('allows a granted split and names the grant that allowed it', () => {
    const d = engine.decide(read('a', TRAIN, 'train/x.mhd'), teamA);
    expect(d.decision).toBe('allow');
    expect(d.policies).toEqual(['grant:g-a-train']);
    expect(d.policySet).toMatch(/^[0-9a-f]{64}$/);
  });

  it('should not allow a team to read a split only another team is granted', () => {
    const d = engine.decide(read('b', TRAIN, 'train/x.mhd'), grantsOf('b', []));
    expect(d.decision).toBe('deny');
    expect(d.policies).toEqual([]);
  });

  it('should not let grants passed for another team leak into a decision', () => {
    expect(() => engine.decide(read('b', TRAIN, 'train/x.mhd'), teamA)).toThrow();
  });

  it('should not allow reading test labels, even with a grant on the labels split', () => {
    const labels = { name: 'labels', kind: 'labels' as const };
    const g = grantsOf('a', [trainGrant, { ...trainGrant, id: 'g-a-labels', split: 'labels' }]);
    const d = engine.decide(read('a', labels, 'labels/test_annotations.csv'), g);
    expect(d.decision).toBe('deny');
    expect(d.policies).toEqual(['no-job-reads-labels']);
    const list = engine.decide(
      { ...read('a', labels, ''), action: 'list', resource: { type: 'Split', dataset: 'lung', split: 'labels', kind: 'labels' } },
      g,
    );
    expect(list.decision).toBe('deny');
  });

  it('should not allow a read before not-before or at/after not-after', () => {
    expect(engine.decide(read('a', TRAIN, 'train/x.mhd', new Date(T0.getTime() - 1)), teamA).decision).toBe('deny');
    expect(engine.decide(read('a', TRAIN, 'train/x.mhd', T0), teamA).decision).toBe('allow');
    expect(engine.decide(read('a', TRAIN, 'train/x.mhd', new Date(T1.getTime() - 1)), teamA).decision).toBe('allow');
    expect(engine.decide(read('a', TRAIN, 'train/x.mhd', T1), teamA).decision).toBe('deny');
  });

  it('should not allow a revoked grant (absent from the team grants) on the very next decision', () => {
    expect(engine.decide(read('a', TRAIN, 'train/x.mhd'), teamA).decision).toBe('allow');
    expect(engine.decide(read('a', TRAIN, 'train/x.mhd'), grantsOf('a', [])).decision).toBe('deny');
  });

  it('should not allow an object outside every split', () => {
    expect(engine.decide(read('a', null, 'stray.raw'), teamA).decision).toBe('deny');
  });

  it('should not allow data on the control listener', () => {
    const d = engine.decide(read('a', TRAIN, 'train/x.mhd', DURING, 'control'), teamA);
    expect(d.decision).toBe('deny');
    expect(d.policies).toEqual(['data-only-in-sandbox']);
  });

  it('allows listing a granted split and denies an ungranted one', () => {
    const list = (split: string, kind: 'train' | 'test') =>
      engine.decide({ ...read('a', null, ''), action: 'list', resource: { type: 'Split', dataset: 'lung', split, kind } }, teamA);
    expect(list('train', 'train').decision).toBe('allow');
    expect(list('test', 'test').decision).toBe('deny');
  });

  it('treats keys as opaque: a traversal-looking key is decided by its own split only', () => {
    // The caller resolves the split from the raw key prefix; `train/../labels/x` is under train/.
    const d = engine.decide(read('a', TRAIN, 'train/../labels/test_annotations.csv'), teamA);
    expect(d.decision).toBe('allow');
  });

  it('should not allow when a forbid errors at evaluation (Cedar would skip it): deny, with the error', () => {
    const schema = readFileSync(join(POLICY_DIR, 'schema.cedarschema'), 'utf8');
    const files = new Map([
      ['data-plane.cedar', readFileSync(join(POLICY_DIR, 'data-plane.cedar'), 'utf8')],
      ['overflow.cedar', '@id("overflowing-forbid")\nforbid (principal, action, resource) when { context.now * 100000000000 > 0 };'],
    ]);
    const overflowing = new CedarPolicyEngine(compilePolicyFiles(schema, files), new Date());
    const d = overflowing.decide(read('a', TRAIN, 'train/x.mhd'), teamA);
    expect(d.decision).toBe('deny');
    expect(d.errors.join()).toContain('overflowing-forbid');
  });
});

describe('CedarPolicyEngine: what the store answered (manifest, byte quota)', () => {
  const engine = new CedarPolicyEngine(loadPolicyFiles(POLICY_DIR), new Date());
  const teamA = grantsOf('a', [{ id: 'g-a-train', team: 'a', dataset: 'lung', split: 'train', notBefore: T0, notAfter: T1 }]);
  const TRAIN = { name: 'train', kind: 'train' as const };
  const readOf = (manifest: ManifestStatus, context: Record<string, number> = { bytes: 100 }) =>
    engine.decide(read('a', TRAIN, 'train/x.raw', DURING, 'sandbox', manifest, context), teamA);

  it('should not serve an object its manifest lists with another size or ETag, nor one it does not list', () => {
    expect(readOf('mismatch')).toMatchObject({ decision: 'deny', policies: ['manifest-listed-only'], categories: ['manifest'] });
    expect(readOf('absent')).toMatchObject({ decision: 'deny', policies: ['manifest-listed-only'], categories: ['manifest'] });
  });

  it('serves an object its manifest lists as the store holds it, and any object of a dataset with no manifest', () => {
    expect(readOf('listed')).toMatchObject({ decision: 'allow', policies: ['grant:g-a-train'], categories: [] });
    expect(readOf('none').decision).toBe('allow');
  });

  it('should not serve a read over what is left of the byte quota, and names the policy that refused it', () => {
    expect(readOf('none', { bytes: 101, quotaRemaining: 100 })).toMatchObject({
      decision: 'deny',
      policies: ['read-within-byte-quota'],
      categories: ['quota'],
    });
    expect(readOf('none', { bytes: 1, quotaRemaining: 0 }).decision).toBe('deny');
  });

  it('serves a read that fits the quota to the last byte, one that carries nothing, and one no quota applies to', () => {
    expect(readOf('none', { bytes: 100, quotaRemaining: 100 }).decision).toBe('allow');
    expect(readOf('none', { bytes: 0, quotaRemaining: 0 }).decision).toBe('allow');
    expect(readOf('none', { bytes: 1e12 }).decision).toBe('allow');
  });

  it('should not serve a read that names a quota but not its bytes (the forbid errors: deny)', () => {
    const d = readOf('none', { quotaRemaining: 100 });
    expect(d.decision).toBe('deny');
    expect(d.errors.join()).toContain('read-within-byte-quota');
  });
});

describe('CedarPolicyEngine: categories a forbid declares', () => {
  const map = () => readPolicyDir(POLICY_DIR);
  /** A sixth predictions artifact today, decided by the set in `m`. */
  const sixthToday = (m: Record<string, string>) =>
    new CedarPolicyEngine(compilePolicyMap(m), new Date()).decide(
      {
        principal: { type: 'Job', id: 'job-a', team: 'a' },
        action: 'egress',
        resource: { type: 'Artifact', id: 'x', kind: 'predictions' },
        listener: 'sandbox',
        now: DURING,
        context: {
          kind: 'predictions',
          payload: 'bearer',
          bytes: 10,
          bits: 10,
          bitsToday: 0,
          submissionsToday: 5,
          dailyBits: 1e6,
          dailySubmissions: 5,
        },
      },
      grantsOf('a', []),
    );

  it('reports a budget refusal by its category, whatever the policy is called', () => {
    const renamed = map();
    renamed['egress.cedar'] = renamed['egress.cedar'].replace('@id("egress-daily-submissions")', '@id("five-a-day")');
    expect(sixthToday(map())).toMatchObject({ decision: 'deny', policies: ['egress-daily-submissions'], categories: ['budget'] });
    expect(sixthToday(renamed)).toMatchObject({ decision: 'deny', policies: ['five-a-day'], categories: ['budget'] });
  });

  it('should not load a set whose forbid names a category the gateway does not know, or a permit that names one', () => {
    const typo = map();
    typo['egress.cedar'] = typo['egress.cedar'].replace('@category("budget")', '@category("budjet")');
    expect(() => new CedarPolicyEngine(compilePolicyMap(typo), new Date())).toThrow(PolicyLoadError);
    expect(() => new CedarPolicyEngine(compilePolicyMap(typo), new Date())).toThrow(/unknown @category "budjet"/);
    const permit = map();
    permit['egress.cedar'] = permit['egress.cedar'].replace('@id("egress-results")', '@id("egress-results")\n@category("quota")');
    expect(() => new CedarPolicyEngine(compilePolicyMap(permit), new Date())).toThrow(/only a forbid/);
    const engine = new CedarPolicyEngine(compilePolicyMap(map()), new Date());
    expect(() => engine.activate(compilePolicyMap(typo), new Date())).toThrow(PolicyLoadError);
    expect(engine.active.version).toBe(1);
  });
});

describe('CedarPolicyEngine: airlock reviews (the policy files alone decide)', () => {
  const engine = new CedarPolicyEngine(loadPolicyFiles(POLICY_DIR), new Date());
  const review = (role: string, teams: string[], team = 'beta', listener: 'control' | 'sandbox' = 'control'): DecisionRequest => ({
    principal: { type: 'User', id: 'user:ann', role, teams },
    action: 'review',
    resource: { type: 'Artifact', id: 'egr-1', kind: 'model', team },
    listener,
    now: DURING,
  });

  it('allows a compliance officer affiliated with no team, or only with other teams', () => {
    expect(engine.decide(review('auditor', []))).toMatchObject({ decision: 'allow', policies: ['review-by-auditors'] });
    expect(engine.decide(review('auditor', ['alpha', 'gamma'])).decision).toBe('allow');
  });

  it('should not allow an officer affiliated with the submitting team (member, former member, token team or job creator alike)', () => {
    const d = engine.decide(review('auditor', ['alpha', 'beta']));
    expect(d.decision).toBe('deny');
    expect(d.policies).toEqual(['review-independent-of-team']);
  });

  it('should not allow an organizer or a contestant to review, nor a review through the sandbox listener', () => {
    expect(engine.decide(review('organizer', [])).decision).toBe('deny');
    expect(engine.decide(review('contestant', ['alpha'])).decision).toBe('deny');
    expect(engine.decide(review('auditor', [], 'beta', 'sandbox'))).toMatchObject({
      decision: 'deny',
      policies: ['review-on-control-listener'],
    });
  });

  it('should not decide with the grants of a team the person is not in, nor about an artifact of no named team', () => {
    expect(() => engine.decide(review('auditor', ['alpha']), grantsOf('beta', []))).toThrow(/another team/);
    const { team: _team, ...noTeam } = review('auditor', []).resource as { team: string };
    expect(() => engine.decide({ ...review('auditor', []), resource: noTeam as DecisionRequest['resource'] })).toThrow(/name its team/);
  });

  it('decides again on the set activated since (the files-only set is re-prepared)', () => {
    const own = new CedarPolicyEngine(loadPolicyFiles(POLICY_DIR), new Date());
    expect(own.decide(review('auditor', [])).decision).toBe('allow');
    const map = readPolicyDir(POLICY_DIR);
    map['review.cedar'] = map['review.cedar'].replace(/@id\("review-by-auditors"\)\s*permit[^;]*;/, '');
    own.activate(compilePolicyMap(map), new Date());
    expect(own.decide(review('auditor', [])).decision).toBe('deny');
  });
});

describe('CedarPolicyEngine: airlock releases (the policy files alone decide)', () => {
  const release = (approvals: number): DecisionRequest => ({
    principal: { type: 'User', id: 'user:bob', role: 'auditor', teams: [] },
    action: 'release',
    resource: { type: 'Artifact', id: 'egr-1', kind: 'model', team: 'beta' },
    listener: 'control',
    now: DURING,
    context: { approvals },
  });

  it('should not release an artifact on one standing approval, nor on none', () => {
    const engine = new CedarPolicyEngine(loadPolicyFiles(POLICY_DIR), new Date());
    expect(engine.decide(release(1))).toMatchObject({ decision: 'deny', policies: [] });
    expect(engine.decide(release(0)).decision).toBe('deny');
  });

  it('releases on two standing approvals, naming the policy that let it out', () => {
    const engine = new CedarPolicyEngine(loadPolicyFiles(POLICY_DIR), new Date());
    expect(engine.decide(release(2))).toMatchObject({ decision: 'allow', policies: ['release-after-two-approvals'] });
  });

  it('asks for as many approvals as the policy says: a set that wants three holds after two', () => {
    const map = readPolicyDir(POLICY_DIR);
    map['review.cedar'] = map['review.cedar'].replace('context.approvals >= 2', 'context.approvals >= 3');
    const engine = new CedarPolicyEngine(compilePolicyMap(map), new Date());
    expect(engine.decide(release(2)).decision).toBe('deny');
    expect(engine.decide(release(3)).decision).toBe('allow');
  });
});
