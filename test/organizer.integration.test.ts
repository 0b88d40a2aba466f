import { mkdtempSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../src/cli/main';
import { loadConfig } from '../src/config/config';
import { Gateway } from '../src/gateway';
import { POLICY_DIR } from './support/fixture';
import { bearer, objectPath, rawRequest } from './support/http';
import { AuditRepository } from '../src/audit/audit.repository';
import { GrantService } from '../src/grants/grant.service';
import { JobService } from '../src/jobs/job.service';
import { PolicyEngine } from '../src/policy/policy.types';
import { ObjectStore } from '../src/storage/object-store.service';
import { contestantToken } from './support/tokens';

/** Runs the CLI in-process against the started gateway; returns exit code and output. */
async function cage(g: Gateway, token: string, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(argv, {
    stdout: { write: (s: string) => ((out += s), true) },
    stderr: { write: (s: string) => ((err += s), true) },
    env: { CAGE_URL: g.controlUrl, CAGE_TOKEN: token },
    pollIntervalMs: 50,
  });
  return { code, out, err };
}

const json = <T>(r: { out: string }) => JSON.parse(r.out) as T;

describe('organizers: from an empty database to a job reading granted data, through the cage CLI', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cage-org-'));
  const policyDir = mkdtempSync(join(tmpdir(), 'cage-org-policies-'));
  // The organizer's working copy, activated through the CLI (not the gateway's watched directory).
  const workDir = mkdtempSync(join(tmpdir(), 'cage-org-work-'));
  let g: Gateway;
  let org: string;
  beforeAll(async () => {
    cpSync(POLICY_DIR, policyDir, { recursive: true });
    cpSync(POLICY_DIR, workDir, { recursive: true });
    g = await Gateway.start(
      loadConfig({ CAGE_DATA_DIR: dataDir, CAGE_CONTROL_PORT: '0', CAGE_SANDBOX_PORT: '0', CAGE_DEMO: '0', CAGE_POLICY_DIR: policyDir }),
      { logger: false },
    );
    org = g.bootstrap!.organizerToken;
    // The data arrives in the bucket first (ingest is its own step).
    await g.get(ObjectStore).ensureBucket('hospital-ct');
    for (const [key, body] of [
      [
        'c1/train/s1.mhd',
        'ObjectType = Image\nNDims = 3\nDimSize = 4 4 4\nElementType = MET_SHORT\nElementSpacing = 1 1 1\nOffset = 0 0 0\nElementDataFile = s1.raw\n',
      ],
      ['c1/train/s1.raw', Buffer.alloc(128, 1)],
      [
        'c1/test/s2.mhd',
        'ObjectType = Image\nNDims = 3\nDimSize = 4 4 4\nElementType = MET_SHORT\nElementSpacing = 2 2 2\nOffset = -10 -10 -10\nElementDataFile = s2.raw\n',
      ],
      ['c1/test/s2.raw', Buffer.alloc(128, 2)],
      ['c1/labels/test.csv', 'seriesuid,coordX,coordY,coordZ,diameter_mm\n'],
    ] as const) {
      await g.get(ObjectStore).put('hospital-ct', key, body);
    }
  });
  afterAll(async () => {
    await g?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(policyDir, { recursive: true, force: true });
    rmSync(workDir, { recursive: true, force: true });
  });

  it('runs the whole organizer flow', async () => {
    expect(
      (
        await cage(
          g,
          org,
          'dataset',
          'add',
          'chest-ct',
          '--bucket',
          'hospital-ct',
          '--prefix',
          'c1/',
          '--split',
          'train:train:train/',
          '--split',
          'test:test:test/',
          '--split',
          'labels:labels:labels/',
        )
      ).code,
    ).toBe(0);
    const indexed = await cage(g, org, 'dataset', 'index', 'chest-ct', '--json');
    expect(indexed.code).toBe(0);
    const shown = json<{ objects: number; bytes: number; series: number }>(await cage(g, org, 'dataset', 'show', 'chest-ct', '--json'));
    expect(shown).toMatchObject({ objects: 5, series: 2 });
    expect((await cage(g, org, 'team', 'add', 'lungs-r-us', '--name', 'Lungs R Us')).code).toBe(0);
    expect((await cage(g, org, 'team', 'member', 'add', 'lungs-r-us', 'alice')).code).toBe(0);
    const grant = await cage(
      g,
      org,
      'grant',
      'add',
      '--team',
      'lungs-r-us',
      '--dataset',
      'chest-ct',
      '--split',
      'train',
      '--from',
      'now',
      '--until',
      '+30d',
      '--json',
    );
    expect(grant.code).toBe(0);
    const job = json<{ jobId: string; token: string; secretAccessKey: string }>(
      await cage(g, org, 'job', 'create', '--team', 'lungs-r-us', '--ttl', '1h', '--json'),
    );
    const read = await rawRequest(g.sandboxUrl, 'GET', objectPath('chest-ct', 'train/s1.raw'), bearer(job.token));
    expect(read.status).toBe(200);
    expect(read.body.equals(Buffer.alloc(128, 1))).toBe(true);
    expect((await rawRequest(g.sandboxUrl, 'GET', objectPath('chest-ct', 'test/s2.raw'), bearer(job.token))).status).toBe(404);
    const table = await cage(g, org, 'grant', 'list', '--team', 'lungs-r-us');
    expect(table.out).toContain('chest-ct');
    // Every change is an audit leaf with who and what.
    const actions = (await g.get(AuditRepository).find({ principal: 'user:bootstrap-organizer', limit: 1000 })).map((l) => l.leaf.action);
    expect(actions).toEqual(
      expect.arrayContaining(['dataset.register', 'dataset.index', 'team.create', 'team.member.add', 'grant.create', 'job.create']),
    );
  });

  it('stops a job reading in a loop within 1 s of a revoke (grant, then job)', async () => {
    for (const what of ['grant', 'job'] as const) {
      await cage(
        g,
        org,
        'grant',
        'add',
        '--team',
        'lungs-r-us',
        '--dataset',
        'chest-ct',
        '--split',
        'test',
        '--from',
        'now',
        '--until',
        '+1d',
      );
      const job = json<{ jobId: string; token: string }>(await cage(g, org, 'job', 'create', '--team', 'lungs-r-us', '--json'));
      const grants = json<{ grants: { id: string; split: string; state: string }[] }>(
        await cage(g, org, 'grant', 'list', '--team', 'lungs-r-us', '--active', '--json'),
      );
      const testGrant = grants.grants.find((x) => x.split === 'test')!;
      let revokedAt = 0;
      let refusedAt = 0;
      const loop = (async () => {
        for (;;) {
          const r = await rawRequest(g.sandboxUrl, 'GET', objectPath('chest-ct', 'test/s2.raw'), bearer(job.token));
          if (revokedAt > 0 && r.status !== 200) {
            refusedAt = Date.now();
            return r.status;
          }
          if (Date.now() - (revokedAt || Date.now()) > 5000) return r.status;
        }
      })();
      await new Promise((r) => setTimeout(r, 100));
      const revoke =
        what === 'grant' ? await cage(g, org, 'grant', 'revoke', testGrant.id) : await cage(g, org, 'job', 'revoke', job.jobId);
      revokedAt = Date.now();
      expect(revoke.code).toBe(0);
      expect(await loop).toBe(what === 'grant' ? 404 : 401);
      expect(refusedAt - revokedAt).toBeLessThan(1000);
      if (what === 'job') break;
    }
  });

  it("enforces a grant's byte quota: 429 once it is spent, counted across the team's jobs", async () => {
    expect((await cage(g, org, 'team', 'add', 'quota-team', '--name', 'Quota')).code).toBe(0);
    const grant = await cage(
      g,
      org,
      'grant',
      'add',
      '--team',
      'quota-team',
      '--dataset',
      'chest-ct',
      '--split',
      'train',
      '--from',
      'now',
      '--until',
      '+1d',
      '--quota',
      '300',
      '--json',
    );
    expect(json<{ byteQuota: number }>(grant).byteQuota).toBe(300);
    const a = json<{ token: string }>(await cage(g, org, 'job', 'create', '--team', 'quota-team', '--json'));
    const b = json<{ token: string }>(await cage(g, org, 'job', 'create', '--team', 'quota-team', '--json'));
    const read = (token: string, range?: string) =>
      rawRequest(g.sandboxUrl, 'GET', objectPath('chest-ct', 'train/s1.raw'), {
        ...bearer(token),
        ...(range === undefined ? {} : { range }),
      });
    expect((await read(a.token)).status).toBe(200);
    expect((await read(b.token)).status).toBe(200);
    const over = await read(a.token);
    expect(over.status).toBe(429);
    expect(JSON.parse(over.body.toString()).message).toContain('byte quota');
    expect((await read(b.token, 'bytes=0-9')).status).toBe(206);
  });

  it('refuses a policy set that breaks an expectation (422 naming it); the old set keeps deciding', async () => {
    const before = g.get(PolicyEngine).active;
    writeFileSync(join(workDir, 'open.cedar'), '@id("open-door")\npermit (principal, action, resource);\n');
    const check = await cage(g, org, 'policy', 'activate', workDir);
    expect(check.code).toBe(7);
    expect(check.err).toContain("team A cannot read team B's grant");
    expect(g.get(PolicyEngine).active).toEqual(before);
    const r = await rawRequest(
      g.controlUrl,
      'POST',
      '/v1/policy',
      { ...bearer(org), 'content-type': 'application/json' },
      JSON.stringify({ files: { 'schema.cedarschema': 'namespace X {}' } }),
    );
    expect(r.status).toBe(422);
    rmSync(join(workDir, 'open.cedar'));
  });

  it('activates and rolls back policy versions through the CLI', async () => {
    const v0 = json<{ version: number; sha256: string }>(await cage(g, org, 'policy', 'show', '--json'));
    writeFileSync(
      join(workDir, 'quiet.cedar'),
      '// nothing new\n@id("quiet")\nforbid (principal, action == Cage::Action::"read", resource is Cage::Object) when { resource.split.kind == "val" };\n',
    );
    const v1 = json<{ version: number; sha256: string }>(await cage(g, org, 'policy', 'activate', workDir, '--json'));
    expect(v1.version).toBe(v0.version + 1);
    const back = json<{ version: number; sha256: string }>(await cage(g, org, 'policy', 'rollback', String(v0.version), '--json'));
    expect(back).toMatchObject({ version: v1.version + 1, sha256: v0.sha256 });
    expect(g.get(PolicyEngine).active.sha256).toBe(v0.sha256);
    rmSync(join(workDir, 'quiet.cedar'));
  });

  it('enforces roles: an auditor cannot grant, a contestant cannot list teams or issue jobs, a job token reaches no control route', async () => {
    const aud = g.bootstrap!.auditorToken;
    const contestant = await contestantToken(g, 'carl', 'lungs-r-us', 600);
    expect(
      (
        await cage(
          g,
          aud,
          'grant',
          'add',
          '--team',
          'lungs-r-us',
          '--dataset',
          'chest-ct',
          '--split',
          'train',
          '--from',
          'now',
          '--until',
          '+1d',
        )
      ).code,
    ).toBe(4);
    expect((await cage(g, aud, 'grant', 'list')).code).toBe(0);
    expect((await cage(g, contestant, 'team', 'list')).code).toBe(4);
    expect((await cage(g, contestant, 'job', 'create', '--team', 'lungs-r-us')).code).toBe(4);
    const job = await g.get(JobService).issue('lungs-r-us', 600, 'test', { requestId: 't', listener: 'internal' });
    for (const [method, path] of [
      ['GET', '/v1/datasets'],
      ['POST', '/v1/grants'],
      ['GET', '/v1/teams'],
      ['POST', '/v1/jobs'],
      ['GET', '/v1/policy'],
      ['GET', '/v1/audit'],
      ['GET', '/v1/egress'],
      ['POST', '/v1/tokens'],
    ] as const) {
      expect((await rawRequest(g.controlUrl, method, path, bearer(job.token))).status).toBe(401);
    }
  });

  it('refuses bad input with a clear 4xx and changes nothing', async () => {
    const leaves = await g.get(AuditRepository).size();
    const grantsBefore = (await g.get(GrantService).list({})).length;
    const bad: [string[], number, string][] = [
      [
        ['grant', 'add', '--team', 'nobody', '--dataset', 'chest-ct', '--split', 'train', '--from', 'now', '--until', '+1d'],
        5,
        'no such team',
      ],
      [
        ['grant', 'add', '--team', 'lungs-r-us', '--dataset', 'nothing', '--split', 'train', '--from', 'now', '--until', '+1d'],
        5,
        'no such dataset',
      ],
      [
        ['grant', 'add', '--team', 'lungs-r-us', '--dataset', 'chest-ct', '--split', 'val', '--from', 'now', '--until', '+1d'],
        5,
        'has no split',
      ],
      [
        ['grant', 'add', '--team', 'lungs-r-us', '--dataset', 'chest-ct', '--split', 'train', '--from', 'now', '--until', '+1d'],
        6,
        'overlaps grant',
      ],
      [['job', 'create', '--team', 'nobody'], 5, 'no such team'],
      [['dataset', 'add', 'other', '--bucket', 'no-such-bucket', '--prefix', 'x/', '--split', 'train:train:train/'], 1, 'does not exist'],
      [
        [
          'dataset',
          'add',
          'nested',
          '--bucket',
          'hospital-ct',
          '--prefix',
          'c1/',
          '--split',
          'train:train:train/',
          '--split',
          'inner:labels:train/x/',
        ],
        1,
        'inside split',
      ],
    ];
    for (const [argv, code, message] of bad) {
      const r = await cage(g, org, ...argv);
      expect([argv.join(' '), r.code]).toEqual([argv.join(' '), code]);
      expect(r.err).toContain(message);
    }
    const inverted = await rawRequest(
      g.controlUrl,
      'POST',
      '/v1/grants',
      { ...bearer(org), 'content-type': 'application/json' },
      JSON.stringify({
        team: 'lungs-r-us',
        dataset: 'chest-ct',
        split: 'test',
        notBefore: '2027-02-01T00:00:00Z',
        notAfter: '2027-01-01T00:00:00Z',
      }),
    );
    expect(inverted.status).toBe(400);
    expect(JSON.parse(inverted.body.toString()).message).toContain('notAfter must be after notBefore');
    const ttl = await rawRequest(
      g.controlUrl,
      'POST',
      '/v1/jobs',
      { ...bearer(org), 'content-type': 'application/json' },
      JSON.stringify({ team: 'lungs-r-us', ttlSeconds: 90000 }),
    );
    expect(ttl.status).toBe(400);
    expect(JSON.parse(ttl.body.toString()).message).toContain('at most 86400');
    expect((await g.get(AuditRepository).find({ after: leaves - 1, limit: 100 })).map((l) => l.leaf.action)).toEqual([]);
    expect((await g.get(GrantService).list({})).length).toBe(grantsBefore);
  });
});
