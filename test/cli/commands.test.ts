import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Grant, type IndexRun, type JobCredentials, type PolicyCheck, type PolicyVersion, type Team } from '../../src/cli/api-types';
import { cage, FakeApi } from './cli-harness';

/*
 * The CLI's own behaviour (arguments, requests sent, rendering, exit codes) against canned
 * answers. The answers are typed with the generated API types, so they cannot drift from the
 * contract; contract.integration.test.ts runs every command against a real gateway.
 */

const TEAM: Team = { id: 'team-042', name: 'Radiology Rangers', members: 3, createdAt: '2025-06-01T10:00:00.000Z' };
const GRANT: Grant = {
  id: 'g-1',
  team: 'team-042',
  dataset: 'lung',
  split: 'train',
  notBefore: '2025-06-01T00:00:00.000Z',
  notAfter: '2025-07-01T00:00:00.000Z',
  byteQuota: 10737418240,
  createdAt: '2025-06-01T00:00:00.000Z',
  createdBy: 'org',
  revokedAt: null,
  revokedBy: null,
  state: 'active',
};
const RUN: IndexRun = {
  id: 'run-1',
  dataset: 'lung',
  state: 'running',
  objectsSeen: 0,
  bytesSeen: 0,
  seriesIndexed: 0,
  startedAt: '2025-06-01T00:00:00Z',
  finishedAt: null,
  error: null,
};

