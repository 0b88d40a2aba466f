#!/usr/bin/env node
// Copies the object-store buckets a Cage gateway uses into a directory, and back, through the S3
// API with the gateway's own client (@aws-sdk/client-s3). scripts/backup and scripts/restore call
// it when CAGE_S3_ENDPOINT is set (the embedded s3rver's files are copied as files instead).
//
//   node scripts/backup-objects.mjs backup <dir>
//   node scripts/backup-objects.mjs restore <dir> [--force]
//
// What is copied: the gateway's own buckets (cage-outbox, cage-held, cage-quarantine,
// cage-checkpoints) whole, and each registered dataset's bucket under its prefix (the datasets
// table: CAGE_DATABASE_URL, or the PGlite files under CAGE_DATA_DIR, read with the gateway
// stopped). <dir>/objects.jsonl lists every object (bucket, key, size, SHA-256, ETag, content
// type, file); the bytes are in <dir>/data/. Restore puts every object back, creating buckets;
// an object already there with the same size and ETag is skipped, a different one is an error
// unless --force. A restored object's ETag must equal the one backed up when that one is an MD5
// (single-part upload, as the gateway writes): ingested datasets serve only objects whose size
// and ETag match their manifest.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';

// The SDK's notice that its 2027 releases need Node 22 is for its developers, not for an operator's backup log.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const GATEWAY_BUCKETS = ['cage-outbox', 'cage-held', 'cage-quarantine', 'cage-checkpoints'];
const PARALLEL = 8;

function fail(message) {
  process.stderr.write(`backup-objects: ${message}\n`);
  process.exit(1);
}

function client() {
  const endpoint = process.env.CAGE_S3_ENDPOINT;
  if (!endpoint) fail('CAGE_S3_ENDPOINT is not set (the embedded s3rver is backed up as files by scripts/backup)');
  const accessKeyId = process.env.CAGE_S3_ACCESS_KEY_ID ?? 'S3RVER';
  const secretAccessKey = process.env.CAGE_S3_SECRET_ACCESS_KEY ?? 'S3RVER';
  return new S3Client({
    endpoint,
    region: process.env.CAGE_S3_REGION || 'us-east-1',
    forcePathStyle: !['0', 'false'].includes(process.env.CAGE_S3_FORCE_PATH_STYLE ?? '1'),
    credentials: { accessKeyId, secretAccessKey },
    // As the gateway's client: no aws-chunked upload framing (s3rver and some S3 services would
    // store the framing as the object's bytes); the bytes are checked by SHA-256 and ETag here.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** Dataset buckets and prefixes, from the gateway's database. */
async function datasetLocations() {
  if (process.env.CAGE_DATABASE_URL) {
    const { default: pg } = await import('pg');
    const db = new pg.Client({ connectionString: process.env.CAGE_DATABASE_URL });
    await db.connect();
    try {
      return (await db.query('SELECT bucket, prefix FROM datasets ORDER BY bucket, prefix')).rows;
    } finally {
      await db.end();
    }
  }
  const dir = join(resolve(process.env.CAGE_DATA_DIR || './.cage'), 'pglite');
  if (!existsSync(dir)) return [];
  const { PGlite } = await import('@electric-sql/pglite');
  const db = new PGlite(dir);
  try {
    return (await db.query('SELECT bucket, prefix FROM datasets ORDER BY bucket, prefix')).rows;
  } finally {
    await db.close();
  }
}

async function bucketExists(s3, bucket) {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return true;
  } catch (err) {
    if (err?.$metadata?.httpStatusCode === 404 || err?.name === 'NotFound' || err?.name === 'NoSuchBucket') return false;
    throw err;
  }
}

async function* listAll(s3, bucket, prefix) {
  let token;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix || undefined, ContinuationToken: token }));
    for (const o of page.Contents ?? []) yield o;
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

/** Runs `work` over `items`, PARALLEL at a time, in order of start. */
async function pool(items, work) {
  let next = 0;
  const runners = Array.from({ length: Math.min(PARALLEL, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await work(items[i], i);
    }
  });
  await Promise.all(runners);
}

