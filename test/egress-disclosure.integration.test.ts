/**
 * The channel inventory of docs/disclosure.md, one test per row (named "row N"), and the attack
 * that opened issue 11: a job encoding test-scan bytes in refusals for a contestant to decode.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { type IssuedJob } from '../src/jobs/job.service';
import { attemptBits, refusalBits } from '../src/egress/kinds/refusal-feedback';
import { roundBitsUp } from '../src/egress/kinds/information-bits';
import { postEgress, predictions } from './support/egress';
import { DATASET, type Fixture, startFixture, TestClock } from './support/fixture';
import { bearer, objectPath, rawRequest } from './support/http';
import { policyDirWith } from './support/policies';
import { AuditRepository } from '../src/audit/audit.repository';
import { EgressRepository } from '../src/egress/egress.repository';
import { GrantRepository } from '../src/grants/grant.repository';
import { JobService } from '../src/jobs/job.service';
import { PolicyEngine } from '../src/policy/policy.types';
import { TeamRepository } from '../src/teams/team.repository';
import { contestantToken } from './support/tokens';

const ROW = 'scan-9,1,2,3,0.5';
const META = { requestId: 'disclosure-test', listener: 'internal' as const };

interface TeamView {
  id: string;
  kind: string;
  status: string;
  day: string;
  bits: number;
  reasons: { code: string; line?: number; field?: string; message: string }[];
  [k: string]: unknown;
}

describe('disclosure: every channel a team can observe is closed or charged (docs/disclosure.md)', () => {
  let f: Fixture;
  const clock = new TestClock();
  beforeAll(async () => {
    // The attack below makes 27 attempts over the cap; their 429s need not wait (that delay is for the flood test).
    f = await startFixture({ db: 'pglite', clock, env: { CAGE_EGRESS_OVER_LIMIT_DELAY_MS: '0' } });
  });
  afterAll(async () => {
    await f?.stop();
  });

  /**
   * A fresh team granted the test split (from `fromMs` to `untilMs` around now: open now unless
   * said otherwise), a job of it, and a contestant of it: caps start at zero.
   */
  async function team(fromMs = -60_000, untilMs = 3600_000): Promise<{ id: string; job: IssuedJob; person: string }> {
    const id = `t${randomUUID().slice(0, 8)}`;
    const gw = f.gateway;
    const now = clock.now();
    await gw.get(TeamRepository).insert({ id, name: id }, now, 'test');
    await gw.get(GrantRepository).insert(
      {
        id: `${id}-test`,
        team: id,
        dataset: DATASET,
        split: 'test',
        notBefore: new Date(now.getTime() + fromMs),
        notAfter: new Date(now.getTime() + untilMs),
        byteQuota: null,
      },
      now,
      'test',
    );
    const job = await gw.get(JobService).issue(id, 3600, 'test', META);
    const person = await contestantToken(gw, `${id}-person`, id, 600);
    return { id, job, person };
  }

  /** What the team's contestant sees once the current publication slot (60 s) has ended. */
  async function seen(person: string): Promise<TeamView[]> {
    clock.advance(60_000);
    return seenNow(person);
  }

  async function seenNow(person: string): Promise<TeamView[]> {
    const r = await rawRequest(f.gateway.controlUrl, 'GET', '/v1/egress?limit=1000', bearer(person));
    expect(r.status).toBe(200);
    return (JSON.parse(r.body.toString()) as { artifacts: TeamView[] }).artifacts;
  }

  async function budget(
    job: IssuedJob,
  ): Promise<{ bitsUsed: number; submissions: Record<string, { used: number; remaining: number }>; refusalBits: Record<string, number> }> {
    return JSON.parse((await rawRequest(f.gateway.sandboxUrl, 'GET', '/v1/egress/budget', bearer(job.token))).body.toString()) as never;
  }

  const kinds = () => f.gateway.get(PolicyEngine).egress.kinds;
  const refusalCharge = (kind: string) => roundBitsUp(refusalBits(kinds().get(kind)!) + attemptBits(kinds()));

  it('the attack: 32 bytes of a test scan encoded in refusals — the contestant decodes no more bits than were charged, and the 6th refusal is a 429 with no reasons', async () => {
    const t = await team();
    const scan = await rawRequest(f.gateway.sandboxUrl, 'GET', objectPath(DATASET, 'test/scan-9.raw'), bearer(t.job.token));
    expect(scan.status).toBe(200);
    const secret = scan.body.subarray(0, 32);
    const statuses: number[] = [];
    for (const byte of secret) {
      // Two channels at once: the line a rule trips on (blank line after `byte` rows), and the
      // size of the body (`byte` bytes of padding after it).
      const body = `${predictions(Array.from({ length: byte }, () => ROW))}\n${'x'.repeat(byte)}`;
      const r = await postEgress(f.gateway.sandboxUrl, 'predictions', t.job.token, body);
      statuses.push(r.status);
      if (r.status === 429) {
        expect(r.json.reasons).toEqual([]);
        expect(r.json.artifactId).toBeNull();
      }
    }
    expect(statuses.slice(0, 5)).toEqual([422, 422, 422, 422, 422]);
    expect(statuses.slice(5).every((s) => s === 429)).toBe(true);

    // The contestant, outside, decodes whatever the rows show.
    const rows = await seen(t.person);
    expect(rows).toHaveLength(5);
    const decoded = rows.map((r) => (r.reasons[0].line ?? 0) - 2);
    // The channel works up to the cap (this test would see a leak)...
    expect([...decoded].sort((a, b) => a - b)).toEqual([...secret.subarray(0, 5)].sort((a, b) => a - b));
    // ...and what it carried, 8 bits a row at most, is within what the team was charged.
    const recoveredBits = 8 * decoded.length;
    const charged = (await budget(t.job)).bitsUsed;
    expect(charged).toBe(Math.ceil(5 * refusalCharge('predictions')));
    expect(recoveredBits).toBeLessThanOrEqual(charged);
    expect(rows.map((r) => JSON.stringify(r)).join()).not.toMatch(/submitted|createdAt|decidedAt|auditIndex/);
    // What the size channel carried is gone: nothing in a row depends on the padding.
    expect(new Set(rows.map((r) => r.reasons[0].code))).toEqual(new Set(['blank_line']));
  });

  it('row 1: released content is charged its bits plus the attempt bits, and the rows add up to the budget used', async () => {
    const t = await team();
    const r = await postEgress(f.gateway.sandboxUrl, 'predictions', t.job.token, predictions([ROW]));
    expect(r.status).toBe(201);
    const rows = await seen(t.person);
    expect(rows).toHaveLength(1);
    expect(rows[0].bits).toBe(r.json.bits);
    expect(rows[0].bits).toBeGreaterThan(attemptBits(kinds()));
    expect((await budget(t.job)).bitsUsed).toBe(Math.ceil(rows[0].bits));
  });

  it('row 2: a refusal shows code, line, field and the fixed message of its code, and is charged the same fixed bits whatever it says', async () => {
    const t = await team();
    const a = await postEgress(f.gateway.sandboxUrl, 'predictions', t.job.token, predictions(['scan-9,1000,2,3,0.5']));
    const b = await postEgress(f.gateway.sandboxUrl, 'predictions', t.job.token, predictions([ROW, ROW, 'scan-9,1,2,3,7']));
    expect([a.status, b.status]).toEqual([422, 422]);
    const rows = await seen(t.person);
    const byCode = Object.fromEntries(rows.map((r) => [r.reasons[0].code, r]));
    expect(byCode.out_of_bounds.reasons).toEqual([
      { code: 'out_of_bounds', line: 2, field: 'coordX', message: "a coordinate is outside the scan's bounding box" },
    ]);
    expect(byCode.probability_out_of_range.reasons).toEqual([
      { code: 'probability_out_of_range', line: 4, field: 'probability', message: 'a probability is outside [0, 1]' },
    ]);
    expect(rows.map((r) => r.bits)).toEqual([refusalCharge('predictions'), refusalCharge('predictions')]);
    expect((await budget(t.job)).refusalBits.predictions).toBe(refusalCharge('predictions'));
  });

  it('row 3: two refusals that differ only in what was submitted (size, bytes) look byte-identical to the team', async () => {
    const t = await team();
    await postEgress(f.gateway.sandboxUrl, 'predictions', t.job.token, 'seriesuid,coordX\n');
    await postEgress(f.gateway.sandboxUrl, 'predictions', t.job.token, `seriesuid,coordX,${'y'.repeat(200)}\n${'z'.repeat(50_000)}`);
    const rows = await seen(t.person);
    expect(rows).toHaveLength(2);
    const strip = ({ id: _id, ...rest }: TeamView) => JSON.stringify(rest);
    expect(strip(rows[0])).toBe(strip(rows[1]));
    // Auditors keep what was submitted.
    const all = JSON.parse(
      (await rawRequest(f.gateway.controlUrl, 'GET', `/v1/egress?team=${t.id}`, bearer(f.auditorToken))).body.toString(),
    ) as { artifacts: { submittedBytes: number }[] };
    const sizes = all.artifacts.map((a) => a.submittedBytes).sort((x, y) => x - y);
    expect(sizes[0]).toBe(17);
    expect(sizes[1]).toBeGreaterThan(217);
  });

  it('row 4: attempts count against the daily cap whatever their outcome; over it, a 429 with no reasons, no row, no charge', async () => {
    const t = await team();
    const outcomes = [
      predictions([ROW]),
      predictions(['scan-1,1,2,3,0.5']),
      predictions([ROW, 'scan-8,0,0,0,0.5']),
      '',
      predictions([ROW]),
    ];
    for (const body of outcomes)
      expect([201, 422]).toContain((await postEgress(f.gateway.sandboxUrl, 'predictions', t.job.token, body)).status);
    const before = await budget(t.job);
    expect(before.submissions.predictions).toMatchObject({ used: 5, remaining: 0 });
    const over = await postEgress(f.gateway.sandboxUrl, 'predictions', t.job.token, predictions([ROW]));
    expect(over.status).toBe(429);
    expect(over.json).toMatchObject({ reasons: [], artifactId: null, remaining: { submissions: 0 } });
    expect(await seen(t.person)).toHaveLength(5);
    expect((await budget(t.job)).bitsUsed).toBe(before.bitsUsed);
  });

  it('row 5: no time of day and no submission order: a row appears when its publication slot ends, listed by day and random id, charged for its slot', async () => {
    const t = await team();
    // A row made now is not shown before the slot it was made in has ended.
    clock.advance(60_000 - (clock.now().getTime() % 60_000) - 5_000);
    await postEgress(f.gateway.sandboxUrl, 'metrics', t.job.token, '{"n": 19, "metrics": {"auc": 0.5}}', 'application/json');
    expect(await seenNow(t.person)).toHaveLength(0);
    clock.advance(5_000);
    expect(await seenNow(t.person)).toHaveLength(1);
    // Every attempt pays for the slot it appeared in: log2(1440) of its attempt bits.
    expect(attemptBits(kinds())).toBeGreaterThan(Math.log2(kinds().size * 4 * 1440));
    for (let i = 0; i < 6; i++)
      await postEgress(f.gateway.sandboxUrl, 'metrics', t.job.token, `{"n": ${20 + i}, "metrics": {"auc": 0.5}}`, 'application/json');
    const rows = await seen(t.person);
    expect(rows).toHaveLength(7);
    expect(rows.map((r) => r.id)).toEqual(rows.map((r) => r.id).sort());
    for (const r of rows)
      expect(Object.keys(r).sort()).toEqual(['bits', 'bytes', 'day', 'id', 'kind', 'reasons', 'sha256', 'status', 'team']);
    expect(rows[0].day).toBe(clock.now().toISOString().slice(0, 10));
  });

  it('row 7: a third upload of one job at once is refused (429) before its body is read, with a leaf and no row', async () => {
    const t = await team();
    // Two uploads that never finish their bodies hold the job's two slots.
    const open = [0, 1].map(() => slowUpload(f.gateway.sandboxUrl, t.job.token));
    await new Promise((r) => setTimeout(r, 300));
    const third = await postEgress(f.gateway.sandboxUrl, 'metrics', t.job.token, '{"n": 50, "metrics": {"auc": 0.5}}', 'application/json');
    expect(third.status).toBe(429);
    expect(third.json.reasons).toEqual([]);
    for (const o of open) o.abort();
    const leaves = await f.gateway.get(AuditRepository).find({ action: 'egress.reject', limit: 10_000 });
    const leaf = leaves.find((l) => l.leaf.requestId === third.headers['x-request-id']);
    expect(leaf?.leaf.detail).toMatchObject({ reasons: ['too_many_at_once'] });
    expect(await seen(t.person)).toHaveLength(0);
    // The slots come back when the uploads end.
    await new Promise((r) => setTimeout(r, 300));
    expect(
      (await postEgress(f.gateway.sandboxUrl, 'metrics', t.job.token, '{"n": 50, "metrics": {"auc": 0.5}}', 'application/json')).status,
    ).toBe(201);
  });

  it('row 8: an upload cut off mid-body leaves exactly one leaf (egress.abort) and no row', async () => {
    const t = await team();
    const upload = slowUpload(f.gateway.sandboxUrl, t.job.token);
    await new Promise((r) => setTimeout(r, 300));
    upload.abort();
    await new Promise((r) => setTimeout(r, 500));
    const leaves = (await f.gateway.get(AuditRepository).find({ limit: 100_000 })).filter(
      (l) => l.leaf.principal === `job:${t.job.jobId}` && l.leaf.action.startsWith('egress.'),
    );
    expect(leaves.map((l) => l.leaf.action)).toEqual(['egress.abort']);
    expect(leaves[0].leaf.detail).toMatchObject({
      kind: 'predictions',
      submittedBytes: 'seriesuid,coordX,coordY,coordZ,probability\n'.length,
    });
    expect(await seen(t.person)).toHaveLength(0);
  });

  it('row 12b: a scan whose grant ends while the body streams is refused at the end, not released', async () => {
    const gw = f.gateway;
    const { id, job } = await team(-60_000, 30_000);
    const body = Buffer.from(predictions([ROW]));
    const u = new URL(f.gateway.sandboxUrl);
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: u.hostname,
          port: u.port,
          method: 'POST',
          path: '/v1/egress/predictions',
          agent: false,
          headers: { authorization: `Bearer ${job.token}`, 'content-type': 'text/csv', 'content-length': body.length },
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on('error', reject);
      req.write(body.subarray(0, body.length - 3));
      // The grant ends (and its cache expires) before the last bytes arrive.
      setTimeout(() => {
        clock.advance(60_000);
        setTimeout(() => req.end(body.subarray(body.length - 3)), 700);
      }, 200);
    });
    const r = await answer;
    expect(r.status).toBe(422);
    expect((JSON.parse(r.body) as { reasons: { code: string }[] }).reasons[0].code).toBe('unknown_series');
    expect(await gw.get(EgressRepository).list({ team: id, status: 'released', limit: 10 })).toEqual([]);
  });

  it('row 15: attempts faster than the rate are answered 429 at once, without a leaf each: one throttle leaf per job and second counts them', async () => {
    const t = await team();
    const leavesBefore = await f.gateway.get(AuditRepository).size();
    const answers = await Promise.all(
      Array.from({ length: 60 }, () =>
        postEgress(f.gateway.sandboxUrl, 'metrics', t.job.token, '{"n": 50, "metrics": {"auc": 0.5}}', 'application/json').catch(() => ({
          status: 0,
        })),
      ),
    );
    const throttledAnswers = answers.filter((a) => a.status === 429).length;
    expect(throttledAnswers).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 1500));
    const leaves = (await f.gateway.get(AuditRepository).find({ after: leavesBefore - 1, limit: 10_000 }))
      .map((l) => l.leaf)
      .filter((l) => l.principal === `job:${t.job.jobId}`);
    const summaries = leaves.filter((l) => l.action === 'egress.throttle');
    expect(summaries.length).toBeGreaterThan(0);
    const perAttempt = leaves.filter((l) => l.action !== 'egress.throttle').length;
    const counted = summaries.reduce((n, l) => n + Number((l.detail as { attempts: number }).attempts), 0);
    expect(perAttempt + counted).toBe(60);
    expect(perAttempt).toBeLessThan(60);
  });

  it('row 10: the audit index, which counts every team’s activity, is not in a contestant’s view', async () => {
    const t = await team();
    const r = await postEgress(f.gateway.sandboxUrl, 'predictions', t.job.token, predictions([ROW]));
    // Not shown, even by id, before its publication slot ends.
    expect((await rawRequest(f.gateway.controlUrl, 'GET', `/v1/egress/${r.json.id as string}`, bearer(t.person))).status).toBe(404);
    clock.advance(60_000);
    const one = JSON.parse(
      (await rawRequest(f.gateway.controlUrl, 'GET', `/v1/egress/${r.json.id as string}`, bearer(t.person))).body.toString(),
    ) as { artifact: Record<string, unknown> };
    expect(one.artifact).not.toHaveProperty('auditIndex');
    expect(one.artifact).not.toHaveProperty('submittedSha256');
    expect(one.artifact).toMatchObject({ id: r.json.id, status: 'released' });
  });

  it('row 12: predictions only for scans of a grant active now; other scans are unknown, their bounds never revealed', async () => {
    for (const [from, until] of [
      [3600_000, 7200_000], // not started
      [-7200_000, -3600_000], // ended
    ]) {
      const { job } = await team(from, until);
      const inBox = await postEgress(f.gateway.sandboxUrl, 'predictions', job.token, predictions([ROW]));
      const outOfBox = await postEgress(f.gateway.sandboxUrl, 'predictions', job.token, predictions(['scan-9,1000,2,3,0.5']));
      for (const r of [inBox, outOfBox]) {
        expect(r.status).toBe(422);
        expect(r.json.reasons).toMatchObject([{ code: 'unknown_series', line: 2 }]);
      }
    }
  });
});

