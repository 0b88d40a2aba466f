import { generateKeyPairSync } from 'node:crypto';
import { UnsecuredJWT } from 'jose';
import { type AuditLeaf } from '../src/audit/audit-leaf';
import { TokenService } from '../src/auth/token.service';
import { SigningKeys } from '../src/keys/signing-keys';
import { DB_KINDS, S3_KINDS } from './support/backends';
import { DATASET, type Fixture, startFixture } from './support/fixture';
import { bearer, objectPath, rawRequest } from './support/http';
import { AuditRepository } from '../src/audit/audit.repository';
import { Clock } from '../src/clock/clock';
import { Database } from '../src/db/database';
import { GrantRepository } from '../src/grants/grant.repository';
import { JobService } from '../src/jobs/job.service';
import { JobRepository } from '../src/jobs/job.repository';
import { PolicyEngine } from '../src/policy/policy.types';
import { TeamRepository } from '../src/teams/team.repository';

async function leafCount(f: Fixture): Promise<number> {
  return f.gateway.get(AuditRepository).size();
}

async function leavesFor(f: Fixture, requestId: string): Promise<AuditLeaf[]> {
  const all = await f.gateway.get(AuditRepository).find({ limit: 1000 });
  return all.filter((l) => l.leaf.requestId === requestId).map((l) => l.leaf);
}

const combos = DB_KINDS.flatMap((db) => S3_KINDS.map((s3) => ({ db, s3 })));

