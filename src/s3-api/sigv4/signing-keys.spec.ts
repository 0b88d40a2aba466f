import { signingKey } from './canonical-request';
import { SigningKeys } from './signing-keys';

const scope = { date: '20261202', region: 'us-east-1', service: 's3' };

describe('derived SigV4 signing keys', () => {
  it('should not keep verifying with a key derived from a secret the job no longer has', () => {
    const keys = new SigningKeys();
    const old = keys.get({ id: 'job-1', sealed: 'sealed-A' }, scope, () => 'secret-A');
    const now = keys.get({ id: 'job-1', sealed: 'sealed-B' }, scope, () => 'secret-B');
    expect(now).toEqual(signingKey('secret-B', scope.date, scope.region, scope.service));
    expect(now).not.toEqual(old);
  });

  it('should not hand one scope the key of another', () => {
    const keys = new SigningKeys();
    const today = keys.get({ id: 'job-1', sealed: 's' }, scope, () => 'secret');
    const tomorrow = keys.get({ id: 'job-1', sealed: 's' }, { ...scope, date: '20261203' }, () => 'secret');
    const elsewhere = keys.get({ id: 'job-1', sealed: 's' }, { ...scope, region: 'eu-west-1' }, () => 'secret');
    expect(tomorrow).toEqual(signingKey('secret', '20261203', scope.region, scope.service));
    expect(elsewhere).toEqual(signingKey('secret', scope.date, 'eu-west-1', scope.service));
    expect(new Set([today, tomorrow, elsewhere].map((k) => k.toString('hex'))).size).toBe(3);
  });

  it('unseals and derives once per job and scope', () => {
    const keys = new SigningKeys();
    const secret = jest.fn(() => 'secret');
    const a = keys.get({ id: 'job-1', sealed: 's' }, scope, secret);
    const b = keys.get({ id: 'job-1', sealed: 's' }, scope, secret);
    expect(a).toBe(b);
    expect(a).toEqual(signingKey('secret', scope.date, scope.region, scope.service));
    expect(secret).toHaveBeenCalledTimes(1);
  });

  it('stays bounded under a flood of scopes', () => {
    const keys = new SigningKeys();
    for (let i = 0; i < 12_000; i++) keys.get({ id: `job-${i}`, sealed: 's' }, scope, () => 'secret');
    expect(keys.size).toBeLessThanOrEqual(10_000);
  });
});