describe('disclosure with a small bits budget (docs/disclosure.md)', () => {
  let f: Fixture;
  let dir: string;
  const clock = new TestClock();
  beforeAll(async () => {
    // Room for one small predictions file (~69 bits) and one refusal (~39 bits), not two files.
    dir = policyDirWith({
      'budget.json': '{"dailyBits": 120, "dailySubmissions": {"predictions": 50, "metrics": 50, "model": 1, "submissions": 5}}',
    });
    f = await startFixture({ db: 'pglite', policyDir: dir, clock });
  });
  afterAll(async () => {
    await f?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('row 6: a refusal or an artifact over the bits budget is a 429 with no reasons and no row', async () => {
    const post = (body: string) => postEgress(f.gateway.sandboxUrl, 'predictions', f.beta.token, body);
    const contestant = await contestantToken(f.gateway, 'bea', 'beta', 600);
    const rows = async () =>
      (clock.advance(60_000),
      JSON.parse((await rawRequest(f.gateway.controlUrl, 'GET', '/v1/egress', bearer(contestant))).body.toString()) as {
        artifacts: unknown[];
      }).artifacts.length;
    expect((await post(predictions([ROW]))).status).toBe(201);
    // An artifact over the bits left stops being read once its rows carry more than remain.
    const n = (i: number) => `1.${'0'.repeat(28)}${i % 10}`;
    const long = (i: number) => `scan-${8 + (i % 2)},${n(i)},${n(i + 1)},${n(i + 2)},0.5`;
    const big = predictions(Array.from({ length: 998 }, (_, i) => long(i)));
    expect(big.length).toBeGreaterThan(96 * 1024);
    const bigOver = await post(big);
    expect(bigOver.status).toBe(429);
    const [leaf] = (await f.gateway.get(AuditRepository).find({ action: 'egress.reject', limit: 10_000 })).filter(
      (l) => l.leaf.requestId === bigOver.headers['x-request-id'],
    );
    expect(Number((leaf.leaf.detail as { submittedBytes: number }).submittedBytes)).toBeLessThan(big.length);
    expect(await rows()).toBe(1);
    const artifactOver = await post(predictions([ROW]));
    expect(artifactOver.status).toBe(429);
    expect(artifactOver.json.reasons).toEqual([]);
    expect(await rows()).toBe(1);
    // A refusal still fits once...
    expect((await post(predictions(['scan-1,1,2,3,0.5']))).status).toBe(422);
    expect(await rows()).toBe(2);
    // ...then not: the same refusal is now a 429 that says nothing.
    const refusalOver = await post(predictions(['scan-1,1,2,3,0.5']));
    expect(refusalOver.status).toBe(429);
    expect(refusalOver.json.reasons).toEqual([]);
    expect(await rows()).toBe(2);
  });
});

/** An egress upload that sends its headers and a little of its body, then waits; abort() cuts it off. */
function slowUpload(sandboxUrl: string, token: string): { abort: () => void } {
  const u = new URL(sandboxUrl);
  const req = httpRequest({
    host: u.hostname,
    port: u.port,
    method: 'POST',
    path: '/v1/egress/predictions',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv', 'content-length': 1_000_000 },
    agent: false,
  });
  req.on('error', () => undefined);
  req.write('seriesuid,coordX,coordY,coordZ,probability\n');
  return { abort: () => req.destroy() };
}
