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

  it.each(['control', 'sandbox'] as const)('%s: openapi/%s.json is what the code serves (run `npm run openapi` after an API change)', async (name) => {
    const committed = JSON.parse(readFileSync(join(__dirname, '..', 'openapi', `${name}.json`), 'utf8')) as unknown;
    expect(f.gateway.openapi[name]).toEqual(committed);
    const url = name === 'control' ? f.gateway.controlUrl : f.gateway.sandboxUrl;
    const served = await rawRequest(url, 'GET', '/docs/openapi.json');
    expect(JSON.parse(served.body.toString())).toEqual(committed);
  });
});
