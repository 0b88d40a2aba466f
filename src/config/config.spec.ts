import { ConfigError, loadConfig } from './config';

describe('loadConfig', () => {
  it('defaults to the embedded stack with the demo on', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ host: '127.0.0.1', controlPort: 8080, sandboxPort: 8081, databaseUrl: undefined, demo: true });
    expect(c.s3.endpoint).toBeUndefined();
    expect(c.dataDir).toMatch(/\.cage$/);
    // GET /metrics is closed unless a scrape token is set or it is made public explicitly.
    expect(c.metrics).toEqual({ token: undefined, public: false });
  });

  it('turns the demo off by default when pointed at production stores', () => {
    expect(loadConfig({ CAGE_DATABASE_URL: 'postgres://db/cage' }).demo).toBe(false);
    expect(
      loadConfig({ CAGE_S3_ENDPOINT: 'https://s3.example.org', CAGE_S3_ACCESS_KEY_ID: 'a', CAGE_S3_SECRET_ACCESS_KEY: 'b' }).demo,
    ).toBe(false);
  });

  it.each([
    [{ CAGE_CONTROL_PORT: 'eighty' }, 'CAGE_CONTROL_PORT'],
    [{ CAGE_SANDBOX_PORT: '70000' }, 'CAGE_SANDBOX_PORT'],
    [{ CAGE_DATABASE_URL: 'mysql://x' }, 'CAGE_DATABASE_URL'],
    [{ CAGE_S3_ENDPOINT: 'not a url' }, 'CAGE_S3_ENDPOINT'],
    [{ CAGE_DEMO: 'yes' }, 'CAGE_DEMO'],
    [{ CAGE_LOG_LEVEL: 'loud' }, 'CAGE_LOG_LEVEL'],
    [{ CAGE_METRICS_TOKEN: 'too-short' }, 'CAGE_METRICS_TOKEN'],
    [{ CAGE_METRICS_PUBLIC: 'yes' }, 'CAGE_METRICS_PUBLIC'],
    [{ CAGE_S3_ENDPOINT: 'https://s3.example.org', CAGE_S3_ACCESS_KEY_ID: 'a' }, 'CAGE_S3_SECRET_ACCESS_KEY'],
  ])('should not start with %j: the error names %s', (env, name) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(name);
  });
});
