import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DatasetAdminService } from '../src/datasets/dataset-admin.service';
import { listingQuery, prefixEnd } from '../src/datasets/listing-page';
import { type Database } from '../src/db/database';
import { migrate } from '../src/db/migrator';
import { ObjectStore } from '../src/storage/object-store.service';
import { DatasetRepository } from '../src/datasets/dataset.repository';
import { DB_KINDS, type DbKind, openTestDatabase } from './support/backends';
import { DATASET, type Fixture, startFixture } from './support/fixture';
import { bearer, rawRequest } from './support/http';

/**
 * Listings from the database (issue 20, step 5): a registered dataset, once indexed, lists from
 * the object index its last run wrote, page by page with one index range scan, and answers
 * exactly what the store-backed listing answered for the same objects.
 */

/** Every listing a contestant might ask for, through both doors. */
const QUERIES: { prefix?: string; delimiter?: string; limit: number }[] = [
  { limit: 1 },
  { limit: 2 },
  { limit: 1000 },
  { prefix: 'train/', limit: 3 },
  { prefix: 'train/caf', limit: 1 },
  { prefix: 'train/s', limit: 1000 },
  { prefix: 'test/', limit: 1000 },
  { prefix: 'labels/', limit: 1000 },
  { delimiter: '/', limit: 1000 },
  { prefix: 'train/', delimiter: '/', limit: 1 },
  { prefix: 'train/', delimiter: '.', limit: 2 },
  { prefix: 'nothing/', limit: 5 },
];

type Page = { objects: { key: string; size: number; etag: string }[]; commonPrefixes?: string[]; nextCursor: string | null };

/** All pages of one query through the REST door, as the team sees them. */
async function restPages(f: Fixture, token: string, q: (typeof QUERIES)[number]): Promise<Page[]> {
  const pages: Page[] = [];
  let cursor: string | null = null;
  do {
    const params = new URLSearchParams({ limit: String(q.limit) });
    if (q.prefix !== undefined) params.set('prefix', q.prefix);
    if (q.delimiter !== undefined) params.set('delimiter', q.delimiter);
    if (cursor !== null) params.set('cursor', cursor);
    const r = await rawRequest(f.gateway.sandboxUrl, 'GET', `/v1/datasets/${DATASET}/objects?${params.toString()}`, bearer(token));
    expect(r.status).toBe(200);
    const page = JSON.parse(r.body.toString()) as Page;
    pages.push({ ...page, nextCursor: page.nextCursor === null ? null : 'more' });
    cursor = page.nextCursor;
  } while (cursor !== null && pages.length < 50);
  return pages;
}

/** All pages of one query through the S3 door (ListObjectsV2). */
async function s3Pages(client: S3Client, q: (typeof QUERIES)[number]): Promise<unknown[]> {
  const pages: unknown[] = [];
  let token: string | undefined;
  do {
    const r = await client.send(
      new ListObjectsV2Command({ Bucket: DATASET, Prefix: q.prefix, Delimiter: q.delimiter, MaxKeys: q.limit, ContinuationToken: token }),
    );
    pages.push({
      keys: (r.Contents ?? []).map((o) => [o.Key, o.Size, o.ETag]),
      prefixes: (r.CommonPrefixes ?? []).map((p) => p.Prefix),
      truncated: r.IsTruncated,
    });
    token = r.IsTruncated === true ? r.NextContinuationToken : undefined;
  } while (token !== undefined && pages.length < 50);
  return pages;
}

async function everything(f: Fixture, client: S3Client): Promise<unknown> {
  const out: unknown[] = [];
  for (const q of QUERIES)
    out.push({ q, alpha: await restPages(f, f.alpha.token, q), beta: await restPages(f, f.beta.token, q), s3: await s3Pages(client, q) });
  return out;
}

