import { join } from 'node:path';
import { checkExpectations } from './policy-expectations';
import { compilePolicyMap, readPolicyDir } from './policy-files';

const POLICY_DIR = join(__dirname, '..', '..', 'policies');

describe('policy expectations', () => {
  it('the shipped policies meet every shipped expectation', () => {
    const results = checkExpectations(compilePolicyMap(readPolicyDir(POLICY_DIR)));
    expect(results.length).toBeGreaterThanOrEqual(10);
    expect(results.filter((r) => !r.passed)).toEqual([]);
  });

  it('names the expectations a too-permissive set breaks', () => {
    const map = readPolicyDir(POLICY_DIR);
    map['open.cedar'] = '@id("open-door")\npermit (principal, action, resource);';
    const failed = checkExpectations(compilePolicyMap(map)).filter((r) => !r.passed);
    expect(failed.map((r) => r.name)).toEqual(
      expect.arrayContaining([
        "team A cannot read team B's grant",
        'a contestant token reads no raw data, even of a split the team is granted',
        'model weights do not leave without an explicit policy',
        'a held artifact is not released on one standing approval',
      ]),
    );
    expect(failed.find((r) => r.name === "team A cannot read team B's grant")!.message).toBe('expected deny, got allow (by open-door)');
  });

  it('blocks a set that drops the manifest or the byte-quota forbid, naming what it would serve', () => {
    const map = readPolicyDir(POLICY_DIR);
    map['data-plane.cedar'] = map['data-plane.cedar']
      .replace(/@id\("manifest-listed-only"\)[^;]*;/, '')
      .replace(/@id\("read-within-byte-quota"\)[^;]*;/, '');
    const failed = checkExpectations(compilePolicyMap(map)).filter((r) => !r.passed);
    expect(failed.map((r) => r.name).sort()).toEqual([
      'an object put into the bucket behind the gateway (not in the manifest) is not served',
      'every set: an object an ingested dataset does not list is not served',
      'every set: an object that differs from its manifest entry is not served',
      "every set: no read goes past a grant's byte quota",
      "no read goes past what is left of the grant's byte quota",
      'other bytes under a key the manifest lists (another size or ETag) are not served',
    ]);
  });

  it('should not pass a set whose quota forbid lost its category, even without the tests that would notice', () => {
    // Without its tests/ file and its category, nothing would notice a set that stopped enforcing quotas.
    const map = readPolicyDir(POLICY_DIR);
    map['data-plane.cedar'] = map['data-plane.cedar'].replace('@category("quota")\n', '');
    delete map['tests/data-plane.json'];
    const failed = checkExpectations(compilePolicyMap(map)).filter((r) => !r.passed);
    expect(failed).toEqual([
      {
        name: "every set: no read goes past a grant's byte quota",
        passed: false,
        message: 'denied, but by no forbid of @category("quota")',
      },
    ]);
  });

  it.each([
    [
      'a quota forbid that never fires',
      (m: Record<string, string>) => {
        m['data-plane.cedar'] = m['data-plane.cedar'].replace(/(@id\("read-within-byte-quota"\)[^;]*when \{)/, '$1 false && ');
      },
      "every set: no read goes past a grant's byte quota",
    ],
    [
      'a permit for reads outside the grants',
      (m: Record<string, string>) => {
        m['extra.cedar'] = '@id("everyone-reads")\npermit (principal is Cage::Job, action == Cage::Action::"read", resource);\n';
      },
      'every set: only a grant lets a job read',
    ],
    [
      'one approval releasing a held artifact',
      (m: Record<string, string>) => {
        m['review.cedar'] = m['review.cedar'].replace('context.approvals >= 2', 'context.approvals >= 1');
      },
      'every set: one approval releases nothing',
    ],
    [
      'a budget forbid without its category',
      (m: Record<string, string>) => {
        m['egress.cedar'] = m['egress.cedar'].replace(/@category\("budget"\)\n/g, '');
      },
      'every set: nothing leaves over the daily bits',
    ],
  ])('should not pass %s, even with its tests/ files removed', (_name, change, rule) => {
    const map = readPolicyDir(POLICY_DIR);
    change(map);
    for (const k of Object.keys(map)) if (k.startsWith('tests/')) delete map[k];
    const failed = checkExpectations(compilePolicyMap(map)).filter((r) => !r.passed);
    expect(failed.map((r) => r.name)).toContain(rule);
  });

  it('catches a grant template that would let people read data', () => {
    // The contestant expectation holds because grants permit only `principal is Job`.
    const map = readPolicyDir(POLICY_DIR);
    const r = checkExpectations(compilePolicyMap(map)).find((x) => x.name.startsWith('a contestant token'));
    expect(r?.passed).toBe(true);
  });
});

describe('policy expectations: airlock reviewer independence', () => {
  const REVIEW_EXPECTATIONS = [
    'a member of the submitting team does not review, even with a token naming no team',
    'a former member of the submitting team does not review',
    "the creator of one of the submitting team's jobs does not review",
    'an officer whose token names the submitting team does not review',
  ];

  it('the shipped set lets an unaffiliated officer review and nobody affiliated', () => {
    const results = checkExpectations(compilePolicyMap(readPolicyDir(POLICY_DIR)));
    const names = results.map((r) => r.name);
    expect(names).toEqual(
      expect.arrayContaining([
        ...REVIEW_EXPECTATIONS,
        'a compliance officer of no affiliation with the team reviews its artifact',
        'an organizer does not review',
      ]),
    );
  });

  it('blocks a set that drops the independence forbid, naming every affiliation it would let review', () => {
    const map = readPolicyDir(POLICY_DIR);
    map['review.cedar'] = map['review.cedar'].replace(/@id\("review-independent-of-team"\)\s*forbid[^;]*;/, '');
    expect(map['review.cedar']).not.toContain('review-independent-of-team');
    const failed = checkExpectations(compilePolicyMap(map)).filter((r) => !r.passed);
    expect(failed.map((r) => r.name).sort()).toEqual([...REVIEW_EXPECTATIONS].sort());
    expect(failed[0].message).toBe('expected deny, got allow (by review-by-auditors)');
  });

  it('blocks a set that lets any role review', () => {
    const map = readPolicyDir(POLICY_DIR);
    map['review.cedar'] = map['review.cedar'].replace('when { principal.role == "auditor" }', '');
    const failed = checkExpectations(compilePolicyMap(map)).filter((r) => !r.passed);
    expect(failed.map((r) => r.name)).toEqual(
      expect.arrayContaining(['an organizer does not review', "a contestant does not review, not even another team's artifact"]),
    );
  });

  it('refuses an expectation that asks about a person and an artifact of no named team', () => {
    const map = readPolicyDir(POLICY_DIR);
    map['tests/bad.json'] = JSON.stringify({
      expectations: [
        {
          name: 'no team',
          request: {
            listener: 'control',
            principal: { user: 'ann', role: 'auditor' },
            action: 'review',
            resource: { artifact: 'x', kind: 'model' },
          },
          expect: 'allow',
        },
      ],
    });
    expect(() => checkExpectations(compilePolicyMap(map))).toThrow(/names its team/);
  });
});