function hasher(hash) {
  return new Transform({
    transform(chunk, _enc, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
}

async function backup(dir) {
  const s3 = client();
  const out = resolve(dir);
  mkdirSync(join(out, 'data'), { recursive: true, mode: 0o700 });
  const sources = [...GATEWAY_BUCKETS.map((bucket) => ({ bucket, prefix: '' })), ...(await datasetLocations())];
  const seen = new Set();
  const objects = [];
  for (const { bucket, prefix } of sources) {
    if (!(await bucketExists(s3, bucket))) {
      process.stderr.write(`backup-objects: bucket ${bucket} does not exist; nothing to copy from it\n`);
      continue;
    }
    for await (const o of listAll(s3, bucket, prefix)) {
      const id = `${bucket}\u0000${o.Key}`;
      if (seen.has(id)) continue;
      seen.add(id);
      objects.push({ bucket, key: o.Key });
    }
  }
  const lines = new Array(objects.length);
  await pool(objects, async ({ bucket, key }, i) => {
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const hash = createHash('sha256');
    const file = `data/${String(i).padStart(8, '0')}`;
    await pipeline(got.Body, hasher(hash), createWriteStream(join(out, file), { mode: 0o600 }));
    lines[i] = JSON.stringify({
      bucket,
      key,
      size: Number(got.ContentLength ?? 0),
      sha256: hash.digest('hex'),
      etag: got.ETag ?? '',
      contentType: got.ContentType ?? null,
      file,
    });
  });
  writeFileSync(join(out, 'objects.jsonl'), lines.map((l) => `${l}\n`).join(''), { mode: 0o600 });
  const buckets = new Set(objects.map((o) => o.bucket));
  process.stdout.write(`backed up ${objects.length} objects from ${buckets.size} buckets\n`);
}

async function restore(dir, force) {
  const s3 = client();
  const from = resolve(dir);
  const listFile = join(from, 'objects.jsonl');
  if (!existsSync(listFile)) fail(`${listFile} does not exist: not a backup written by this script`);
  const objects = readFileSync(listFile, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));
  for (const bucket of [...new Set([...GATEWAY_BUCKETS, ...objects.map((o) => o.bucket)])]) {
    if (await bucketExists(s3, bucket)) continue;
    try {
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    } catch (err) {
      if (err?.name !== 'BucketAlreadyOwnedByYou') throw err;
    }
  }
  // Look before writing anything: a restore over different objects is refused as a whole.
  const todo = [];
  const conflicts = [];
  await pool(objects, async (o) => {
    let head;
    try {
      head = await s3.send(new HeadObjectCommand({ Bucket: o.bucket, Key: o.key }));
    } catch (err) {
      if (err?.$metadata?.httpStatusCode !== 404 && err?.name !== 'NotFound') throw err;
    }
    if (head === undefined) return void todo.push(o);
    if (Number(head.ContentLength) === o.size && head.ETag === o.etag) return;
    if (force) return void todo.push(o);
    conflicts.push(`s3://${o.bucket}/${o.key}`);
  });
  if (conflicts.length > 0)
    fail(`${conflicts.length} object(s) already exist with other contents (--force overwrites), e.g. ${conflicts.slice(0, 3).join(', ')}`);
  const mismatched = [];
  await pool(todo, async (o) => {
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: o.bucket,
        Key: o.key,
        Body: createReadStream(join(from, o.file)),
        ContentLength: o.size,
        ContentType: o.contentType ?? undefined,
      }),
    );
    if (/^"[0-9a-f]{32}"$/.test(o.etag) && put.ETag !== o.etag)
      mismatched.push(`s3://${o.bucket}/${o.key} (${put.ETag} instead of ${o.etag})`);
  });
  if (mismatched.length > 0)
    fail(`${mismatched.length} restored object(s) have another ETag than before: ${mismatched.slice(0, 3).join(', ')}`);
  process.stdout.write(`restored ${todo.length} objects (${objects.length - todo.length} were already in place)\n`);
}

const [command, dir, ...rest] = process.argv.slice(2);
if (!dir || !['backup', 'restore'].includes(command)) fail('usage: backup-objects.mjs backup|restore <dir> [--force]');
const run = command === 'backup' ? backup(dir) : restore(dir, rest.includes('--force'));
run.catch((err) => fail(err?.message ?? String(err)));
