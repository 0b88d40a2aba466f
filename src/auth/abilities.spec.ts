import { subject } from '@casl/ability';
import { abilityFor } from './abilities';
import { type Principal, type UserPrincipal } from '../principal/principal';

const user = (role: UserPrincipal['role'], team: string | null): UserPrincipal => ({ kind: 'user', sub: `${role}-1`, role, team });

describe('abilities: receipts', () => {
  it("lets organizers and auditors read every team's receipts whole", () => {
    for (const role of ['organizer', 'auditor'] as const) {
      const ability = abilityFor(user(role, null));
      expect(ability.can('read', 'AllReceipts')).toBe(true);
      expect(ability.can('read', subject('Receipt', { team: 'alpha' }))).toBe(true);
    }
  });

  it("should not let a contestant read every team's receipts, whatever their team is called", () => {
    // The team name the old probe used: a contestant of a team so named must still see only it.
    for (const team of ['alpha', '\u0000any team', '']) {
      const ability = abilityFor(user('contestant', team));
      expect(ability.can('read', 'AllReceipts')).toBe(false);
      expect(ability.can('read', subject('Receipt', { team }))).toBe(true);
      expect(ability.can('read', subject('Receipt', { team: 'beta' }))).toBe(false);
    }
    expect(abilityFor(user('contestant', null)).can('read', 'AllReceipts')).toBe(false);
  });

  it('should not let a job read any receipt', () => {
    const job: Principal = { kind: 'job', jobId: 'j', team: 'alpha', expiresAt: new Date() };
    expect(abilityFor(job).can('read', 'AllReceipts')).toBe(false);
    expect(abilityFor(job).can('read', subject('Receipt', { team: 'alpha' }))).toBe(false);
  });
});