describe('cage commands against canned answers', () => {
  let api: FakeApi;
  beforeAll(async () => (api = await new FakeApi().start()));
  afterAll(() => api.stop());
  beforeEach(() => api.requests.splice(0));

  it('renders a table by default and the server JSON untouched with --json', async () => {
    api.on('GET /v1/teams', { status: 200, body: { teams: [TEAM] } });
    const table = await cage(['team', 'list'], { env: api.env() });
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/│ id\s+│ name\s+│ members │ created\s+│/);
    expect(table.stdout).toMatch(/│ team-042 │ Radiology Rangers │ 3\s+│ 2025-06-01T10:00:00Z │/);

    const json = await cage(['--json', 'team', 'list'], { env: api.env() });
    expect(JSON.parse(json.stdout)).toEqual({ teams: [TEAM] });
    expect(json.stderr).toBe('');
    expect(api.requests.every((q) => q.authorization === 'Bearer test-token')).toBe(true);
  });

  it('sends dataset add as the API body, splits in order', async () => {
    api.on('POST /v1/datasets', (req) => ({
      status: 201,
      body: {
        ...(req.body as object),
        title: 'Lung',
        objects: null,
        bytes: null,
        series: 0,
        indexedAt: null,
        createdAt: 'x',
        createdBy: 'o',
      },
    }));
    const r = await cage(
      [
        'dataset',
        'add',
        'lung',
        '--bucket',
        'imaging',
        '--prefix',
        'lung/',
        '--title',
        'Lung',
        '--split',
        'train:train:train/',
        '--split',
        'gt:labels:labels/',
      ],
      { env: api.env() },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('added dataset lung (train:train, gt:labels); index it with: cage dataset index lung\n');
    expect(api.requests[0]).toMatchObject({
      method: 'POST',
      contentType: 'application/json',
      body: {
        id: 'lung',
        bucket: 'imaging',
        prefix: 'lung/',
        title: 'Lung',
        splits: [
          { name: 'train', kind: 'train', prefix: 'train/' },
          { name: 'gt', kind: 'labels', prefix: 'labels/' },
        ],
      },
    });
  });

  it('sends a grant window in ISO UTC and the quota in bytes; lists with filters', async () => {
    api.on('POST /v1/grants', { status: 201, body: GRANT });
    api.on('GET /v1/grants', { status: 200, body: { grants: [GRANT] } });
    const add = await cage(
      [
        'grant',
        'add',
        '--team',
        'team-042',
        '--dataset',
        'lung',
        '--split',
        'train',
        '--from',
        '2025-06-01',
        '--until',
        '+30d',
        '--quota',
        '10GiB',
      ],
      { env: api.env() },
    );
    expect(add.code).toBe(0);
    expect(api.requests[0].body).toEqual({
      team: 'team-042',
      dataset: 'lung',
      split: 'train',
      notBefore: '2025-06-01T00:00:00.000Z',
      notAfter: '2025-07-01T00:00:00.000Z',
      byteQuota: 10 * 2 ** 30,
    });
    expect(add.stdout).toBe(
      'granted team-042 lung/train from 2025-06-01T00:00:00Z until 2025-07-01T00:00:00Z, quota 10 GiB (grant g-1, active)\n',
    );

    const list = await cage(['grant', 'list', '--team', 'team-042', '--active'], { env: api.env() });
    expect(api.requests[1].url).toBe('/v1/grants?team=team-042&active=true');
    expect(list.stdout).toMatch(/│ g-1 │ team-042 │ lung\s+│ train │ active │/);
  });

  it('prints job credentials once on stdout and the warning on stderr, which never sees a secret', async () => {
    const creds: JobCredentials = {
      jobId: 'j-7',
      team: 'team-042',
      token: 'eyJ.job.token',
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG',
      expiresAt: '2025-06-01T12:00:00.000Z',
    };
    api.on('POST /v1/jobs', { status: 201, body: creds });
    const r = await cage(['job', 'create', '--team', 'team-042', '--ttl', '12h'], { env: api.env() });
    expect(r.code).toBe(0);
    expect(api.requests[0].body).toEqual({ team: 'team-042', ttlSeconds: 43200 });
    expect(r.stdout).toBe(
      'job j-7 for team team-042, expires 2025-06-01T12:00:00Z\ntoken:             eyJ.job.token\naccess key id:     AKIDEXAMPLE\nsecret access key: wJalrXUtnFEMI/K7MDENG\n',
    );
    expect(r.stderr).toMatch(/not shown again/);
    expect(r.stderr).not.toMatch(/eyJ\.job\.token|wJalrXUtnFEMI/);

    const json = await cage(['job', 'create', '--team', 'team-042', '--json'], { env: api.env() });
    expect(JSON.parse(json.stdout)).toEqual(creds);
    expect(api.requests[1].body).toEqual({ team: 'team-042' });
  });

  it('prints only the issued token on stdout', async () => {
    api.on('POST /v1/tokens', { status: 201, body: { token: 'eyJ.user.token', expiresAt: '2025-07-01T00:00:00.000Z' } });
    const r = await cage(['token', 'issue', '--subject', 'alice', '--role', 'contestant', '--team', 'team-042', '--ttl', '30d'], {
      env: api.env(),
    });
    expect(r).toMatchObject({ code: 0, stdout: 'eyJ.user.token\n' });
    expect(r.stderr).not.toContain('eyJ.user.token');
    expect(api.requests[0].body).toEqual({ subject: 'alice', role: 'contestant', team: 'team-042', ttlSeconds: 30 * 86400 });
  });

  it('polls an index run until done, with a progress line on a TTY', async () => {
    api.on('POST /v1/datasets/lung/index', { status: 202, body: RUN });
    api.on(
      'GET /v1/datasets/lung/index',
      { status: 200, body: { ...RUN, objectsSeen: 10, bytesSeen: 2048, seriesIndexed: 1 } },
      {
        status: 200,
        body: { ...RUN, state: 'done', objectsSeen: 24, bytesSeen: 31457280, seriesIndexed: 12, finishedAt: '2025-06-01T00:00:05Z' },
      },
    );
    const r = await cage(['dataset', 'index', 'lung'], { env: api.env(), tty: true });
    expect(r.code).toBe(0);
    expect(api.requests.map((q) => `${q.method} ${q.url}`)).toEqual([
      'POST /v1/datasets/lung/index',
      'GET /v1/datasets/lung/index',
      'GET /v1/datasets/lung/index',
    ]);
    expect(r.stderr).toContain('\rindexing lung: 10 objects, 2.0 KiB, 1 series');
    expect(r.stdout).toMatch(/^indexed lung: 24 objects, 30 MiB, 12 series in \d+s\n$/);
  });

  it('exits 1 when the index run fails; --json prints the final run; no progress off a TTY', async () => {
    const failed: IndexRun = { ...RUN, state: 'failed', objectsSeen: 3, error: 'AccessDenied listing imaging/lung/' };
    api.on('POST /v1/datasets/lung/index', { status: 202, body: RUN });
    api.on('GET /v1/datasets/lung/index', { status: 200, body: failed });
    const r = await cage(['dataset', 'index', 'lung', '--json'], { env: api.env() });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual(failed);
    expect(r.stderr).toBe(
      'cage: indexing lung failed: AccessDenied listing imaging/lung/\n  seen before failing: 3 objects, 0 B, 0 series\n',
    );
  });

  it('returns at once with --no-wait', async () => {
    api.on('POST /v1/datasets/lung/index', { status: 202, body: RUN });
    const r = await cage(['dataset', 'index', 'lung', '--no-wait', '--json'], { env: api.env() });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(RUN);
    expect(api.requests).toHaveLength(1);
  });

  it('removes a member by percent-encoded subject (204, no body)', async () => {
    api.on('DELETE /v1/teams/team-042/members/auth0%7Calice%2F1', { status: 204 });
    const r = await cage(['team', 'member', 'remove', 'team-042', 'auth0|alice/1'], { env: api.env() });
    expect(r).toEqual({ code: 0, stdout: 'removed auth0|alice/1 from team team-042\n', stderr: '' });
  });

  describe('policy directories', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'cage-policy-'));
      mkdirSync(join(dir, 'egress'));
      mkdirSync(join(dir, 'tests'));
      for (const [name, text] of Object.entries({
        'schema.cedarschema': 'namespace Cage {}',
        'data-plane.cedar': 'permit(principal, action, resource);',
        'budget.json': '{}',
        'egress/metrics.json': '{"kind":"metrics"}',
        'egress/README.md': 'not policy',
        'tests/labels.json': '[]',
        'notes.txt': 'not policy',
      })) {
        writeFileSync(join(dir, name), text);
      }
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('sends the whole set keyed by relative path and reports a passing check', async () => {
      const verdict: PolicyCheck = {
        ok: true,
        sha256: 'ab'.repeat(32),
        errors: [],
        expectations: [{ name: 'labels deny', passed: true, message: '' }],
      };
      api.on('POST /v1/policy/check', { status: 200, body: verdict });
      const r = await cage(['policy', 'check', dir], { env: api.env() });
      expect(r.code).toBe(0);
      expect(Object.keys((api.requests[0].body as { files: Record<string, string> }).files)).toEqual([
        'budget.json',
        'data-plane.cedar',
        'egress/metrics.json',
        'schema.cedarschema',
        'tests/labels.json',
      ]);
      expect(r.stdout).toBe(`policy set in ${dir} is valid: 5 files, 1 of 1 expectations passed (sha256 abababababab)\n`);
    });

    it('defaults to ./policies and exits 7 listing each failing expectation of a check', async () => {
      const policies = join(dir, 'policies');
      mkdirSync(policies);
      writeFileSync(join(policies, 'a.cedar'), 'forbid(principal, action, resource);');
      const verdict: PolicyCheck = {
        ok: false,
        sha256: 'cd'.repeat(32),
        errors: ['a.cedar:1: parse error'],
        expectations: [
          { name: 'train readable', passed: false, message: 'expected allow, got deny' },
          { name: 'x', passed: true, message: '' },
        ],
      };
      api.on('POST /v1/policy/check', { status: 200, body: verdict });
      const r = await cage(['policy', 'check'], { env: api.env(), cwd: dir });
      expect(r.code).toBe(7);
      expect(api.requests.at(-1)!.body).toEqual({ files: { 'a.cedar': 'forbid(principal, action, resource);' } });
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(
        'cage: policy set in ./policies does not pass (sha256 cdcdcdcdcdcd): 1 of 2 expectations passed\n  error: a.cedar:1: parse error\n  failed: train readable: expected allow, got deny\n',
      );
    });

    it('says a set that does not compile has no hash (exit 7, its error listed)', async () => {
      const verdict: PolicyCheck = { ok: false, sha256: null, errors: ['schema.cedarschema is missing'], expectations: [] };
      api.on('POST /v1/policy/check', { status: 200, body: verdict });
      const r = await cage(['policy', 'check', dir], { env: api.env() });
      expect(r).toEqual({
        code: 7,
        stdout: '',
        stderr: `cage: policy set in ${dir} does not pass (it does not compile): 0 of 0 expectations passed\n  error: schema.cedarschema is missing\n`,
      });
    });

    it('activates a directory and prints the new version', async () => {
      const version: PolicyVersion = {
        version: 4,
        sha256: 'ef'.repeat(32),
        activatedAt: '2025-06-01T00:00:00.000Z',
        activatedBy: 'org',
        files: ['a', 'b'],
        active: true,
      };
      api.on('POST /v1/policy', { status: 201, body: version });
      const r = await cage(['policy', 'activate', dir], { env: api.env() });
      expect(r).toMatchObject({ code: 0, stdout: 'activated policy version 4 (2 files, sha256 efefefefefef)\n' });
    });

    it('refuses an empty directory locally (exit 2)', async () => {
      const empty = join(dir, 'empty');
      mkdirSync(empty);
      const r = await cage(['policy', 'check', empty], { env: api.env() });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/no policy files in/);
    });
  });

  it('sends a rollback version as a number', async () => {
    const version: PolicyVersion = {
      version: 9,
      sha256: '12'.repeat(32),
      activatedAt: '2025-06-01T00:00:00.000Z',
      activatedBy: 'org',
      files: [],
      active: true,
    };
    api.on('POST /v1/policy/rollback', { status: 201, body: version });
    const r = await cage(['policy', 'rollback', '3'], { env: api.env() });
    expect(r.code).toBe(0);
    expect(api.requests[0].body).toEqual({ version: 3 });
  });
  it('audit export takes the leaves up to the newest checkpoint it listed, not one signed meanwhile', async () => {
    // The server has signed size 5 since the listing (size 3): asked without `to`, it would send 5.
    const line = (i: number) => `{"i":${i}}`;
    api.on('GET /v1/audit/checkpoints', { status: 200, body: { checkpoints: [{ size: 3, note: 'cp-3\n' }] } });
    api.on('GET /v1/audit/export', (req) => {
      const to = Number(new URL(req.url, 'http://x').searchParams.get('to') ?? 5);
      return { status: 200, text: Array.from({ length: to }, (_, i) => `${line(i)}\n`).join('') };
    });
    api.on('GET /v1/audit/leaf-hashes', { status: 200, text: '' });
    api.on('GET /v1/audit/checkpoint/key', { status: 200, text: 'key' });
    api.on('GET /v1/audit/checkpoint/keys', { status: 200, body: { keys: [] } });
    const dir = mkdtempSync(join(tmpdir(), 'cage-export-'));
    try {
      const r = await cage(['--json', 'audit', 'export', '--out', dir], { env: api.env() });
      expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
      expect(JSON.parse(r.stdout)).toMatchObject({ leaves: 3, checkpoints: 1 });
      expect(api.requests.find((q) => q.url.startsWith('/v1/audit/export'))?.url).toContain('to=3');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
