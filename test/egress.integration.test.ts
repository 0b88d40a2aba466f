import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { OUTBOX_BUCKET } from '../src/egress/egress-release';
import { DB_KINDS } from './support/backends';
import { postEgress, predictions } from './support/egress';
import { type Fixture, POLICY_DIR, startFixture, TestClock } from './support/fixture';
import { policyDirWith } from './support/policies';
import { bearer, rawRequest } from './support/http';
import { AuditRepository } from '../src/audit/audit.repository';
import { GrantRepository } from '../src/grants/grant.repository';
import { JobService } from '../src/jobs/job.service';
import { ObjectStore } from '../src/storage/object-store.service';
import { contestantToken } from './support/tokens';

async function outboxKeys(f: Fixture): Promise<string[]> {
  return (await f.gateway.get(ObjectStore).list(OUTBOX_BUCKET, '', undefined, 1000)).objects.map((o) => o.key);
}

const GOOD = predictions(['scan-9,10.2,-20.7,30.1,0.91234', 'scan-8,0,0,0,0.5']);

describe.each(DB_KINDS)('egress on %s', (db) => {
  let f: Fixture;
  let dir: string;
  const clock = new TestClock();
  beforeAll(async () => {
    // Every refusal counts against the day's cap: room for one refusal per rule below.
    dir = policyDirWith({
      'budget.json': '{"dailyBits": 8000000, "dailySubmissions": {"predictions": 40, "metrics": 200, "model": 1, "submissions": 5}}',
    });
    // These cases check the checker, one attempt after another: no rate limit in the way.
    f = await startFixture({
      db,
      clock,
      policyDir: dir,
      env: { CAGE_EGRESS_ATTEMPTS_PER_SECOND_PER_JOB: '1000', CAGE_EGRESS_ATTEMPTS_PER_SECOND_PER_TEAM: '1000' },
    });
  });
  afterAll(async () => {
    await f?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const post = (kind: string, body: string | Buffer, token = f.beta.token, type?: string) =>
    postEgress(f.gateway.sandboxUrl, kind, token, body, type);

  it('releases canonical predictions: 201 receipt, durable release leaf, outbox bytes = what the leaf hashes', async () => {
    const r = await post('predictions', GOOD);
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ status: 'released', kind: 'predictions' });
    const receipt = r.json as { id: string; sha256: string; bits: number; auditIndex: number };
    expect(receipt.bits).toBeGreaterThan(0);
    const [leaf] = await f.gateway.get(AuditRepository).find({ after: receipt.auditIndex - 1, limit: 1 });
    expect(leaf.leaf).toMatchObject({
      action: 'egress.release',
      decision: 'allow',
      sha256: receipt.sha256,
      team: 'beta',
      policies: ['egress-results'],
    });
    const content = await rawRequest(f.gateway.controlUrl, 'GET', `/v1/egress/${receipt.id}/content`, bearer(f.organizerToken));
    expect(content.status).toBe(200);
    expect(content.body.toString()).toBe(
      'seriesuid,coordX,coordY,coordZ,probability\nscan-8,0.0,0.0,0.0,0.500\nscan-9,10.0,-20.5,30.0,0.912\n',
    );
    expect(createHash('sha256').update(content.body).digest('hex')).toBe(receipt.sha256);
  });

  it('kills covert channels: low-order digits, row order, line ends and number spelling release identical bytes', async () => {
    const a = await post('metrics', '{"n": 120, "metrics": {"froc": 0.81234, "loss": [0.93, 0.71]}}', f.beta.token, 'application/json');
    const b = await post('metrics', '{"metrics":{"loss":[0.930001,0.7100],"froc":0.81249},"n":1.2e2}', f.beta.token, 'application/json');
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(b.json.sha256).toBe(a.json.sha256);
    expect(b.json.bits).toBe(a.json.bits);
    const c = await post('predictions', predictions(['scan-8,0.00,-0.0,0.1,0.50000', 'scan-9,10.24,-20.74,30.0,0.9118'], '\r\n'));
    const d = await post('predictions', predictions(['scan-9,10.1,-20.6,29.99,0.91201', 'scan-8,0,0,0,.5'.replace('.5', '0.5')]));
    expect(c.status).toBe(201);
    expect(d.status).toBe(201);
    expect(d.json.sha256).toBe(c.json.sha256);
  });

  it.each([
    ['predictions', 'seriesuid,coordX,coordY,coordZ,probability,extra\nscan-9,1,2,3,0.5\n', 'bad_header'],
    ['predictions', predictions(['"scan-9",1,2,3,0.5']), 'quoted_field'],
    ['predictions', predictions(['# comment']), 'comment_line'],
    ['predictions', '\uFEFF' + predictions(['scan-9,1,2,3,0.5']), 'byte_order_mark'],
    ['predictions', predictions(['scan-9,1,2,3,NaN']), 'malformed_number'],
    ['predictions', predictions(['scan-9,0x10,2,3,0.5']), 'malformed_number'],
    ['predictions', predictions(['scan-9,1e2,2,3,0.5']), 'malformed_number'],
    ['predictions', predictions(['scan-9,1,2,3,1.5']), 'probability_out_of_range'],
    ['predictions', predictions(['scan-9,1000,2,3,0.5']), 'out_of_bounds'],
    ['predictions', predictions(['scan-1,1,2,3,0.5']), 'unknown_series'],
    ['predictions', predictions(['scan-9,1,2,3']), 'field_count'],
    ['predictions', predictions([]), 'no_rows'],
    ['predictions', 'seriesuid,coordX,coordY,coordZ,probability\n\nscan-9,1,2,3,0.5\n', 'blank_line'],
    ['metrics', '{"n": 5, "metrics": {"auc": 0.9}}', 'cohort_too_small'],
    ['metrics', '{"n": 50, "metrics": {"patient_age": 61}}', 'unknown_metric'],
    ['metrics', '{"n": 50, "n": 60, "metrics": {"auc": 0.9}}', 'duplicate_key'],
    ['metrics', '{"n": 50, "metrics": {"auc": 0.9}, "note": "hi"}', 'unknown_field'],
    ['metrics', '{"n": 50, "metrics": {"loss": []}}', 'series_empty'],
    ['predictions', '', 'empty'],
    ['predictions', predictions(['scan-9,1,2,3,0.5']).replace('scan-9', 'scan\u00019'), 'control_character'],
    [
      'predictions',
      Buffer.concat([Buffer.from('seriesuid,coordX,coordY,coordZ,probability\nscan-9,1,2,3,0.5'), Buffer.from([0xff]), Buffer.from('\n')]),
      'invalid_utf8',
    ],
    ['predictions', 'seriesuid,coordX,coordY,coordZ,probability\r\nscan-9,1,2,3,0.5\nscan-8,1,2,3,0.5\n', 'inconsistent_line_endings'],
    ['predictions', predictions(Array.from({ length: 501 }, (_, i) => `scan-9,${i % 100},0,0,0.5`)), 'too_many_candidates'],
    ['metrics', '', 'empty'],
    ['metrics', '\uFEFF{"n": 50, "metrics": {"auc": 0.9}}', 'byte_order_mark'],
    ['metrics', '{"n": 50, "metrics": {"auc": 0.9}', 'invalid_json'],
    ['metrics', '{"n": 50, "metrics": {"auc": "high"}}', 'wrong_type'],
    ['metrics', '{"metrics": {"auc": 0.9}}', 'missing_field'],
    ['metrics', '{"n": 50, "metrics": {}}', 'no_metrics'],
    ['metrics', `{"n": 50, "metrics": {"loss": [${Array.from({ length: 201 }, () => '0.5').join(',')}]}}`, 'series_too_long'],
    ['metrics', '{"n": 50.5, "metrics": {"auc": 0.9}}', 'not_an_integer'],
    ['metrics', '{"n": 5000000, "metrics": {"auc": 0.9}}', 'cohort_too_large'],
    ['metrics', '{"n": 50, "metrics": {"auc": 1e-30}}', 'out_of_range'],
  ])('refuses a %s artifact that breaks a rule (case %#) with 422, logs it, and releases nothing', async (kind, body, code) => {
    const before = await outboxKeys(f);
    const r = await post(kind, body, f.beta.token, kind === 'metrics' ? 'application/json' : 'text/csv');
    expect(r.status).toBe(422);
    const reasons = r.json.reasons as { code: string; message: string }[];
    expect(reasons[0].code).toBe(code);
    expect(r.body.toString()).not.toContain('scan-1');
    expect(r.body.toString()).not.toContain('patient_age');
    expect(await outboxKeys(f)).toEqual(before);
    const rejects = await f.gateway.get(AuditRepository).find({ action: 'egress.reject', limit: 1000 });
    const leaf = rejects.find((l) => l.leaf.requestId === r.headers['x-request-id'])!.leaf;
    expect(leaf).toMatchObject({ decision: 'deny', status: 422 });
    expect(leaf.sha256).toBe(
      createHash('sha256')
        .update(typeof body === 'string' ? Buffer.from(body) : body)
        .digest('hex'),
    );
    expect(JSON.stringify(leaf)).not.toContain('scan-1');
  });

  it('refuses a body over the size cap while streaming (413), an unknown kind, and the model kind by default', async () => {
    const big = Buffer.alloc(70 * 1024, 0x20);
    const tooBig = await post('metrics', big, f.beta.token, 'application/json');
    expect(tooBig.status).toBe(413);
    expect((await post('weights', 'x')).status).toBe(422);
    const model = await post('model', Buffer.from([1, 2, 3]), f.beta.token, 'application/octet-stream');
    expect(model.status).toBe(422);
    expect((model.json.reasons as { code: string }[])[0].code).toBe('policy_denied');
  });

  it('should not accept egress with a user token, or on the control listener', async () => {
    expect((await post('predictions', GOOD, f.organizerToken)).status).toBe(401);
    // The control listener has no way out at all, and refuses job tokens everywhere.
    expect((await rawRequest(f.gateway.controlUrl, 'POST', '/v1/egress/predictions', bearer(f.beta.token))).status).toBe(404);
    expect((await rawRequest(f.gateway.controlUrl, 'GET', '/v1/egress', bearer(f.beta.token))).status).toBe(401);
  });

  it('charges the daily submission count: 429 with what remains, and the next day (UTC) is fresh', async () => {
    const budget = JSON.parse(
      (await rawRequest(f.gateway.sandboxUrl, 'GET', '/v1/egress/budget', bearer(f.beta.token))).body.toString(),
    ) as {
      submissions: Record<string, { used: number; limit: number; remaining: number }>;
      bitsUsed: number;
    };
    expect(budget.bitsUsed).toBeGreaterThan(0);
    const left = budget.submissions.predictions.remaining;
    for (let i = 0; i < left; i++) expect((await post('predictions', GOOD)).status).toBe(201);
    const over = await post('predictions', GOOD);
    expect(over.status).toBe(429);
    expect(over.json).toMatchObject({ reasons: [], remaining: { submissions: 0 } });
    clock.advance(24 * 3600_000);
    // Predictions name scans of a grant active now: the fixture's grant has ended by tomorrow.
    const from = clock.now();
    await f.gateway.get(GrantRepository).insert(
      {
        id: 'beta-test-tomorrow',
        team: 'beta',
        dataset: 'ct',
        split: 'test',
        notBefore: from,
        notAfter: new Date(from.getTime() + 3600_000),
        byteQuota: null,
      },
      from,
      'test',
    );
    const tomorrow = await f.gateway.get(JobService).issue('beta', 3600, 'test', { requestId: 't', listener: 'internal' });
    expect((await post('predictions', GOOD, tomorrow.token)).status).toBe(201);
  });

  it('lets a contestant see only their own team’s receipts', async () => {
    clock.advance(60_000); // rows are shown once their publication slot has ended
    const betaPerson = await contestantToken(f.gateway, 'bea', 'beta', 600);
    const mine = JSON.parse((await rawRequest(f.gateway.controlUrl, 'GET', '/v1/egress', bearer(betaPerson))).body.toString()) as {
      artifacts: { team: string }[];
    };
    expect(mine.artifacts.length).toBeGreaterThan(0);
    expect(mine.artifacts.every((a) => a.team === 'beta')).toBe(true);
    const other = JSON.parse((await rawRequest(f.gateway.controlUrl, 'GET', '/v1/egress', bearer(f.contestantToken))).body.toString()) as {
      artifacts: unknown[];
    };
    expect(other.artifacts).toEqual([]);
    const id = mine.artifacts[0] as unknown as { id: string };
    expect((await rawRequest(f.gateway.controlUrl, 'GET', `/v1/egress/${id.id}`, bearer(f.contestantToken))).status).toBe(404);
  });
});