async function indexDataset(f: Fixture): Promise<void> {
  const admin = f.gateway.get(DatasetAdminService);
  await admin.startIndex({ kind: 'user', sub: 'olga', role: 'organizer', team: null } as never, DATASET, {
    requestId: 'test',
    listener: 'internal',
  });
  for (let i = 0; i < 200; i++) {
    const run = await admin.latestRun(DATASET);
    if (run.state === 'done') return;
    if (run.state === 'failed') throw new Error(`index run failed: ${run.error}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('index run did not finish');
}

describe.each(DB_KINDS)('listings from the dataset index on %s', (db: DbKind) => {
  let f: Fixture;
  let alpha: S3Client;
  beforeAll(async () => {
    f = await startFixture({ db });
    alpha = new S3Client({
      endpoint: f.gateway.sandboxUrl,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: f.alpha.accessKeyId, secretAccessKey: f.alpha.secretAccessKey },
      maxAttempts: 1,
    });
  });
  afterAll(async () => {
    alpha?.destroy();
    await f?.stop();
  });

  it('answers every listing exactly as the store-backed listing did, once the dataset is indexed', async () => {
    const fromStore = await everything(f, alpha);
    await indexDataset(f);
    expect((await f.gateway.get(DatasetRepository).get(DATASET))?.objectIndexRun).toEqual(expect.any(String));
    // The index, not the store: an object put behind the gateway is not listed until the next run.
    const store = f.gateway.get(ObjectStore);
    const bucket = (await f.gateway.get(DatasetRepository).get(DATASET))!.bucket;
    await store.put(bucket, `${DATASET}/train/zz-later.bin`, Buffer.from('later'));
    expect(await everything(f, alpha)).toEqual(fromStore);
  });

  it('follows the bucket at the next index run: new objects listed, removed ones gone', async () => {
    const store = f.gateway.get(ObjectStore);
    const bucket = (await f.gateway.get(DatasetRepository).get(DATASET))!.bucket;
    await store.put(bucket, `${DATASET}/train/zz-later.bin`, Buffer.from('later'));
    await store.delete(bucket, `${DATASET}/train/empty.bin`);
    await indexDataset(f);
    const [page] = await restPages(f, f.alpha.token, { prefix: 'train/', limit: 1000 });
    const keys = page.objects.map((o) => o.key);
    expect(keys).toContain('train/zz-later.bin');
    expect(keys).not.toContain('train/empty.bin');
    expect(page.objects.find((o) => o.key === 'train/zz-later.bin')).toMatchObject({ size: 5 });
  });

  it('should not list an empty index for a dataset indexed before the object index existed (an upgrade)', async () => {
    // As migration 0021 leaves a dataset indexed by an older version: indexed_at set, no object index run.
    await f.db.query('UPDATE datasets SET object_index_run = NULL WHERE id = $1', [DATASET]);
    await f.db.query('DELETE FROM dataset_objects WHERE dataset_id = $1', [DATASET]);
    await new Promise((r) => setTimeout(r, 1100)); // the datasets cache
    const [page] = await restPages(f, f.alpha.token, { prefix: 'train/', limit: 1000 });
    expect(page.objects.map((o) => o.key)).toContain('train/scan-1.raw');
    expect(page.objects.map((o) => o.key)).toContain('train/zz-later.bin');
    await indexDataset(f);
  });

  it('should not list another team’s split from the index', async () => {
    const [beta] = await restPages(f, f.beta.token, { limit: 1000 });
    expect(beta.objects.map((o) => o.key).every((k) => k.startsWith('test/'))).toBe(true);
    const [alphaPage] = await restPages(f, f.alpha.token, { prefix: 'test/', limit: 1000 });
    expect(alphaPage.objects).toEqual([]);
  });
});

describe.each(DB_KINDS)('a listing page is one bounded index scan on %s', (kind: DbKind) => {
  let db: Database;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    ({ db, drop } = await openTestDatabase(kind));
    await migrate(db);
    await db.query("INSERT INTO datasets (id, bucket, prefix, title, created_at, created_by) VALUES ('big', 'b', '', 't', now(), 'test')");
    await db.query(
      `INSERT INTO dataset_objects (dataset_id, key, size, etag)
       SELECT 'big', 'train/scan-' || lpad(g::text, 6, '0') || '.raw', g, 'e' FROM generate_series(1, 20000) g`,
    );
    await db.query('ANALYZE dataset_objects');
  });
  afterAll(async () => {
    await drop();
  });

  it('reads the page and one more row, not the dataset, for a page in the middle of 20,000 keys', async () => {
    const { sql, params } = listingQuery({
      table: 'dataset_objects',
      modifiedColumn: 'last_modified',
      dataset: 'big',
      prefix: 'train/',
      startAfter: 'train/scan-010000.raw',
      max: 10,
    });
    const plan = (await db.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${sql}`, params)).rows[0][
      'QUERY PLAN'
    ];
    const nodes: { 'Node Type': string; 'Actual Rows': number; Plans?: unknown[] }[] = [];
    const walk = (n: { 'Node Type': string; 'Actual Rows': number; Plans?: unknown[] }) => {
      nodes.push(n);
      for (const c of n.Plans ?? []) walk(c as typeof n);
    };
    walk((Array.isArray(plan) ? plan : JSON.parse(plan as string))[0].Plan);
    const scan = nodes.find((n) => /Scan/.test(n['Node Type']))!;
    expect(scan['Node Type']).toMatch(/Index/);
    expect(scan['Actual Rows']).toBeLessThanOrEqual(11);
    // Started at the cursor, not at the prefix: a few index and heap pages, not the 10,000 keys before it.
    expect((scan as unknown as { 'Shared Hit Blocks': number })['Shared Hit Blocks']).toBeLessThanOrEqual(8);
    const { rows } = await db.query<{ key: string }>(sql, params);
    expect(rows.map((r) => r.key)).toEqual(Array.from({ length: 11 }, (_, i) => `train/scan-${String(10001 + i).padStart(6, '0')}.raw`));
  });

  it('orders keys by their UTF-8 bytes, as S3 does, whatever the database collation', async () => {
    const keys = ['x/B', 'x/a', 'x/é', 'x/\u{1F600}', 'x/\uFF5E', 'x/z', 'x/Z'];
    // A database whose default collation is linguistic (both test databases default to C).
    await db.query('ALTER TABLE dataset_objects ALTER COLUMN key TYPE text COLLATE "und-x-icu"');
    expect(
      (await db.query<{ k: string }>("SELECT k FROM unnest(ARRAY['x/B', 'x/a']::text[] COLLATE \"und-x-icu\") k ORDER BY k")).rows[0].k,
    ).toBe('x/a');
    await db.query("INSERT INTO dataset_objects (dataset_id, key, size, etag) SELECT 'big', k, 1, 'e' FROM unnest($1::text[]) k", [keys]);
    const { sql, params } = listingQuery({
      table: 'dataset_objects',
      modifiedColumn: 'last_modified',
      dataset: 'big',
      prefix: 'x/',
      startAfter: undefined,
      max: 100,
    });
    const { rows } = await db.query<{ key: string }>(sql, params);
    expect(rows.map((r) => r.key)).toEqual([...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
  });
});

describe('prefixEnd', () => {
  it('bounds exactly the strings that start with the prefix, in UTF-8 byte order', () => {
    const utf8 = (s: string) => Buffer.from(s, 'utf8');
    const samples = ['', 'a', 'a/', 'a/b', 'a0', 'b', 'a\u{10FFFF}', 'a\u{10FFFF}z', 'a\uD7FF', 'a\uE000', 'a\uD7FFx', '\u{10FFFF}'];
    for (const prefix of ['a', 'a/', 'a\uD7FF', 'a\u{10FFFF}', 'é']) {
      const end = prefixEnd(prefix)!;
      for (const s of [...samples, ...samples.map((x) => prefix + x)]) {
        const inside = Buffer.compare(utf8(s), utf8(prefix)) >= 0 && Buffer.compare(utf8(s), utf8(end)) < 0;
        expect([s, inside]).toEqual([s, s.startsWith(prefix)]);
      }
    }
    expect(prefixEnd('')).toBeUndefined();
    expect(prefixEnd('\u{10FFFF}')).toBeUndefined();
  });
});
