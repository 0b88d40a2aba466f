import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cage, FakeApi } from './cli-harness';

describe('cage configuration: flags, env, then bootstrap.json', () => {
  let api: FakeApi;
  let dir: string;

  beforeAll(async () => {
    api = await new FakeApi().start();
    api.on('GET /v1/teams', { status: 200, body: { teams: [] } });
  });
  afterAll(() => api.stop());
  beforeEach(() => {
    api.requests.splice(0);
    dir = mkdtempSync(join(tmpdir(), 'cage-cli-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function writeBootstrap(dataDir: string, content: unknown): void {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, 'bootstrap.json'), typeof content === 'string' ? content : JSON.stringify(content), { mode: 0o600 });
  }

  it('uses ./.cage/bootstrap.json of a local install when nothing is set', async () => {
    writeBootstrap(join(dir, '.cage'), {
      controlUrl: `${api.url}/`,
      sandboxUrl: 'http://127.0.0.1:1',
      organizerToken: 'boot-organizer',
      auditorToken: 'boot-auditor',
    });
    const r = await cage(['team', 'list'], { cwd: dir });
    expect(r).toMatchObject({ code: 0, stdout: 'no teams\n' });
    expect(api.requests.map((q) => [q.url, q.authorization])).toEqual([['/v1/teams', 'Bearer boot-organizer']]);
  });

  it('reads $CAGE_DATA_DIR/bootstrap.json, relative to the working directory', async () => {
    writeBootstrap(join(dir, 'state'), { controlUrl: api.url, organizerToken: 'boot-organizer' });
    const r = await cage(['team', 'list'], { cwd: dir, env: { CAGE_DATA_DIR: 'state' } });
    expect(r.code).toBe(0);
    expect(api.requests[0].authorization).toBe('Bearer boot-organizer');
  });

  it('lets --token and CAGE_TOKEN win over the bootstrap token, --token first', async () => {
    writeBootstrap(join(dir, '.cage'), { controlUrl: api.url, organizerToken: 'boot-organizer' });
    await cage(['team', 'list'], { cwd: dir, env: { CAGE_TOKEN: 'env-token' } });
    await cage(['team', 'list', '--token', 'flag-token'], { cwd: dir, env: { CAGE_TOKEN: 'env-token' } });
    expect(api.requests.map((q) => q.authorization)).toEqual(['Bearer env-token', 'Bearer flag-token']);
  });

  it('lets --url win over CAGE_URL', async () => {
    const r = await cage(['--url', api.url, 'team', 'list'], { env: { CAGE_URL: 'http://127.0.0.1:9', CAGE_TOKEN: 't' } });
    expect(r.code).toBe(0);
    expect(api.requests).toHaveLength(1);
  });

  it('should not send the local organizer token to another URL', async () => {
    writeBootstrap(join(dir, '.cage'), { controlUrl: 'http://127.0.0.1:8080', organizerToken: 'boot-organizer' });
    const r = await cage(['team', 'list'], { cwd: dir, env: { CAGE_URL: api.url } });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      /^cage: no token: set CAGE_TOKEN or --token \(.*bootstrap\.json is for http:\/\/127\.0\.0\.1:8080, not this URL\)\n$/,
    );
    expect(api.requests).toHaveLength(0);
  });

  it('exits 3 with a hint when there is no URL at all', async () => {
    const r = await cage(['team', 'list'], { cwd: dir });
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(
      `cage: no control API URL: set CAGE_URL or --url (or run a local gateway, which writes ${join(dir, '.cage', 'bootstrap.json')})\n`,
    );
  });

  it('exits 3 on a broken bootstrap.json or CAGE_URL, without echoing the file', async () => {
    writeBootstrap(join(dir, '.cage'), '{"organizerToken": "secret-tok');
    const broken = await cage(['team', 'list'], { cwd: dir });
    expect(broken.code).toBe(3);
    expect(broken.stderr).toMatch(/bootstrap\.json is not valid JSON/);
    expect(broken.stderr).not.toContain('secret-tok');

    const badUrl = await cage(['team', 'list'], { env: { CAGE_URL: 'localhost:8080', CAGE_TOKEN: 't' } });
    expect(badUrl.code).toBe(3);
    expect(badUrl.stderr).toMatch(/CAGE_URL is not an http\(s\) URL/);
  });

  // root reads a mode-0000 file anyway, so this one only means something for other users.
  const unlessRoot = process.getuid?.() === 0 ? it.skip : it;
  unlessRoot('exits 3 when bootstrap.json cannot be read', async () => {
    writeBootstrap(join(dir, '.cage'), { controlUrl: api.url, organizerToken: 'x' });
    chmodSync(join(dir, '.cage', 'bootstrap.json'), 0o000);
    const r = await cage(['team', 'list'], { cwd: dir });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/cannot read .*bootstrap\.json/);
  });

  it('does not read configuration before local validation: a usage error wins (exit 2)', async () => {
    const r = await cage(['job', 'create', '--team', 't', '--ttl', '5'], { cwd: dir });
    expect(r.code).toBe(2);
  });
});
