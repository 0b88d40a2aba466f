import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditRepository } from '../src/audit/audit.repository';
import { OUTBOX_BUCKET } from '../src/egress/egress-release';
import { SUBMISSIONS_BUCKET } from '../src/leaderboard/leaderboard-scorer';
import { LeaderboardRepository } from '../src/leaderboard/leaderboard.repository';
import { ObjectStore } from '../src/storage/object-store.service';
import { splitScans } from '../src/leaderboard/split';
import { TokenService } from '../src/auth/token.service';
import { DATASET, type Fixture, POLICY_DIR, startFixture, TestClock } from './support/fixture';
import { bearer, rawRequest } from './support/http';
import { contestantToken } from './support/tokens';

/*
 * Issue 18, item 2: a submission stays in the cage. A job submits predictions (REST and S3); they
 * are checked with the predictions rules, kept in a bucket of their own, scored on the public
 * part against labels no job can read, and only the Ladder's rounded score is released and
 * charged; the sixth of a day is a 429. Nothing a job or a contestant can reach gives the
 * predictions, the labels or the split.
 */

// Labels of the fixture's two test scans: a nodule on each, so either can be the public one.
const LABELS = ['seriesuid,coordX,coordY,coordZ,diameter_mm', 'scan-8,10,10,10,8', 'scan-9,-20,0,5,12', ''].join('\n');
const HEADER = 'seriesuid,coordX,coordY,coordZ,probability';
/** Hits every nodule, no false positive: 1 on whichever part. */
const PERFECT = [HEADER, 'scan-8,10,10,10,0.9', 'scan-9,-20,0,5,0.8', ''].join('\n');
/** Misses everything: 0 on whichever part. */
const BLIND = [HEADER, 'scan-8,90,90,90,0.9', 'scan-9,90,-90,90,0.8', ''].join('\n');

