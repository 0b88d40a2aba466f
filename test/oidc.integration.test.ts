import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type KeyLike, SignJWT } from 'jose';
import { type Fixture, startFixture } from './support/fixture';
import { bearer, rawRequest } from './support/http';
import { AuditRepository } from '../src/audit/audit.repository';
import { OidcIssuers } from '../src/auth/oidc-issuers';
import { TeamRepository } from '../src/teams/team.repository';

describe('external OIDC issuers (JWKS)', () => {
  let f: Fixture;
  let idp: Server;
  let base: string;
  let sign: (claims: Record<string, unknown>, opts?: { aud?: string; key?: KeyLike }) => Promise<string>;
  let otherKey: KeyLike;
  beforeAll(async () => {
    f = await startFixture({ db: 'pglite' });
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const other = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    idp = createServer((req, res) => {
      const bodies: Record<string, string> = {
        '/jwks': JSON.stringify({ keys: [jwk] }),
        '/not-json': '<html>login</html>',
        '/no-keys': JSON.stringify({ keys: [] }),
        '/private': JSON.stringify({ keys: [{ ...jwk, d: 'AAAA' }] }),
        '/garbage-key': JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-256', x: 'nope', y: 'nope' }] }),
      };
      const b = bodies[req.url ?? ''];
      res.writeHead(b === undefined ? 404 : 200, { 'content-type': 'application/json' });
      res.end(b ?? '{}');
    });
    await new Promise<void>((r) => idp.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
    sign = (claims, opts = {}) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer(`${base}/`)
        .setAudience(opts.aud ?? 'cage-hospital')
        .setExpirationTime('10m')
        .sign(opts.key ?? privateKey);
    otherKey = other.privateKey;
  });
  afterAll(async () => {
    await f?.stop();
    idp?.close();
  });

  const register = (jwksUrl: string) =>
    rawRequest(
      f.gateway.controlUrl,
      'POST',
      '/v1/issuers',
      { ...bearer(f.organizerToken), 'content-type': 'application/json' },
      JSON.stringify({ issuer: `${base}/`, jwksUrl, audience: 'cage-hospital' }),
    );

  it.each(['/not-json', '/no-keys', '/private', '/garbage-key', '/missing'])(
    'should not register a malformed or unreachable JWKS (%s): 400 and no change',
    async (path) => {
      const leaves = await f.gateway.get(AuditRepository).size();
      const r = await register(`${base}${path}`);
      expect(r.status).toBe(400);
      expect(JSON.parse(r.body.toString()).message).toMatch(/JWKS/);
      expect(await f.gateway.get(OidcIssuers).list()).toEqual([]);
      expect(await f.gateway.get(AuditRepository).size()).toBe(leaves);
    },
  );

  it('accepts tokens of a registered issuer: role from its claim, a contestant’s team from membership', async () => {
    expect((await register(`${base}/jwks`)).status).toBe(201);
    const organizer = await sign({ sub: 'olivia', cage_role: 'organizer' });
    expect((await rawRequest(f.gateway.controlUrl, 'GET', '/v1/teams', bearer(organizer))).status).toBe(200);

    const contestant = await sign({ sub: 'casey', cage_role: 'contestant' });
    expect((await rawRequest(f.gateway.controlUrl, 'GET', '/v1/egress', bearer(contestant))).status).toBe(401);
    await f.gateway.get(TeamRepository).addMember({ team: 'beta', subject: 'casey', issuer: `${base}/` }, new Date(), 'test');
    const r = await rawRequest(f.gateway.controlUrl, 'GET', '/v1/egress', bearer(contestant));
    expect(r.status).toBe(200);
    expect((await rawRequest(f.gateway.controlUrl, 'GET', '/v1/teams', bearer(contestant))).status).toBe(403);
    // Even a role claim of 'contestant' reads no data: external tokens are refused on the sandbox.
    expect((await rawRequest(f.gateway.sandboxUrl, 'GET', '/v1/datasets', bearer(contestant))).status).toBe(401);
  });

  it('should not accept a wrong audience, another key, or a missing role claim', async () => {
    for (const t of [
      await sign({ sub: 'olivia', cage_role: 'organizer' }, { aud: 'elsewhere' }),
      await sign({ sub: 'olivia', cage_role: 'organizer' }, { key: otherKey }),
      await sign({ sub: 'olivia' }),
    ]) {
      expect((await rawRequest(f.gateway.controlUrl, 'GET', '/v1/teams', bearer(t))).status).toBe(401);
    }
  });
});
