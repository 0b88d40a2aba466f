import { apiError, cage, closedPort, FakeApi } from './cli-harness';

/** Server answers → one stderr line and the documented exit code; --json → the server's JSON. */
describe('cage error answers', () => {
  let api: FakeApi;
  beforeAll(async () => (api = await new FakeApi().start()));
  afterAll(() => api.stop());
  beforeEach(() => api.requests.splice(0));

  it.each([
    [400, apiError(400, 'Bad Request', 'notAfter must be after notBefore'), 1, 'cage: 400 bad request: notAfter must be after notBefore\n'],
    [401, apiError(401, 'Unauthorized', 'token expired'), 4, 'cage: 401 unauthorized: token expired (set CAGE_TOKEN or re-issue)\n'],
    [
      403,
      apiError(403, 'Forbidden', 'auditor may not create teams'),
      4,
      "cage: 403 forbidden: auditor may not create teams (this token's role may not do this)\n",
    ],
    [404, apiError(404, 'Not Found', 'no such team "x"'), 5, 'cage: 404 not found: no such team "x"\n'],
    [409, apiError(409, 'Conflict', 'team "x" already exists'), 6, 'cage: 409 conflict: team "x" already exists\n'],
    [
      503,
      apiError(503, 'Service Unavailable', 'database unavailable'),
      1,
      'cage: 503 service unavailable: database unavailable (request id req-503)\n',
    ],
    [502, { status: 502, text: '<html>bad gateway</html>' }, 1, 'cage: 502 bad gateway (request id req-1)\n'],
  ])('maps %i to exit %#', async (_status, answer, code, stderr) => {
    api.on('POST /v1/teams', answer);
    const r = await cage(['team', 'add', 'x', '--name', 'X'], { env: api.env() });
    expect({ code: r.code, stderr: r.stderr, stdout: r.stdout }).toEqual({ code, stderr, stdout: '' });
  });

  it('under --json also prints the error body to stdout, exactly as the server sent it', async () => {
    const body = { error: 'Conflict', message: 'grant g1 is already revoked', requestId: 'req-9' };
    api.on('POST /v1/grants/g1/revoke', { status: 409, body });
    const r = await cage(['grant', 'revoke', 'g1', '--json'], { env: api.env() });
    expect(r.code).toBe(6);
    expect(JSON.parse(r.stdout)).toEqual(body);
    expect(r.stderr).toBe('cage: 409 conflict: grant g1 is already revoked\n');
  });

  it('names the missing thing when a 404 says no more than "Not Found"', async () => {
    api.on('GET /v1/teams/ghost%20team/members', { status: 404, body: { error: 'Not Found', message: 'Not Found', requestId: 'r' } });
    const r = await cage(['team', 'member', 'list', 'ghost team'], { env: api.env() });
    expect(r.code).toBe(5);
    expect(r.stderr).toBe('cage: 404 not found: no such team "ghost team"\n');
    expect(api.requests[0].url).toBe('/v1/teams/ghost%20team/members');
  });

  it('lists every failing expectation and error of a refused activation, exit 7', async () => {
    api.on('POST /v1/policy', {
      status: 422,
      body: {
        error: 'Unprocessable Entity',
        message: 'policy set refused',
        requestId: 'r',
        errors: ['data-plane.cedar:3: unknown entity type Jbo'],
        failures: [{ expectation: 'labels are never readable', message: 'expected deny, got allow' }],
      },
    });
    const r = await cage(['policy', 'activate', 'policies'], { env: api.env(), cwd: process.cwd() });
    expect(r.code).toBe(7);
    expect(r.stderr).toBe(
      'cage: 422 policy refused: policy set refused\n  error: data-plane.cedar:3: unknown entity type Jbo\n  failed: labels are never readable: expected deny, got allow\n',
    );
  });

  it('exits 3 when nothing listens at the URL, naming the URL but never the token', async () => {
    const port = await closedPort();
    const r = await cage(['team', 'list'], { env: { CAGE_URL: `http://127.0.0.1:${port}`, CAGE_TOKEN: 'very-secret-token' } });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      new RegExp(
        `^cage: cannot reach the control API at http://127\\.0\\.0\\.1:${port} \\(is the gateway running\\? set CAGE_URL\\)\\n {2}cause: ECONNREFUSED\\n$`,
      ),
    );
    expect(r.stderr).not.toContain('very-secret-token');
  });

  it('refuses a URL with a password (exit 3, or 2 as a flag) without printing it', async () => {
    const env = await cage(['team', 'list'], { env: { CAGE_URL: 'http://admin:hunter2@127.0.0.1:8080', CAGE_TOKEN: 't' } });
    expect(env.code).toBe(3);
    expect(env.stderr).toBe('cage: CAGE_URL must not contain a user name or password: http://127.0.0.1:8080\n');
    const flag = await cage(['team', 'list', '--url', 'http://admin:hunter2@127.0.0.1:8080'], { env: { CAGE_TOKEN: 't' } });
    expect(flag.code).toBe(2);
    expect(flag.stderr).not.toContain('hunter2');
  });

  it('exits 1 on a 2xx answer that is not JSON (a URL that is not the control API)', async () => {
    api.on('GET /v1/teams', { status: 200, text: '<html>welcome</html>' });
    const r = await cage(['team', 'list'], { env: api.env() });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^cage: unexpected non-JSON answer from GET .*\/v1\/teams \(200\)/);
  });
});
