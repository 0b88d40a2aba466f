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
      expect.arrayContaining(["team A cannot read team B's grant", 'a contestant token reads no raw data, even of a split the team is granted', 'model weights do not leave without an explicit policy']),
    );
    expect(failed.find((r) => r.name === "team A cannot read team B's grant")!.message).toBe('expected deny, got allow (by open-door)');
  });

  it('catches a grant template that would let people read data', () => {
    // The contestant expectation holds because grants permit only `principal is Job`.
    const map = readPolicyDir(POLICY_DIR);
    const r = checkExpectations(compilePolicyMap(map)).find((x) => x.name.startsWith('a contestant token'));
    expect(r?.passed).toBe(true);
  });
});