describe.each(combos)('data plane on $db with $s3', ({ db, s3 }) => {
  let f: Fixture;
  beforeAll(async () => {
    f = await startFixture({ db, s3 });
  });
  afterAll(async () => {
    await f?.stop();
  });

  const get = (key: string, headers: Record<string, string> = {}, token = f.alpha.token) =>
    rawRequest(f.gateway.sandboxUrl, 'GET', objectPath(DATASET, key), { ...bearer(token), ...headers });

  describe('ranged reads', () => {
    const key = 'train/scan-1.raw';
    it('serves the whole object byte-exact with its ETag', async () => {
      const r = await get(key);
      expect(r.status).toBe(200);
      expect(r.body.equals(f.objects.get(key)!)).toBe(true);
      expect(r.headers.etag).toMatch(/^"[^"]+"$/);
      expect(r.headers['accept-ranges']).toBe('bytes');
    });

    it.each([
      ['bytes=0-0', 0, 0],
      ['bytes=0-99', 0, 99],
      ['bytes=1000-', 1000, 256 * 1024 + 6],
      ['bytes=-50', 256 * 1024 + 7 - 50, 256 * 1024 + 6],
      ['bytes=262000-999999999', 262000, 256 * 1024 + 6],
      ['bytes=-999999999', 0, 256 * 1024 + 6],
    ])('serves %s as 206 with exactly those bytes', async (range, start, end) => {
      const r = await get(key, { range });
      const stored = f.objects.get(key)!;
      expect(r.status).toBe(206);
      expect(r.headers['content-range']).toBe(`bytes ${start}-${end}/${stored.length}`);
      expect(r.body.equals(stored.subarray(start, end + 1))).toBe(true);
      expect(r.aborted).toBe(false);
    });

    it('answers 416 with the size for a range past the end', async () => {
      const r = await get(key, { range: `bytes=${256 * 1024 + 7}-` });
      expect(r.status).toBe(416);
      expect(r.headers['content-range']).toBe(`bytes */${256 * 1024 + 7}`);
      expect(JSON.parse(r.body.toString())).toMatchObject({ error: 'range_not_satisfiable' });
    });

    it.each(['bytes=0-1,5-6', 'bytes=5-2', 'items=0-1'])('should not serve a multi-range or malformed range (%s): 400', async (range) => {
      const r = await get(key, { range });
      expect(r.status).toBe(400);
      expect(r.body.toString()).not.toContain(f.objects.get(key)!.subarray(0, 8).toString('latin1'));
    });

    it('honours If-None-Match (304) and If-Match (412)', async () => {
      const etag = (await get(key)).headers.etag as string;
      expect((await get(key, { 'if-none-match': etag })).status).toBe(304);
      expect((await get(key, { 'if-match': '"nope"' })).status).toBe(412);
      const ok = await get(key, { 'if-match': etag, range: 'bytes=0-9' });
      expect(ok.status).toBe(206);
      expect(ok.body.equals(f.objects.get(key)!.subarray(0, 10))).toBe(true);
    });

    it('answers HEAD with the size and no body', async () => {
      const r = await rawRequest(f.gateway.sandboxUrl, 'HEAD', objectPath(DATASET, key), bearer(f.alpha.token));
      expect(r.status).toBe(200);
      expect(Number(r.headers['content-length'])).toBe(256 * 1024 + 7);
      expect(r.body.length).toBe(0);
    });

    it('serves an empty object', async () => {
      const r = await get('train/empty.bin');
      expect(r.status).toBe(200);
      expect(r.body.length).toBe(0);
    });
  });

  describe('keys are opaque bytes', () => {
    it('serves a//b and NFC/NFD spellings as the distinct keys they are', async () => {
      if (s3 === 'external') expect((await get('train/a//b')).body.toString()).toBe('double slash');
      expect((await get('train/café.txt')).body.toString()).toBe('nfc');
      expect((await get('train/cafe\u0301.txt')).body.toString()).toBe('nfd');
    });

    it.each([
      ['/v1/datasets/ct/objects/train/../labels/test_annotations.csv', 'dot segment'],
      ['/v1/datasets/ct/objects/train/%2e%2e/labels/test_annotations.csv', 'encoded dot segment'],
      ['/v1/datasets/ct/objects/train/a%00b', 'NUL'],
      ['/v1/datasets/ct/objects/train/a%0Ab', 'control character'],
      ['/v1/datasets/ct/objects/train/a%zzb', 'malformed percent-encoding'],
      ['/v1/datasets/ct/objects/train/a%C3', 'truncated UTF-8'],
      ['/v1/datasets/ct/objects/', 'empty key'],
    ])('should not serve %s (%s): 400 and nothing from the store', async (path) => {
      const r = await rawRequest(f.gateway.sandboxUrl, 'GET', path, bearer(f.alpha.token));
      expect(r.status).toBe(400);
      expect(JSON.parse(r.body.toString())).toMatchObject({ error: 'bad_request' });
    });
  });

  describe('404 parity: not granted and absent look the same', () => {
    const shape = (r: { status: number; headers: Record<string, unknown>; body: Buffer }) => {
      const body = JSON.parse(r.body.toString()) as Record<string, unknown>;
      return {
        status: r.status,
        body: { ...body, requestId: typeof body.requestId },
        etag: r.headers.etag,
        length: r.headers['content-length'],
      };
    };

    it("answers an absent key, another team's split, test labels, a key outside every split and an unknown dataset identically", async () => {
      const absent = shape(await get('train/no-such-object'));
      expect(absent.status).toBe(404);
      for (const r of [
        await get('test/scan-9.raw'),
        await get('labels/test_annotations.csv'),
        await get('stray.bin'),
        await rawRequest(f.gateway.sandboxUrl, 'GET', objectPath('no-such-dataset', 'train/scan-1.raw'), bearer(f.alpha.token)),
      ]) {
        expect(shape(r)).toEqual(absent);
      }
    });

    it('answers HEAD, conditional and ranged requests for a denied object exactly as for an absent one', async () => {
      const variants: Record<string, string>[] = [
        { range: 'bytes=0-0' },
        { range: 'bytes=999999999-' },
        { 'if-none-match': '*' },
        { 'if-match': '"x"' },
      ];
      for (const headers of variants) {
        const absent = shape(await get('train/no-such-object', headers));
        expect(absent.status).toBe(404);
        expect(shape(await get('test/scan-9.raw', headers))).toEqual(absent);
        expect(shape(await get('labels/test_annotations.csv', headers))).toEqual(absent);
      }
      const head = (key: string) => rawRequest(f.gateway.sandboxUrl, 'HEAD', objectPath(DATASET, key), bearer(f.alpha.token));
      const absentHead = await head('train/no-such-object');
      expect(absentHead.status).toBe(404);
      for (const r of [await head('test/scan-9.raw'), await head('labels/test_annotations.csv')]) {
        expect(r.status).toBe(404);
        expect(r.headers['content-length']).toBe(absentHead.headers['content-length']);
        expect(r.headers.etag).toBeUndefined();
      }
    });

    it('should not strip a leading BOM: %EF%BB%BFtrain/… is another key, outside every split', async () => {
      const r = await rawRequest(
        f.gateway.sandboxUrl,
        'GET',
        `/v1/datasets/${DATASET}/objects/%EF%BB%BFtrain/scan-1.mhd`,
        bearer(f.alpha.token),
      );
      expect(r.status).toBe(404);
    });

    it("the other team reads its own split and not alpha's", async () => {
      expect((await get('test/scan-9.raw', {}, f.beta.token)).status).toBe(200);
      expect((await get('train/scan-1.raw', {}, f.beta.token)).status).toBe(404);
      expect((await get('labels/test_annotations.csv', {}, f.beta.token)).status).toBe(404);
    });
  });

  describe('listing', () => {
    it('lists only granted datasets and splits', async () => {
      const r = await rawRequest(f.gateway.sandboxUrl, 'GET', '/v1/datasets', bearer(f.alpha.token));
      expect(JSON.parse(r.body.toString())).toEqual({
        datasets: [{ id: DATASET, title: 'fixture', createdAt: expect.any(String), splits: [{ name: 'train', kind: 'train' }] }],
      });
    });

    it('pages through exactly the granted keys, in order, with a cursor', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const q: string = `/v1/datasets/${DATASET}/objects?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`;
        const r = await rawRequest(f.gateway.sandboxUrl, 'GET', q, bearer(f.alpha.token));
        expect(r.status).toBe(200);
        const page = JSON.parse(r.body.toString()) as { objects: { key: string; size: number }[]; nextCursor: string | null };
        expect(page.objects.length).toBeLessThanOrEqual(2);
        seen.push(...page.objects.map((o) => o.key));
        cursor = page.nextCursor;
      } while (cursor !== null);
      const expected = [...f.objects.keys()]
        .filter((k) => k.startsWith('train/'))
        .sort((a, b) => (Buffer.from(a) < Buffer.from(b) ? -1 : 1));
      expect(seen).toEqual(expected);
    });

    it('filters by prefix and never lists another split', async () => {
      const r = await rawRequest(f.gateway.sandboxUrl, 'GET', `/v1/datasets/${DATASET}/objects?prefix=labels/`, bearer(f.alpha.token));
      expect(JSON.parse(r.body.toString())).toEqual({ objects: [], nextCursor: null });
      const scan = await rawRequest(
        f.gateway.sandboxUrl,
        'GET',
        `/v1/datasets/${DATASET}/objects?prefix=train/scan`,
        bearer(f.alpha.token),
      );
      expect((JSON.parse(scan.body.toString()) as { objects: { key: string }[] }).objects.map((o) => o.key)).toEqual([
        'train/scan-1.mhd',
        'train/scan-1.raw',
      ]);
    });

    it('should not list a dataset the team has no grant in, nor accept unknown parameters or a forged cursor', async () => {
      const other = await rawRequest(f.gateway.sandboxUrl, 'GET', '/v1/datasets/no-such/objects', bearer(f.alpha.token));
      expect(other.status).toBe(404);
      expect(
        (await rawRequest(f.gateway.sandboxUrl, 'GET', `/v1/datasets/${DATASET}/objects?recursive=1`, bearer(f.alpha.token))).status,
      ).toBe(400);
      // A delimiter rolls keys up, and only into prefixes that hold granted keys.
      const rolled = await rawRequest(f.gateway.sandboxUrl, 'GET', `/v1/datasets/${DATASET}/objects?delimiter=/`, bearer(f.alpha.token));
      expect(JSON.parse(rolled.body.toString())).toEqual({ objects: [], commonPrefixes: ['train/'], nextCursor: null });
      expect(
        (await rawRequest(f.gateway.sandboxUrl, 'GET', `/v1/datasets/${DATASET}/objects?cursor=zzz`, bearer(f.alpha.token))).status,
      ).toBe(400);
      expect((await rawRequest(f.gateway.sandboxUrl, 'GET', `/v1/datasets/${DATASET}/objects?limit=0`, bearer(f.alpha.token))).status).toBe(
        400,
      );
      const cursor = (k: string) => Buffer.from(JSON.stringify({ k })).toString('base64url');
      for (const bad of [cursor('train/' + 'x'.repeat(1100)), cursor('train/a\u0000b')]) {
        expect(
          (await rawRequest(f.gateway.sandboxUrl, 'GET', `/v1/datasets/${DATASET}/objects?cursor=${bad}`, bearer(f.alpha.token))).status,
        ).toBe(400);
      }
    });
  });

  describe("a grant's byte quota", () => {
    const key = 'train/scan-1.mhd';
    /** Team gamma, granted train under a quota of `quota` bytes, and a job of it. */
    const quotaTeam = async (team: string, quota: number) => {
      const gw = f.gateway;
      const now = gw.get(Clock).now();
      await gw.get(TeamRepository).insert({ id: team, name: team }, now, 'test');
      const grant = `${team}-train-quota`;
      const window = { notBefore: new Date(now.getTime() - 3600_000), notAfter: new Date(now.getTime() + 3600_000) };
      await gw.get(GrantRepository).insert({ id: grant, team, dataset: DATASET, split: 'train', ...window, byteQuota: quota }, now, 'test');
      const job = await gw.get(JobService).issue(team, 600, 'test', { requestId: 'test', listener: 'internal' });
      return { grant, token: job.token };
    };
    const usage = async (grant: string) => {
      const { rows } = await f.gateway
        .get(Database)
        .query<{ bytes: string | number }>('SELECT bytes FROM grant_usage WHERE grant_id = $1', [grant]);
      return Number(rows[0]?.bytes ?? 0);
    };

    it('should not serve past the quota, however many reads race for its last bytes', async () => {
      const size = f.objects.get(key)!.length;
      // Room for seven whole reads and not quite an eighth.
      const quota = 8 * size - 1;
      const { grant, token } = await quotaTeam('gamma', quota);
      expect((await get(key, {}, token)).status).toBe(200);
      const raced = await Promise.all(Array.from({ length: 24 }, () => get(key, {}, token)));
      const served = raced.filter((r) => r.status === 200);
      expect(served).toHaveLength(6);
      expect(raced.filter((r) => r.status === 429)).toHaveLength(18);
      expect(await usage(grant)).toBe(7 * size);
      // What is left is served as a range, to the last byte, and not one byte more.
      const rest = await get(key, { range: `bytes=0-${size - 2}` }, token);
      expect(rest.status).toBe(206);
      expect(await usage(grant)).toBe(quota);
      const head = await rawRequest(f.gateway.sandboxUrl, 'HEAD', objectPath(DATASET, key), bearer(token));
      expect(head.status).toBe(200);
      const over = await get(key, { range: 'bytes=0-0' }, token);
      expect(over.status).toBe(429);
      expect(await usage(grant)).toBe(quota);
      // The policy decided, and the leaf says which one.
      const [leaf] = await leavesFor(f, over.headers['x-request-id'] as string);
      expect(leaf).toMatchObject({ action: 'read', decision: 'deny', status: 429, bytes: 0, policies: ['read-within-byte-quota'] });
      expect(leaf.detail).toMatchObject({ grant, quota, remaining: 0 });
    });

    it('should not charge a read that was never answered (its leaf could not be written)', async () => {
      const size = f.objects.get(key)!.length;
      const { grant, token } = await quotaTeam('epsilon', 10 * size);
      await f.db.query('ALTER TABLE audit_leaves ADD CONSTRAINT refuse_all CHECK (false) NOT VALID');
      try {
        expect((await get(key, {}, token)).status).toBe(503);
      } finally {
        await f.db.query('ALTER TABLE audit_leaves DROP CONSTRAINT refuse_all');
      }
      expect(await usage(grant)).toBe(0);
      expect((await get(key, {}, token)).status).toBe(200);
      expect(await usage(grant)).toBe(size);
    });

    it('charges what each answer carries: a range its length, HEAD and 304 nothing; a grant without a quota lets the read past', async () => {
      const size = f.objects.get(key)!.length;
      const { grant, token } = await quotaTeam('delta', 100);
      const etag = (await rawRequest(f.gateway.sandboxUrl, 'HEAD', objectPath(DATASET, key), bearer(token))).headers.etag as string;
      expect((await get(key, { 'if-none-match': etag }, token)).status).toBe(304);
      expect(await usage(grant)).toBe(0);
      const ranged = await get(key, { range: 'bytes=0-9' }, token);
      expect(ranged.status).toBe(206);
      expect(await usage(grant)).toBe(10);
      const [leaf] = await leavesFor(f, ranged.headers['x-request-id'] as string);
      expect(leaf).toMatchObject({ decision: 'allow', status: 206, bytes: 10, policies: [`grant:${grant}`] });
      // A second grant on the same split, without a quota: reads are no longer limited.
      const gw = f.gateway;
      const now = gw.get(Clock).now();
      await gw.get(GrantRepository).insert(
        {
          id: 'delta-train-open',
          team: 'delta',
          dataset: DATASET,
          split: 'train',
          notBefore: new Date(now.getTime() - 3600_000),
          notAfter: new Date(now.getTime() + 3600_000),
          byteQuota: null,
        },
        now,
        'test',
      );
      for (let i = 0; i < Math.ceil(100 / size) + 1; i++) expect((await get(key, {}, token)).status).toBe(200);
      expect(await usage(grant)).toBe(10);
    });
  });

  describe('audit: exactly one leaf per decision', () => {
    it('writes one leaf per request, allow and deny, naming the request, the decision and the grant', async () => {
      const before = await leafCount(f);
      const responses = [
        await get('train/scan-1.raw', { range: 'bytes=10-19' }),
        await get('test/scan-9.raw'),
        await get('labels/test_annotations.csv'),
        await get('train/absent'),
        await rawRequest(f.gateway.sandboxUrl, 'GET', `/v1/datasets/${DATASET}/objects`, bearer(f.alpha.token)),
        await rawRequest(f.gateway.sandboxUrl, 'GET', '/v1/datasets', bearer(f.alpha.token)),
      ];
      expect(await leafCount(f)).toBe(before + responses.length);
      const leaves = await Promise.all(responses.map((r) => leavesFor(f, r.headers['x-request-id'] as string)));
      expect(leaves.map((l) => l.length)).toEqual([1, 1, 1, 1, 1, 1]);
      const [ranged, other, labels, absent] = leaves.map((l) => l[0]);
      expect(ranged).toMatchObject({
        principal: `job:${f.alpha.jobId}`,
        team: 'alpha',
        action: 'read',
        decision: 'allow',
        status: 206,
        range: '10-19',
        bytes: 10,
        resource: { type: 'object', dataset: DATASET, keyHex: Buffer.from('train/scan-1.raw').toString('hex') },
      });
      expect(ranged.policies[0]).toMatch(/^grant:alpha-train-/);
      expect(ranged.policySet).toBe(f.gateway.get(PolicyEngine).active.sha256);
      expect(other).toMatchObject({ decision: 'deny', status: 404, bytes: 0, policies: [] });
      expect(labels).toMatchObject({ decision: 'deny', status: 404, policies: ['no-job-reads-labels'] });
      expect(absent).toMatchObject({ decision: 'allow', status: 404, bytes: 0 });
    });

    it('should not write leaves for requests refused before any decision (bad credential)', async () => {
      const before = await leafCount(f);
      const r = await get('train/scan-1.raw', {}, 'garbage');
      expect(r.status).toBe(401);
      expect(await leafCount(f)).toBe(before);
    });
  });

  describe('credentials', () => {
    it('should not serve data without a token, with a user token, or with a job token on the control listener', async () => {
      expect((await rawRequest(f.gateway.sandboxUrl, 'GET', objectPath(DATASET, 'train/scan-1.mhd'))).status).toBe(401);
      for (const t of [f.organizerToken, f.auditorToken, f.contestantToken])
        expect((await get('train/scan-1.mhd', {}, t)).status).toBe(401);
      const onControl = await rawRequest(f.gateway.controlUrl, 'GET', '/v1/audit', bearer(f.alpha.token));
      expect(onControl.status).toBe(401);
      expect(onControl.headers['www-authenticate']).toBe('Bearer');
    });

    it('should not serve with an expired, foreign-signed, alg:none or user-audience token: 401', async () => {
      const gw = f.gateway;
      const expired = await gw.get(TokenService).issueJob(f.alpha.jobId, 'alpha', new Date(Date.now() - 60_000));
      const foreign = await new TokenService(new SigningKeys(generateKeyPairSync('ed25519').privateKey)).issueJob(
        f.alpha.jobId,
        'alpha',
        new Date(Date.now() + 60_000),
      );
      const none = new UnsecuredJWT({ typ: 'job', team: 'alpha' })
        .setIssuer('cage')
        .setAudience('cage-sandbox')
        .setSubject(f.alpha.jobId)
        .setExpirationTime('1h')
        .encode();
      const otherTeam = await gw.get(TokenService).issueJob(f.alpha.jobId, 'beta', new Date(Date.now() + 60_000));
      for (const [token, message] of [
        [expired, 'token expired'],
        [foreign, 'token signature is not valid'],
        [none, 'token algorithm not allowed'],
        [f.organizerToken, 'token claim aud is not valid here'],
        [otherTeam, 'unknown job'],
      ]) {
        const r = await get('train/scan-1.mhd', {}, token);
        expect(r.status).toBe(401);
        expect(JSON.parse(r.body.toString())).toMatchObject({ error: 'unauthorized', message });
      }
    });

    it('should not serve a job whose stored expiry has passed, even with a token that has not', async () => {
      const meta = { requestId: 'test', listener: 'internal' as const };
      const job = await f.gateway.get(JobService).issue('alpha', 600, 'test', meta);
      expect((await get('train/scan-1.mhd', {}, job.token)).status).toBe(200);
      await f.db.query('UPDATE jobs SET expires_at = $2 WHERE id = $1', [job.jobId, new Date(Date.now() - 1000).toISOString()]);
      await new Promise((r) => setTimeout(r, 600));
      const r = await get('train/scan-1.mhd', {}, job.token);
      expect(r.status).toBe(401);
      expect(JSON.parse(r.body.toString()).message).toBe('job credential expired');
    });

    it('should not trust a client-sent request id', async () => {
      const r = await get('train/scan-1.mhd', { 'x-request-id': 'forged-id' });
      expect(r.headers['x-request-id']).not.toBe('forged-id');
      expect(await leavesFor(f, 'forged-id')).toEqual([]);
    });

    it('should not serve a revoked job within a second of the revoke', async () => {
      const meta = { requestId: 'test', listener: 'internal' as const };
      const job = await f.gateway.get(JobService).issue('alpha', 600, 'test', meta);
      expect((await get('train/scan-1.mhd', {}, job.token)).status).toBe(200);
      await f.gateway.get(JobRepository).revoke(job.jobId, new Date(), 'test');
      await new Promise((r) => setTimeout(r, 1000));
      const r = await get('train/scan-1.mhd', {}, job.token);
      expect(r.status).toBe(401);
      expect(JSON.parse(r.body.toString()).message).toBe('job credential revoked');
    });

    it('should not serve after a grant is revoked (next request, within a second)', async () => {
      const gw = f.gateway;
      const { rows } = await gw.get(Database).query<{ id: string }>("SELECT id FROM grants WHERE team_id = 'beta'");
      expect((await get('test/scan-9.raw', {}, f.beta.token)).status).toBe(200);
      await gw.get(GrantRepository).revoke(rows[0].id, new Date(), 'test');
      await new Promise((r) => setTimeout(r, 1000));
      expect((await get('test/scan-9.raw', {}, f.beta.token)).status).toBe(404);
    });
  });

  describe('GET /v1/audit', () => {
    const audit = (query: string, token: string) => rawRequest(f.gateway.controlUrl, 'GET', `/v1/audit${query}`, bearer(token));

    it('lets auditors and organizers filter and page the log', async () => {
      const r = await audit(`?team=alpha&decision=deny&limit=2`, f.auditorToken);
      expect(r.status).toBe(200);
      const page = JSON.parse(r.body.toString()) as {
        leaves: { index: number; hash: string; leaf: AuditLeaf }[];
        nextCursor: string | null;
      };
      expect(page.leaves.length).toBe(2);
      for (const l of page.leaves) expect(l.leaf).toMatchObject({ team: 'alpha', decision: 'deny' });
      expect(page.nextCursor).toBe(String(page.leaves[1].index));
      const next = JSON.parse(
        (await audit(`?team=alpha&decision=deny&limit=2&cursor=${page.nextCursor}`, f.organizerToken)).body.toString(),
      ) as typeof page;
      expect(next.leaves[0].index).toBeGreaterThan(page.leaves[1].index);
      const principal = JSON.parse(
        (await audit(`?principal=job:${f.beta.jobId}&action=read`, f.auditorToken)).body.toString(),
      ) as typeof page;
      expect(principal.leaves.length).toBeGreaterThan(0);
      for (const l of principal.leaves) expect(l.leaf).toMatchObject({ principal: `job:${f.beta.jobId}`, action: 'read' });
      const future = JSON.parse((await audit(`?from=2999-01-01T00:00:00Z`, f.auditorToken)).body.toString()) as typeof page;
      expect(future.leaves).toEqual([]);
    });

    it('should not let a contestant read the log, nor accept bad filters', async () => {
      expect((await audit('', f.contestantToken)).status).toBe(403);
      expect((await audit('?decision=maybe', f.auditorToken)).status).toBe(400);
      expect((await audit('?from=yesterday', f.auditorToken)).status).toBe(400);
      expect((await audit('?sql=1', f.auditorToken)).status).toBe(400);
    });
  });
});