describe('leaderboard submissions (a score leaves, the predictions stay)', () => {
  let f: Fixture;
  let policyDir: string;
  let s3: S3Client;
  // Real time (S3 signatures are checked against it), moved a second per submission (rows are
  // listed in time order) and a day for the second day's budget.
  const clock = new TestClock(new Date());
  let betaToken: string;

  const submit = async (body: string, token = betaToken) => {
    const r = await rawRequest(f.gateway.sandboxUrl, 'POST', '/v1/submissions', { ...bearer(token), 'content-type': 'text/csv' }, body);
    clock.advance(1000);
    return r;
  };
  const json = (r: { body: Buffer }) => JSON.parse(r.body.toString()) as Record<string, unknown>;

  beforeAll(async () => {
    policyDir = mkdtempSync(join(tmpdir(), 'cage-lb-policies-'));
    cpSync(POLICY_DIR, policyDir, { recursive: true });
    writeFileSync(
      join(policyDir, 'egress', 'submissions.json'),
      JSON.stringify({
        kind: 'submissions',
        format: 'predictions-score',
        maxBytes: 1048576,
        maxRows: 1000,
        maxCandidatesPerScan: 100,
        coordinateQuantumMm: 0.5,
        probabilityDecimals: 3,
        metric: 'luna16-froc',
        labels: { dataset: DATASET, annotations: 'labels/test_annotations.csv' },
        publicFraction: 0.5,
        ladderStep: 0.01,
        selections: 2,
        review: 'none',
      }),
    );
    f = await startFixture({ db: 'pglite', policyDir, clock });
    betaToken = f.beta.token;
    await f.gateway.get(ObjectStore).put(await datasetBucket(f), `${DATASET}/labels/test_annotations.csv`, LABELS, 'text/csv');
    s3 = new S3Client({
      endpoint: f.gateway.sandboxUrl,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: f.beta.accessKeyId, secretAccessKey: f.beta.secretAccessKey },
      maxAttempts: 1,
    });
  });
  afterAll(async () => {
    s3?.destroy();
    await f?.stop();
    rmSync(policyDir, { recursive: true, force: true });
  });

  it('answers a submission with its public score, rounded, through the Ladder; releases only that', async () => {
    const r = await submit(PERFECT);
    expect(r.status).toBe(201);
    const receipt = json(r);
    expect(receipt).toMatchObject({ kind: 'submissions', status: 'released', score: { public: 1, improved: true } });
    // Charged the answer's bits (log2(102) for a 0.01 step, plus every attempt's charge), not the file's.
    expect(receipt.bits).toBeLessThan(64);
    // The outbox holds the score, nothing of the predictions.
    const released = await f.gateway.get(ObjectStore).getBuffer(OUTBOX_BUCKET, `beta/submissions/${String(receipt.id)}.json`, 4096);
    expect(JSON.parse(released.toString())).toEqual({ improved: true, publicScore: 1, submission: receipt.id });
    expect(released.toString()).not.toContain('scan-');
    // The predictions are kept inside, canonical, under the submission's id.
    const kept = await f.gateway.get(ObjectStore).getBuffer(SUBMISSIONS_BUCKET, `beta/${String(receipt.id)}.csv`, 1 << 20);
    expect(kept.toString()).toBe([HEADER, 'scan-8,10.0,10.0,10.0,0.900', 'scan-9,-20.0,0.0,5.0,0.800', ''].join('\n'));
  });

  it('a worse submission leaves the shown score where it is (improved: false)', async () => {
    const r = await submit(BLIND);
    expect(r.status).toBe(201);
    expect(json(r).score).toEqual({ public: 1, improved: false });
    const rows = await f.gateway.get(LeaderboardRepository).forTeam('submissions', 'beta');
    expect(rows.map((s) => [s.publicScore, s.shownScore, s.improved])).toEqual([
      [1, 1, true],
      [0, 1, false],
    ]);
  });

  it('scores an S3 PUT to outbox/submissions/ the same way', async () => {
    const out = await s3.send(
      new PutObjectCommand({ Bucket: 'outbox', Key: 'submissions/run-3.csv', Body: BLIND, ContentType: 'text/csv' }),
    );
    expect(out.$metadata.httpStatusCode).toBe(200);
    const rows = await f.gateway.get(LeaderboardRepository).forTeam('submissions', 'beta');
    expect(rows).toHaveLength(3);
  });

  it('refuses predictions the predictions rules refuse, with their reason codes, and scores nothing', async () => {
    const r = await submit([HEADER, 'scan-8,1e3,0,0,0.5', ''].join('\n'));
    expect(r.status).toBe(422);
    expect(JSON.stringify(json(r))).toContain('malformed_number');
    expect(await f.gateway.get(LeaderboardRepository).forTeam('submissions', 'beta')).toHaveLength(3);
  });

  it('fails closed when the labels cannot be read: 503, one abort leaf, nothing scored or charged', async () => {
    const bucket = await datasetBucket(f);
    await f.gateway.get(ObjectStore).delete(bucket, `${DATASET}/labels/test_annotations.csv`);
    try {
      const r = await submit(PERFECT);
      expect(r.status).toBe(503);
      const leaves = (await f.gateway.get(AuditRepository).find({ limit: 100_000 })).filter(
        (l) => l.leaf.requestId === r.headers['x-request-id'],
      );
      expect(leaves.map((l) => [l.leaf.action, (l.leaf.detail as { reason?: string }).reason])).toEqual([
        ['egress.abort', 'scoring_unavailable'],
      ]);
      expect(await f.gateway.get(LeaderboardRepository).forTeam('submissions', 'beta')).toHaveLength(3);
      expect((await f.gateway.get(ObjectStore).list(SUBMISSIONS_BUCKET, 'beta/', undefined, 1000)).objects).toHaveLength(3);
    } finally {
      await f.gateway.get(ObjectStore).put(bucket, `${DATASET}/labels/test_annotations.csv`, LABELS, 'text/csv');
    }
  });

  it('should not score a sixth submission in a day: 429, nothing scored', async () => {
    // Three scored and one refused so far: the cap counts every attempt the job's behaviour decided.
    const fifth = await submit(PERFECT);
    expect(fifth.status).toBe(201);
    const sixth = await submit(PERFECT);
    expect(sixth.status).toBe(429);
    expect(await f.gateway.get(LeaderboardRepository).forTeam('submissions', 'beta')).toHaveLength(4);
  });

  it('should not give a job or a contestant the predictions, the labels or the split', async () => {
    // The submissions bucket and the labels through the S3 API.
    const refused = async (p: Promise<unknown>) => {
      const err = await p.then(() => undefined).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(S3ServiceException);
      expect([403, 404]).toContain((err as S3ServiceException).$metadata.httpStatusCode);
    };
    await refused(s3.send(new ListObjectsV2Command({ Bucket: SUBMISSIONS_BUCKET })));
    await refused(s3.send(new GetObjectCommand({ Bucket: SUBMISSIONS_BUCKET, Key: 'beta/x.csv' })));
    await refused(s3.send(new GetObjectCommand({ Bucket: DATASET, Key: 'labels/test_annotations.csv' })));
    // Through REST: the labels, and no route of the sandbox lists submissions.
    const labels = await rawRequest(
      f.gateway.sandboxUrl,
      'GET',
      `/v1/datasets/${DATASET}/objects/labels/test_annotations.csv`,
      bearer(f.beta.token),
    );
    expect([403, 404]).toContain(labels.status);
    expect(labels.body.toString()).not.toContain('diameter_mm');
    const list = await rawRequest(f.gateway.sandboxUrl, 'GET', '/v1/submissions', bearer(f.beta.token));
    expect([403, 404, 405]).toContain(list.status);
    expect(list.body.toString()).not.toMatch(/scan-|publicScore/);
    // A contestant's receipts show the score document, never the predictions.
    const receipts = await rawRequest(f.gateway.controlUrl, 'GET', '/v1/egress?kind=submissions', bearer(f.contestantToken));
    expect(receipts.body.toString()).not.toMatch(/scan-8|scan-9/);
    // The seed is nowhere in what a job sees: not in a receipt, not in the released answers.
    const seed = (await f.db.query<{ seed: Uint8Array }>('SELECT seed FROM leaderboard_secret')).rows[0].seed;
    const hex = Buffer.from(seed).toString('hex');
    const { objects: released } = await f.gateway.get(ObjectStore).list(OUTBOX_BUCKET, 'beta/submissions/', undefined, 1000);
    expect(released.length).toBeGreaterThan(0);
    for (const o of released)
      expect((await f.gateway.get(ObjectStore).getBuffer(OUTBOX_BUCKET, o.key, 4096)).toString()).not.toContain(hex);
  });

  it('logs every submission: the release leaf carries the exact public score and the predictions hash (auditors only)', async () => {
    const leaves = (await f.gateway.get(AuditRepository).find({ limit: 100_000 })).filter(
      (l) => l.leaf.action === 'egress.release' && (l.leaf.detail as { kind?: string }).kind === 'submissions',
    );
    expect(leaves).toHaveLength(4);
    expect(leaves[0].leaf.detail).toMatchObject({ publicScore: 1, shownScore: 1, improved: 1 });
    expect((leaves[0].leaf.detail as { predictionsSha256: string }).predictionsSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  describe('the next day', () => {
    beforeAll(async () => {
      clock.advance(86_400_000);
      const { JobService } = await import('../src/jobs/job.service');
      const { GrantRepository } = await import('../src/grants/grant.repository');
      // The fixture's grants last an hour: a new one for the new day.
      const now = clock.now();
      await f.gateway.get(GrantRepository).insert(
        {
          id: 'beta-test-day-2',
          team: 'beta',
          dataset: DATASET,
          split: 'test',
          notBefore: now,
          notAfter: new Date(now.getTime() + 3600_000),
          byteQuota: null,
        },
        now,
        'test',
      );
      betaToken = (await f.gateway.get(JobService).issue('beta', 3600, 'test', { requestId: 'test', listener: 'internal' })).token;
    });

    it('scores the public part only: predictions on one scan score by which part it is in', async () => {
      const only8 = [HEADER, 'scan-8,10,10,10,0.9', ''].join('\n');
      const r = await submit(only8);
      expect(r.status).toBe(201);
      const seed = Buffer.from((await f.db.query<{ seed: Uint8Array }>('SELECT seed FROM leaderboard_secret')).rows[0].seed);
      const parts = splitScans(seed, ['scan-8', 'scan-9'], 0.5);
      const row = (await f.gateway.get(LeaderboardRepository).forTeam('submissions', 'beta')).find((x) => x.id === json(r).id);
      // Public scan-8: its one nodule found, no false positive. Public scan-9: nothing predicted there.
      expect(row?.publicScore).toBe(parts.public.has('scan-8') ? 1 : 0);
    });

    it('should not count a submission whose answer was never released (the release failed): not on the Ladder, not listed', async () => {
      const store = f.gateway.get(ObjectStore);
      const put = store.put.bind(store);
      const spy = jest
        .spyOn(store, 'put')
        .mockImplementation((bucket, key, body, type, length) =>
          bucket === OUTBOX_BUCKET ? Promise.reject(new Error('outbox write failed (test)')) : put(bucket, key, body, type, length),
        );
      const before = await f.gateway.get(LeaderboardRepository).forTeam('submissions', 'beta');
      try {
        const r = await submit(PERFECT);
        expect(r.status).toBe(503);
      } finally {
        spy.mockRestore();
      }
      expect(await f.gateway.get(LeaderboardRepository).forTeam('submissions', 'beta')).toEqual(before);
      const failed = await f.db.query<{ n: string | number }>(
        "SELECT COUNT(*) AS n FROM submissions s JOIN egress_artifacts a ON a.id = s.id WHERE a.status = 'failed'",
      );
      expect(Number(failed.rows[0].n)).toBe(1);
    });

    describe('views, selections and the close', () => {
      let bea: string;
      const asBea = (method: string, path: string, body?: unknown) =>
        rawRequest(
          f.gateway.controlUrl,
          method,
          path,
          { ...bearer(bea), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          body === undefined ? undefined : JSON.stringify(body),
        );
      const asOrganizer = (method: string, path: string) => rawRequest(f.gateway.controlUrl, method, path, bearer(f.organizerToken));

      beforeAll(async () => {
        // A member since now (the helper adds her on the wall clock, as tokens are issued; the
        // suite's clock has moved a day ahead).
        bea = await contestantToken(f.gateway, 'bea', 'beta', 3600);
      });

      it('shows a contestant the public board and their team as the Ladder showed it, never an exact or private score', async () => {
        // Within the publication slot a contestant sees nothing new (as with receipts); after it, all.
        const early = json(await asBea('GET', '/v1/submissions')) as { submissions: unknown[] };
        expect(early.submissions.length).toBe(4);
        clock.advance(61_000);
        const board = await asBea('GET', '/v1/leaderboard');
        expect(board.status).toBe(200);
        expect(json(board)).toMatchObject({
          competition: 'submissions',
          closed: false,
          private: null,
          public: [{ rank: 1, team: 'beta', score: 1 }],
        });
        const mine = json(await asBea('GET', '/v1/submissions')) as { submissions: Record<string, unknown>[] };
        expect(mine.submissions.length).toBe(5);
        for (const row of mine.submissions) {
          expect(row).not.toHaveProperty('publicScore');
          expect(row).not.toHaveProperty('privateScore');
        }
        // Another team's rows: none, whatever is asked.
        expect((json(await asBea('GET', '/v1/submissions?team=alpha')) as { submissions: unknown[] }).submissions).toEqual([]);
        const all = json(await asOrganizer('GET', '/v1/submissions?team=beta')) as { submissions: { publicScore?: number }[] };
        expect(all.submissions.every((x) => typeof x.publicScore === 'number')).toBe(true);
      });

      it('lets a team select at most `selections` final submissions, its own only', async () => {
        const rows = await f.gateway.get(LeaderboardRepository).forTeam('submissions', 'beta');
        const perfect = rows.find((x) => x.publicScore === 1 && x.shownScore === 1 && x.improved)!;
        const blind = rows.find((x) => x.publicScore === 0)!;
        const other = rows.find((x) => x.id !== perfect.id && x.id !== blind.id)!;
        expect((await asBea('POST', `/v1/submissions/${perfect.id}/selection`, { selected: true })).status).toBe(200);
        expect((await asBea('POST', `/v1/submissions/${blind.id}/selection`, { selected: true })).status).toBe(200);
        const third = await asBea('POST', `/v1/submissions/${other.id}/selection`, { selected: true });
        expect(third.status).toBe(422);
        expect(third.body.toString()).toContain('at most 2');
        const carl = await rawRequest(
          f.gateway.controlUrl,
          'POST',
          `/v1/submissions/${perfect.id}/selection`,
          { ...bearer(f.contestantToken), 'content-type': 'application/json' },
          JSON.stringify({ selected: false }),
        );
        expect(carl.status).toBe(404);
        expect((await f.gateway.get(LeaderboardRepository).get(perfect.id))?.selected).toBe(true);
      });

      it('should not let anyone but an organizer close; the close scores the finals on the private part, once', async () => {
        expect((await asBea('POST', '/v1/leaderboard/close')).status).toBe(403);
        const closed = await asOrganizer('POST', '/v1/leaderboard/close');
        expect(closed.status).toBe(200);
        // PERFECT hits the private scan's nodule too (1); BLIND nothing (0): beta's best final is 1.
        expect(json(closed)).toMatchObject({ closed: true, private: [{ rank: 1, team: 'beta', score: 1 }] });
        const finals = (await f.gateway.get(LeaderboardRepository).forTeam('submissions', 'beta')).filter((x) => x.selected);
        expect(finals.map((x) => x.privateScore).sort()).toEqual([0, 1]);
        expect((await asOrganizer('POST', '/v1/leaderboard/close')).status).toBe(409);
        const again = await asBea('POST', `/v1/submissions/${finals[0].id}/selection`, { selected: false });
        expect(again.status).toBe(409);
        const leaf = (await f.gateway.get(AuditRepository).find({ limit: 100_000 })).find((l) => l.leaf.action === 'leaderboard.close');
        expect(leaf?.leaf.detail).toMatchObject({ ranking: [{ rank: 1, team: 'beta', score: 1 }], publicScans: 1, privateScans: 1 });
        // The contestant now sees the private ranking too.
        expect(json(await asBea('GET', '/v1/leaderboard'))).toMatchObject({ closed: true, private: [{ team: 'beta', score: 1 }] });
      });

      it("holds the finals' predictions for organizers only, behind the two-person airlock; never the team's to see", async () => {
        const held = json(await asOrganizer('GET', '/v1/egress?status=pending_review&kind=submissions')) as {
          artifacts: { id: string; team: string; bits: number }[];
        };
        expect(held.artifacts).toHaveLength(2);
        expect(held.artifacts.every((a) => a.team === 'beta' && a.bits === 0)).toBe(true);
        const [first] = held.artifacts;
        // Past the close's publication slot, so only the organizers-only rule can hide them.
        clock.advance(61_000);
        // Not charged and not counted: today the team made one released submission (the failed one is the gateway's fault).
        const budget = json(await rawRequest(f.gateway.sandboxUrl, 'GET', '/v1/egress/budget', bearer(betaToken))) as {
          submissions: Record<string, { used: number }>;
        };
        expect(budget.submissions.submissions.used).toBe(1);
        // The team: not in its list, not by id, not its content; its budget not charged.
        const mine = json(await asBea('GET', '/v1/egress?kind=submissions')) as { artifacts: { id: string }[] };
        expect(mine.artifacts.map((a) => a.id)).not.toContain(first.id);
        expect((await asBea('GET', `/v1/egress/${first.id}`)).status).toBe(404);
        // Two independent officers approve; the organizer downloads exactly the kept predictions.
        const review = (token: string) =>
          rawRequest(
            f.gateway.controlUrl,
            'POST',
            `/v1/egress/${first.id}/reviews`,
            { ...bearer(token), 'content-type': 'application/json' },
            JSON.stringify({ decision: 'approve', comment: 'final predictions for the organizers' }),
          );
        const second = await f.gateway.get(TokenService).issueUser('dan', 'auditor', null, 600);
        expect((await review(f.auditorToken)).status).toBe(201);
        expect((await review(second)).status).toBe(201);
        const content = await asOrganizer('GET', `/v1/egress/${first.id}/content`);
        expect(content.status).toBe(200);
        expect(content.body.toString()).toMatch(/^seriesuid,coordX,coordY,coordZ,probability\n/);
        expect((await asBea('GET', `/v1/egress/${first.id}/content`)).status).toBe(404);
      });

      it('should not score a submission after the close: 409, one abort leaf, nothing charged', async () => {
        const r = await submit(PERFECT);
        expect(r.status).toBe(409);
        const leaves = (await f.gateway.get(AuditRepository).find({ limit: 100_000 })).filter(
          (l) => l.leaf.requestId === r.headers['x-request-id'],
        );
        expect(leaves.map((l) => [l.leaf.action, (l.leaf.detail as { reason?: string }).reason])).toEqual([
          ['egress.abort', 'competition_closed'],
        ]);
      });
    });
  });
});

async function datasetBucket(f: Fixture): Promise<string> {
  const { DatasetRepository } = await import('../src/datasets/dataset.repository');
  const ds = await f.gateway.get(DatasetRepository).get(DATASET);
  return ds!.bucket;
}
