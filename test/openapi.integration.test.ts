import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Fixture, startFixture } from './support/fixture';
import { rawRequest } from './support/http';

describe('the committed OpenAPI documents', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await startFixture({ db: 'pglite' });
  });
  afterAll(async () => {
    await f?.stop();
  });

  it.each(['control', 'sandbox'] as const)(
    '%s: openapi/%s.json is what the code serves (run `npm run openapi` after an API change)',
    async (name) => {
      const committed = JSON.parse(readFileSync(join(__dirname, '..', 'openapi', `${name}.json`), 'utf8')) as unknown;
      expect(f.gateway.openapi[name]).toEqual(committed);
      const served = await rawRequest(
        f.gateway.controlUrl,
        'GET',
        name === 'control' ? '/docs/openapi.json' : '/docs/sandbox/openapi.json',
      );
      expect(JSON.parse(served.body.toString())).toEqual(committed);
    },
  );

  it('keeps idle client connections open longer than common client pools do (not Node’s 5 s default)', () => {
    for (const app of [f.gateway.sandbox, f.gateway.control]) expect(app.getHttpServer().keepAliveTimeout).toBe(65_000);
  });

  it('should not serve any docs on the sandbox listener', async () => {
    for (const path of ['/docs', '/docs/openapi.json', '/docs/sandbox/openapi.json']) {
      // Paths the REST API does not claim belong to the S3 API, which wants a signature first.
      const r = await rawRequest(f.gateway.sandboxUrl, 'GET', path);
      expect(r.status).toBe(403);
      expect(r.body.toString()).toContain('<Code>AccessDenied</Code>');
      expect(r.body.toString()).not.toContain('"openapi"');
      expect(r.body.toString()).not.toMatch(/swagger-ui/i);
    }
  });
});
