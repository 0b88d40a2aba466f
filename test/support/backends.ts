import { randomBytes } from 'node:crypto';
import { PgliteDatabase } from '../../src/db/pglite.database';
import { PostgresDatabase } from '../../src/db/postgres.database';
import { type Database } from '../../src/db/database';

export type DbKind = 'pglite' | 'postgres';

/** PostgreSQL runs when CAGE_TEST_DATABASE_URL is set (CI sets it); otherwise it is skipped, loudly. */
export const POSTGRES_URL = process.env.CAGE_TEST_DATABASE_URL;
export const DB_KINDS: DbKind[] = POSTGRES_URL === undefined ? ['pglite'] : ['pglite', 'postgres'];

if (POSTGRES_URL === undefined) {
  process.stderr.write(
    '\n*** SKIPPED: the PostgreSQL suites. Set CAGE_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test to run them. ***\n\n',
  );
}

/** An S3 server other than the embedded s3rver (CI: Ceph RGW), when CAGE_TEST_S3_ENDPOINT is set. */
export const EXTERNAL_S3 =
  process.env.CAGE_TEST_S3_ENDPOINT === undefined
    ? undefined
    : {
        endpoint: process.env.CAGE_TEST_S3_ENDPOINT,
        accessKeyId: process.env.CAGE_TEST_S3_ACCESS_KEY_ID ?? '',
        secretAccessKey: process.env.CAGE_TEST_S3_SECRET_ACCESS_KEY ?? '',
        region: process.env.CAGE_TEST_S3_REGION ?? 'us-east-1',
      };

export type S3Kind = 's3rver' | 'external';
export const S3_KINDS: S3Kind[] = EXTERNAL_S3 === undefined ? ['s3rver'] : ['s3rver', 'external'];

if (EXTERNAL_S3 === undefined) {
  process.stderr.write('\n*** SKIPPED: object-store suites against Ceph RGW. Set CAGE_TEST_S3_ENDPOINT (see .ci/run). ***\n\n');
}

/** A fresh database: PGlite in memory, or a new schema in the test PostgreSQL (dropped by drop()). */
export async function openTestDatabase(kind: DbKind): Promise<{ db: Database; drop: () => Promise<void> }> {
  if (kind === 'pglite') {
    const db = await PgliteDatabase.open(undefined);
    return { db, drop: () => db.close() };
  }
  if (POSTGRES_URL === undefined) throw new Error('CAGE_TEST_DATABASE_URL is not set');
  const schema = `cage_test_${randomBytes(6).toString('hex')}`;
  const db = await PostgresDatabase.open(POSTGRES_URL, schema);
  return {
    db,
    drop: async () => {
      await db.close();
      const admin = await PostgresDatabase.open(POSTGRES_URL);
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.close();
    },
  };
}
