import { TokenService } from '../src/auth/token.service';
import { DB_KINDS } from './support/backends';
import { type Fixture, startFixture } from './support/fixture';

/*
 * Issue 15: user tokens can be revoked (one by its id, or every token of a subject), and a
 * contestant removed from their team no longer speaks for it — within a second.
 */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(DB_KINDS)('revocable user tokens (%s)', (db) => {
  let f: Fixture;
  beforeAll(async () => {
    f = await startFixture({ db });
  });
  afterAll(async () => {
    await f?.stop();
  });

  const call = (method: string, path: string, token: string, body?: unknown) =>
    fetch(`${f.gateway.controlUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const issue = async (subject: string, role: string, team?: string) => {
    const r = await call('POST', '/v1/tokens', f.organizerToken, {
      subject,
      role,
      ...(team === undefined ? {} : { team }),
      ttlSeconds: 3600,
    });
    expect(r.status).toBe(201);
    return (await r.json()) as { token: string; tokenId: string };
  };
  /** Milliseconds until `path` answers 401 with the token (or the limit). */
  const refusedWithin = async (path: string, token: string, limitMs = 2000) => {
    const start = Date.now();
    while (Date.now() - start < limitMs && (await call('GET', path, token)).status !== 401) await sleep(20);
    return Date.now() - start;
  };

  it('should not accept a revoked token after 1 s, and says it was revoked', async () => {
    const { token, tokenId } = await issue('rita', 'auditor');
    expect((await call('GET', '/v1/audit?limit=1', token)).status).toBe(200);
    const revoked = await call('POST', `/v1/tokens/${tokenId}/revoke`, f.organizerToken);
    expect(revoked.status).toBe(200);
    const after = await refusedWithin('/v1/audit?limit=1', token);
    process.stdout.write(`token revoked: refused after ${after} ms\n`);
    expect(after).toBeLessThanOrEqual(1000);
    expect(((await (await call('GET', '/v1/audit?limit=1', token)).json()) as { message: string }).message).toContain('token revoked');
    expect((await call('POST', `/v1/tokens/${tokenId}/revoke`, f.organizerToken)).status).toBe(409);
    // The revocation is an organizer's act like any other: logged.
    const leaves = (await (await call('GET', '/v1/audit?action=token.revoke&limit=10', f.auditorToken)).json()) as {
      leaves: { leaf: { resource: { id: string } } }[];
    };
    expect(leaves.leaves.map((l) => l.leaf.resource.id)).toContain(tokenId);
  });

  it("should not accept any of a subject's tokens issued before their revocation; one issued later works", async () => {
    const a = await issue('sam', 'auditor');
    const b = await issue('sam', 'auditor');
    expect((await call('POST', '/v1/tokens/revoke-subject', f.organizerToken, { subject: 'sam' })).status).toBe(200);
    expect(await refusedWithin('/v1/audit?limit=1', a.token)).toBeLessThanOrEqual(1000);
    expect(await refusedWithin('/v1/audit?limit=1', b.token)).toBeLessThanOrEqual(1000);
    await sleep(1100); // token times are whole seconds: one issued in the revocation's second is refused too
    const later = await issue('sam', 'auditor');
    expect((await call('GET', '/v1/audit?limit=1', later.token)).status).toBe(200);
  });

  it('should not let a contestant removed from the team keep reading its receipts', async () => {
    expect((await call('POST', '/v1/teams/alpha/members', f.organizerToken, { subject: 'cleo' })).status).toBe(201);
    const { token } = await issue('cleo', 'contestant', 'alpha');
    expect((await call('GET', '/v1/egress', token)).status).toBe(200);
    expect((await call('DELETE', '/v1/teams/alpha/members/cleo', f.organizerToken)).status).toBe(204);
    const after = await refusedWithin('/v1/egress', token);
    expect(after).toBeLessThanOrEqual(1000);
    expect(((await (await call('GET', '/v1/egress', token)).json()) as { message: string }).message).toContain(
      'not (or no longer) a member of team alpha',
    );
  });

  it('should not let a team claim alone speak for a team: a token for someone who is not a member is refused', async () => {
    // A token signed by the gateway's own key but never backed by a membership (one minted before
    // this rule, or by a key-ring holder outside the API) reads nothing of the team.
    const bare = await f.gateway.get(TokenService).issueUser('nemo', 'contestant', 'alpha', 600);
    const r = await call('GET', '/v1/egress', bare);
    expect(r.status).toBe(401);
    expect(((await r.json()) as { message: string }).message).toContain('not (or no longer) a member of team alpha');
    // Issuing one through the API makes its subject a member (said in the token.issue leaf).
    const { token } = await issue('nina', 'contestant', 'alpha');
    expect((await call('GET', '/v1/egress', token)).status).toBe(200);
    const { members } = (await (await call('GET', '/v1/teams/alpha/members', f.organizerToken)).json()) as {
      members: { subject: string }[];
    };
    expect(members.map((m) => m.subject)).toContain('nina');
    const leaves = (await (await call('GET', '/v1/audit?action=token.issue&limit=50', f.auditorToken)).json()) as {
      leaves: { leaf: { detail: { after: { subject: string; membership?: string } } } }[];
    };
    expect(leaves.leaves.find((l) => l.leaf.detail.after.subject === 'nina')?.leaf.detail.after.membership).toBe('added');
    // A team that does not exist gets no token, and no member.
    const unknown = await call('POST', '/v1/tokens', f.organizerToken, { subject: 'nina', role: 'contestant', team: 'no-such-team' });
    expect(unknown.status).toBe(404);
  });

  it('should not bring back old tokens when a removed contestant is added to the team again', async () => {
    const old = await issue('otto', 'contestant', 'alpha');
    expect((await call('GET', '/v1/egress', old.token)).status).toBe(200);
    expect((await call('DELETE', '/v1/teams/alpha/members/otto', f.organizerToken)).status).toBe(204);
    expect(await refusedWithin('/v1/egress', old.token)).toBeLessThanOrEqual(1000);
    await sleep(1100); // token times are whole seconds
    expect((await call('POST', '/v1/teams/alpha/members', f.organizerToken, { subject: 'otto' })).status).toBe(201);
    const r = await call('GET', '/v1/egress', old.token);
    expect(r.status).toBe(401);
    expect(((await r.json()) as { message: string }).message).toContain('predates the current membership of team alpha');
    const renewed = await issue('otto', 'contestant', 'alpha');
    expect((await call('GET', '/v1/egress', renewed.token)).status).toBe(200);
  });

  it('should not let a contestant or an auditor revoke tokens', async () => {
    const { tokenId } = await issue('tim', 'auditor');
    expect((await call('POST', `/v1/tokens/${tokenId}/revoke`, f.auditorToken)).status).toBe(403);
    expect((await call('POST', '/v1/tokens/revoke-subject', f.contestantToken, { subject: 'olga' })).status).toBe(403);
  });

  it('issues short-lived tokens by default: a working day for organizers and auditors, a week for contestants', async () => {
    const expiry = async (body: Record<string, string>) => {
      const r = await call('POST', '/v1/tokens', f.organizerToken, body);
      expect(r.status).toBe(201);
      return (Date.parse(((await r.json()) as { expiresAt: string }).expiresAt) - Date.now()) / 3600_000;
    };
    expect(await expiry({ subject: 'uma', role: 'auditor' })).toBeCloseTo(12, 1);
    expect(await expiry({ subject: 'ugo', role: 'organizer' })).toBeCloseTo(12, 1);
    expect((await call('POST', '/v1/teams/alpha/members', f.organizerToken, { subject: 'ulla' })).status).toBe(201);
    expect(await expiry({ subject: 'ulla', role: 'contestant', team: 'alpha' })).toBeCloseTo(7 * 24, 1);
  });

  it('should not let a refreshed token go on working; its replacement keeps the role, team and lifetime', async () => {
    expect((await call('POST', '/v1/teams/alpha/members', f.organizerToken, { subject: 'rex' })).status).toBe(201);
    const old = await issue('rex', 'contestant', 'alpha');
    const r = await call('POST', '/v1/tokens/refresh', old.token);
    expect(r.status).toBe(201);
    const fresh = (await r.json()) as { token: string; tokenId: string; expiresAt: string };
    expect(fresh.tokenId).not.toBe(old.tokenId);
    expect((Date.parse(fresh.expiresAt) - Date.now()) / 1000).toBeCloseTo(3600, -1); // the hour it was issued for
    // The new one speaks for the same person and team; the old one is refused within a second.
    expect((await call('GET', '/v1/egress', fresh.token)).status).toBe(200);
    expect(await refusedWithin('/v1/egress', old.token)).toBeLessThanOrEqual(1000);
    // Nor can the old one be refreshed again (a thief who refreshed first leaves the owner locked out, and told).
    expect((await call('POST', '/v1/tokens/refresh', old.token)).status).toBe(401);
    // The refresh is logged, naming both tokens.
    const leaves = (await (await call('GET', '/v1/audit?action=token.refresh&limit=10', f.auditorToken)).json()) as {
      leaves: { leaf: { principal: string; resource: { id: string }; detail: { after: { tokenId: string } } } }[];
    };
    expect(leaves.leaves.map((l) => [l.leaf.principal, l.leaf.resource.id, l.leaf.detail.after.tokenId])).toContainEqual([
      'user:rex',
      old.tokenId,
      fresh.tokenId,
    ]);
  });

  it('should not refresh a revoked token, nor one whose contestant left the team', async () => {
    const a = await issue('ray', 'auditor');
    expect((await call('POST', `/v1/tokens/${a.tokenId}/revoke`, f.organizerToken)).status).toBe(200);
    expect(await refusedWithin('/v1/audit?limit=1', a.token)).toBeLessThanOrEqual(1000);
    expect((await call('POST', '/v1/tokens/refresh', a.token)).status).toBe(401);
    expect((await call('POST', '/v1/teams/alpha/members', f.organizerToken, { subject: 'rue' })).status).toBe(201);
    const c = await issue('rue', 'contestant', 'alpha');
    expect((await call('DELETE', '/v1/teams/alpha/members/rue', f.organizerToken)).status).toBe(204);
    expect(await refusedWithin('/v1/egress', c.token)).toBeLessThanOrEqual(1000);
    expect((await call('POST', '/v1/tokens/refresh', c.token)).status).toBe(401);
  });

  it('should not let a refresh outrun a revocation of every token of its subject, nor go on past its limit', async () => {
    const a = await issue('sol', 'auditor');
    await sleep(1100); // token times are whole seconds
    expect((await call('POST', '/v1/tokens/revoke-subject', f.organizerToken, { subject: 'sol' })).status).toBe(200);
    // Within the revocation's first half second a replica may still let the old token refresh;
    // the new token carries its chain's start, so it is refused all the same.
    const r = await call('POST', '/v1/tokens/refresh', a.token);
    if (r.status === 201) {
      const fresh = (await r.json()) as { token: string };
      await sleep(1100);
      expect(await refusedWithin('/v1/audit?limit=1', fresh.token)).toBeLessThanOrEqual(1000);
    } else expect(r.status).toBe(401);
    // A chain that began 31 days ago is not refreshed again (403), and the refusal is logged.
    const old = await f.gateway.get(TokenService).issueUser('olaf', 'auditor', null, 3600, new Date(Date.now() - 31 * 24 * 3600 * 1000));
    expect((await call('GET', '/v1/audit?limit=1', old)).status).toBe(200);
    expect((await call('POST', '/v1/tokens/refresh', old)).status).toBe(403);
    const leaves = (await (await call('GET', '/v1/audit?action=token.refresh&decision=deny&limit=10', f.auditorToken)).json()) as {
      leaves: { leaf: { principal: string; detail: { reason: string } } }[];
    };
    expect(leaves.leaves.map((l) => [l.leaf.principal, l.leaf.detail.reason])).toContainEqual(['user:olaf', 'refresh limit']);
  });
});
