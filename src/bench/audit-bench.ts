import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { type AuditLeaf } from '../audit/audit-leaf';
import { MerkleStore } from '../audit/merkle-store.repository';
import { AuditWriter } from '../audit/audit-writer.service';
import { type Database } from '../db/database';
import { migrate } from '../db/migrator';
import { PgliteDatabase } from '../db/pglite.database';
import { PostgresDatabase } from '../db/postgres.database';
import { onCleanup, tempDir } from './processes';
import { type FigureResult, type RowId, skipped } from './report';
import { distribution, fmt, nowNs, nsToMs } from './stats';

/**
 * Figure 6: durable audit appends per second through the group-commit AuditWriter, with the
 * gateway's settings (maxBatch 512, no added delay), many appends in flight. append() resolves
 * only once its leaf is committed, so completed appends per second is committed leaves per second.
 */

type Pair = [RowId, RowId];

export const PGLITE_ROWS: Pair = [
  { id: 'audit-pglite', figure: '6a. durable audit appends, PGlite', target: '≥ 2,000 appends/s' },
  { id: 'audit-pglite-spread', figure: '6b. same, arrivals spread as in the gateway', target: '≥ 2,000 appends/s' },
];
export const POSTGRES_ROWS: Pair = [
  { id: 'audit-postgres', figure: '6c. durable audit appends, PostgreSQL', target: '≥ 5,000 appends/s' },
  { id: 'audit-postgres-spread', figure: '6d. same, arrivals spread as in the gateway', target: '≥ 5,000 appends/s' },
];

const TOTAL = 20_000;
const IN_FLIGHT = 1000;
const WARMUP = 2000;
const SPREAD_TOTAL = 5000;
const SINGLE = 300;
/** Appends alone after the process idled `IDLE_MS`, as for a lone request: how a cold commit costs. */
const IDLE_SINGLE = 100;
const IDLE_MS = 10;

function leaf(i: number): AuditLeaf {
  return {
    v: 1,
    time: new Date().toISOString(),
    requestId: randomUUID(),
    principal: 'job:3f1c2a9e-bench',
    team: 'demo',
    listener: 'sandbox',
    action: 'read',
    decision: 'allow',
    status: 200,
    resource: { type: 'object', dataset: 'lung-demo', keyHex: Buffer.from(`train/scan-${i % 500}.raw`).toString('hex') },
    range: null,
    policies: ['grant:7d1e0c52-5b8e-4f0e-9a57-0e6f3c1b9a11'],
    policySet: 'a'.repeat(64),
    bytes: 4096,
    sha256: null,
    detail: null,
  };
}

/**
 * How appends arrive. burst: all issued from one callback (the writer sees a full queue).
 * spread: each issued from its own event-loop callback, as requests reach the data plane from
 * separate socket events; a database that commits without yielding to the event loop then
 * sees one leaf per transaction.
 */
type Arrival = 'burst' | 'spread';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** `count` appends with at most `inFlight` pending; returns committed leaves per second. */
async function appendRun(
  writer: AuditWriter,
  count: number,
  inFlight: number,
  arrival: Arrival,
): Promise<{ perSecond: number; elapsedMs: number }> {
  let next = 0;
  let committed = 0;
  const indexes = new Set<number>();
  const t0 = nowNs();
  const worker = async () => {
    while (next < count) {
      const i = next++;
      if (arrival === 'spread') await nextTurn();
      const r = await writer.append(leaf(i));
      indexes.add(r.index);
      committed += 1;
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, worker));
  const elapsedNs = nowNs() - t0;
  if (committed !== count || indexes.size !== count)
    throw new Error(`audit run: ${committed} committed, ${indexes.size} distinct indexes, ${count} expected`);
  return { perSecond: count / (elapsedNs / 1e9), elapsedMs: elapsedNs / 1e6 };
}

interface AuditRuns {
  burst: { perSecond: number; elapsedMs: number };
  spread: { perSecond: number; elapsedMs: number };
  singleP50Ms: number;
  idleSingleP50Ms: number;
  rows: number;
}