describe('information budget in bits', () => {
  let f: Fixture;
  let dir: string;
  beforeAll(async () => {
    dir = policyDirWith({
      'budget.json': '{"dailyBits": 120, "dailySubmissions": {"predictions": 50, "metrics": 50, "model": 1, "submissions": 5}}',
    });
    f = await startFixture({ db: 'pglite', policyDir: dir });
  });
  afterAll(async () => {
    await f?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses an artifact that would exceed the bits left today (429) and says how many remain', async () => {
    const first = await postEgress(f.gateway.sandboxUrl, 'predictions', f.beta.token, predictions(['scan-9,1,2,3,0.5']));
    expect(first.status).toBe(201);
    const bits = first.json.bits as number;
    expect(bits).toBeLessThan(120);
    const second = await postEgress(
      f.gateway.sandboxUrl,
      'predictions',
      f.beta.token,
      predictions(['scan-9,1,2,3,0.5', 'scan-8,4,5,6,0.7']),
    );
    expect(second.status).toBe(429);
    expect(second.json).toMatchObject({ reasons: [], remaining: { bits: 120 - Math.ceil(bits) } });
  });
});

describe('a budget policy under another name', () => {
  let f: Fixture;
  let dir: string;
  beforeAll(async () => {
    // The policy files say which forbids are budget rules (@category("budget")), not their ids.
    const egress = readFileSync(join(POLICY_DIR, 'egress.cedar'), 'utf8').replace('@id("egress-daily-submissions")', '@id("one-a-day")');
    dir = policyDirWith({
      'budget.json': '{"dailyBits": 8000000, "dailySubmissions": {"predictions": 1, "metrics": 50, "model": 1, "submissions": 5}}',
      'egress.cedar': egress,
    });
    f = await startFixture({ db: 'pglite', policyDir: dir });
  });
  afterAll(async () => {
    await f?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('should not give reasons or a row for an attempt past the cap: 429, the leaf naming the renamed policy', async () => {
    expect((await postEgress(f.gateway.sandboxUrl, 'predictions', f.beta.token, GOOD)).status).toBe(201);
    const over = await postEgress(f.gateway.sandboxUrl, 'predictions', f.beta.token, GOOD);
    expect(over.status).toBe(429);
    expect(over.json).toMatchObject({ reasons: [], remaining: { submissions: 0 } });
    const rejected = (await f.gateway.get(AuditRepository).find({ action: 'egress.reject', limit: 10 })).map((l) => l.leaf);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({ status: 429, policies: ['one-a-day'], detail: { reasons: ['over_limits'] } });
  });
});

describe('compliance reports', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await startFixture({ db: 'pglite' });
    await postEgress(f.gateway.sandboxUrl, 'predictions', f.beta.token, GOOD);
    await postEgress(f.gateway.sandboxUrl, 'predictions', f.beta.token, predictions(['scan-1,1,2,3,0.5']));
    await postEgress(f.gateway.sandboxUrl, 'metrics', f.beta.token, '{"n": 3, "metrics": {"auc": 0.5}}', 'application/json');
    await rawRequest(f.gateway.sandboxUrl, 'GET', '/v1/datasets/ct/objects/train/scan-1.raw', bearer(f.alpha.token));
    await rawRequest(f.gateway.sandboxUrl, 'GET', '/v1/datasets/ct/objects/test/scan-9.raw', bearer(f.alpha.token));
  });
  afterAll(async () => {
    await f?.stop();
  });

  it('reports per team what left, what was refused and why, bits, and bytes read per dataset; JSON and CSV', async () => {
    const r = JSON.parse((await rawRequest(f.gateway.controlUrl, 'GET', '/v1/reports/teams', bearer(f.auditorToken))).body.toString()) as {
      teams: {
        team: string;
        released: Record<string, number>;
        rejectedByReason: Record<string, number>;
        bitsReleased: number;
        bytesReadByDataset: Record<string, number>;
        readsDenied: number;
      }[];
    };
    const beta = r.teams.find((t) => t.team === 'beta')!;
    expect(beta.released).toEqual({ predictions: 1 });
    expect(beta.rejectedByReason).toEqual({ unknown_series: 1, cohort_too_small: 1 });
    expect(beta.bitsReleased).toBeGreaterThan(0);
    const alpha = r.teams.find((t) => t.team === 'alpha')!;
    expect(alpha.bytesReadByDataset).toEqual({ ct: 256 * 1024 + 7 });
    expect(alpha.readsDenied).toBe(1);
    const csv = (await rawRequest(f.gateway.controlUrl, 'GET', '/v1/reports/teams?format=csv', bearer(f.auditorToken))).body.toString();
    expect(csv.split('\n')[0]).toBe('team,released,rejected,rejectedByReason,bitsReleased,bitsBudgetPerDay,bytesReadByDataset,readsDenied');
    const policy = JSON.parse(
      (await rawRequest(f.gateway.controlUrl, 'GET', '/v1/reports/policy', bearer(f.organizerToken))).body.toString(),
    ) as { events: { action: string }[] };
    expect(policy.events[0].action).toBe('policy.activate');
    expect((await rawRequest(f.gateway.controlUrl, 'GET', '/v1/reports/teams', bearer(f.contestantToken))).status).toBe(403);
  });
});