async function measure(db: Database): Promise<AuditRuns> {
  await migrate(db);
  // With the Merkle tree extended in the same transaction, as the gateway appends.
  const writer = new AuditWriter(db, { maxBatch: 512, maxDelayMs: 0 }, new MerkleStore(db));
  await appendRun(writer, WARMUP, IN_FLIGHT, 'burst');
  const burst = await appendRun(writer, TOTAL, IN_FLIGHT, 'burst');
  const spread = await appendRun(writer, SPREAD_TOTAL, IN_FLIGHT, 'spread');
  const single: number[] = [];
  for (let i = 0; i < SINGLE; i++) {
    const t0 = nowNs();
    await writer.append(leaf(i));
    single.push(nsToMs(nowNs() - t0));
  }
  const idle: number[] = [];
  for (let i = 0; i < IDLE_SINGLE; i++) {
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const t0 = nowNs();
    await writer.append(leaf(SINGLE + i));
    idle.push(nsToMs(nowNs() - t0));
  }
  await writer.close();
  const { rows } = await db.query<{ n: string | number }>('SELECT count(*) AS n FROM audit_leaves');
  return {
    burst,
    spread,
    singleP50Ms: distribution(single).p50,
    idleSingleP50Ms: distribution(idle).p50,
    rows: Number(rows[0]?.n ?? 0),
  };
}

function rows(ids: Pair, target: number, r: AuditRuns, extra: Record<string, string | number>): FigureResult[] {
  const expected = WARMUP + TOTAL + SPREAD_TOTAL + SINGLE + IDLE_SINGLE;
  const common = {
    unit: 'appends/s',
    inFlight: IN_FLIGHT,
    maxBatch: 512,
    singleAppendP50Ms: r.singleP50Ms,
    idleSingleAppendP50Ms: r.idleSingleP50Ms,
    idleMs: IDLE_MS,
    rowsInTable: r.rows,
    ...extra,
  };
  const single = `one append alone: p50 ${fmt(r.singleP50Ms, 2)} ms back to back, ${fmt(r.idleSingleP50Ms, 2)} ms after ${IDLE_MS} ms idle`;
  return [
    {
      ...ids[0],
      measured: `${fmt(r.burst.perSecond, 0)} appends/s (${TOTAL.toLocaleString('en-US')} appends, ${IN_FLIGHT.toLocaleString('en-US')} in flight, issued at once)`,
      direct: single,
      pass: r.rows === expected && r.burst.perSecond >= target,
      values: { ...common, arrival: 'burst', appends: TOTAL, appendsPerSecond: r.burst.perSecond, elapsedMs: r.burst.elapsedMs },
    },
    {
      ...ids[1],
      measured: `${fmt(r.spread.perSecond, 0)} appends/s (${SPREAD_TOTAL.toLocaleString('en-US')} appends, ${IN_FLIGHT.toLocaleString('en-US')} in flight, one per event-loop turn)`,
      direct: `burst: ${fmt(r.burst.perSecond, 0)} appends/s`,
      pass: r.rows === expected && r.spread.perSecond >= target,
      values: { ...common, arrival: 'spread', appends: SPREAD_TOTAL, appendsPerSecond: r.spread.perSecond, elapsedMs: r.spread.elapsedMs },
    },
  ];
}

export async function pgliteAuditFigures(): Promise<FigureResult[]> {
  const db = await PgliteDatabase.open(join(tempDir('cage-bench-pglite-'), 'pglite'));
  try {
    return rows(PGLITE_ROWS, 2000, await measure(db), { database: 'PGlite (in-process, temp dir)' });
  } finally {
    await db.close();
  }
}

export async function postgresAuditFigures(): Promise<FigureResult[]> {
  const url = process.env.CAGE_TEST_DATABASE_URL;
  if (url === undefined || url === '') return POSTGRES_ROWS.map((r) => skipped(r, 'CAGE_TEST_DATABASE_URL is not set'));
  const schema = `bench_${randomBytes(6).toString('hex')}`;
  const db = await PostgresDatabase.open(url, schema);
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await db.close();
  };
  onCleanup(drop);
  try {
    const settings = await db.query<{ name: string; setting: string }>(
      "SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'server_version')",
    );
    const s = Object.fromEntries(settings.rows.map((r) => [r.name, r.setting]));
    const r = await measure(db);
    return rows(POSTGRES_ROWS, 5000, r, {
      database: `PostgreSQL ${s.server_version ?? '?'} (loopback, schema ${schema}, dropped after)`,
      fsync: s.fsync ?? '?',
      synchronousCommit: s.synchronous_commit ?? '?',
    });
  } finally {
    await drop();
  }
}
