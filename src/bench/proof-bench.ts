import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { type AuditLeaf, canonicalJson, leafHash } from '../audit/audit-leaf';
import { MerkleStore } from '../audit/merkle-store.repository';
import { type ReferenceMemo, referenceRoot } from '../audit/merkle/reference';
import { nodesForConsistency, nodesForInclusion, nodesForRoot, verifyConsistency, verifyInclusion } from '../audit/merkle/rfc6962';
import { type Database } from '../db/database';
import { migrate } from '../db/migrator';
import { PgliteDatabase } from '../db/pglite.database';
import { PostgresDatabase } from '../db/postgres.database';
import { onCleanup, tempDir } from './processes';
import { type FigureResult, type RowId, skipped } from './report';
import { distribution, fmt, nowNs, nsToMs } from './stats';

/**
 * Figure 8: tree heads and proofs from a log of 1 M leaves. The log is filled in batches of
 * BATCH leaves, each one transaction that inserts the rows as AuditWriter does and extends the
 * MerkleStore in the same transaction. Then, one call at a time: root(n), inclusion(random
 * index, n) and consistency(random from, n), each timed, and each answer checked against roots
 * computed by the naive reference implementation (reference.ts, which shares no code with the
 * store) and with verifyInclusion / verifyConsistency. Node rows read per call come from the
 * nodesFor* plans the store queries, to show they grow as O(log n). No target: the figure
 * passes when every answer verified.
 */

export const PROOF_PGLITE_ROW: RowId = { id: 'proofs-pglite', figure: '8a. audit proofs at 1 M leaves, PGlite', target: 'O(log n); —' };
export const PROOF_POSTGRES_ROW: RowId = {
  id: 'proofs-postgres',
  figure: '8b. audit proofs at 1 M leaves, PostgreSQL',
  target: 'O(log n); —',
};

const LEAVES = 1_000_000;
const BATCH = 10_000;
const SAMPLES = 500;
const WARMUP = 20;
/** The reference memo keeps subtrees of at least this many leaves, so any prefix's root costs < 2·MEMO_MIN hashes. */
const MEMO_MIN = 1024;

function leaf(i: number): AuditLeaf {
  return {
    v: 1,
    time: new Date().toISOString(),
    requestId: randomUUID(),
    principal: `job:bench-${i % 97}`,
    team: 'demo',
    listener: 'sandbox',
    action: 'read',
    decision: i % 50 === 0 ? 'deny' : 'allow',
    status: i % 50 === 0 ? 403 : 200,
    resource: { type: 'object', dataset: 'lung-demo', keyHex: Buffer.from(`train/scan-${i % 5000}.raw`).toString('hex') },
    range: null,
    policies: ['grant:7d1e0c52-5b8e-4f0e-9a57-0e6f3c1b9a11'],
    policySet: 'a'.repeat(64),
    bytes: 4096,
    sha256: null,
    detail: null,
  };
}

/** Fills the log; returns every leaf hash, in order. */
async function fill(db: Database, tree: MerkleStore): Promise<Buffer[]> {
  const hashes: Buffer[] = [];
  for (let base = 0; base < LEAVES; base += BATCH) {
    const leaves = Array.from({ length: Math.min(BATCH, LEAVES - base) }, (_, i) => leaf(base + i));
    const bytes = leaves.map((l) => canonicalJson(l));
    const batch = bytes.map((b) => leafHash(Buffer.from(b, 'utf8')));
    await db.transaction(async (tx) => {
      // The writer's INSERT, with the index given instead of read under the advisory lock.
      await tx.query(
        `INSERT INTO audit_leaves (idx, leaf, leaf_hash, time, request_id, principal, team, action, decision)
         SELECT $1::bigint + u.ord - 1, u.leaf, decode(u.hash, 'hex'), u.time, u.rid, u.principal, u.team, u.action, u.decision
         FROM unnest($2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
           WITH ORDINALITY AS u(leaf, hash, time, rid, principal, team, action, decision, ord)`,
        [
          base,
          bytes,
          batch.map((h) => h.toString('hex')),
          ...(['time', 'requestId', 'principal', 'team', 'action', 'decision'] as const).map((k) => leaves.map((l) => l[k])),
        ],
      );
      await tree.extend(tx, base, batch);
    });
    hashes.push(...batch);
  }
  return hashes;
}

interface Kind {
  ms: number[];
  nodes: number[];
  failures: number;
}

/**
 * `SAMPLES` timed store calls (after WARMUP untimed ones), each for an argument from `pick`; only
 * `call` is timed, `check` (did the answer verify?) and `nodes` (node rows planned) are not.
 */
async function sample<T>(
  pick: () => number,
  call: (x: number) => Promise<T>,
  check: (x: number, r: T) => boolean,
  nodes: (x: number) => number,
  errors: string[],
): Promise<Kind> {
  const k: Kind = { ms: [], nodes: [], failures: 0 };
  for (let i = 0; i < WARMUP + SAMPLES; i++) {
    const x = pick();
    const t0 = nowNs();
    let ok = false;
    try {
      const r = await call(x);
      const ms = nsToMs(nowNs() - t0);
      ok = check(x, r);
      if (i >= WARMUP) k.ms.push(ms);
    } catch (err) {
      errors.push(`${(err as Error).message} (argument ${x})`);
    }
    if (i < WARMUP) continue;
    k.nodes.push(nodes(x));
    if (!ok) k.failures += 1;
  }
  return k;
}

async function measure(db: Database, row: RowId, database: string): Promise<FigureResult> {
  await migrate(db);
  const tree = new MerkleStore(db);
  const t0 = nowNs();
  const hashes = await fill(db, tree);
  const fillMs = nsToMs(nowNs() - t0);
  const inTree = await tree.size();
  if (inTree !== LEAVES) throw new Error(`the tree holds ${inTree} leaves after the fill, ${LEAVES} expected`);
  const nodeRows = Number((await db.query<{ n: string | number }>('SELECT count(*) AS n FROM audit_nodes')).rows[0]?.n ?? 0);

  // Reference roots, computed from the leaf hashes alone.
  const kept = new Map<string, Buffer>();
  const memo: ReferenceMemo = {
    get: (key) => kept.get(key),
    set: (key, h) => {
      const [a, b] = key.split(':').map(Number);
      if ((b ?? 0) - (a ?? 0) >= MEMO_MIN) kept.set(key, h);
    },
  };
  const n = LEAVES;
  const root = referenceRoot(hashes, memo);
  const errors: string[] = [];
  const rootNodes = nodesForRoot(n).length;

  const roots = await sample(
    () => n,
    (size) => tree.root(size),
    (_, r) => r.equals(root),
    () => rootNodes,
    errors,
  );
  const inclusions = await sample(
    () => randomInt(n),
    (index) => tree.inclusion(index, n),
    (index, p) => p.leafHash.equals(hashes[index]) && p.root.equals(root) && verifyInclusion(hashes[index], index, n, p.proof, root),
    (index) => nodesForInclusion(index, n).length + rootNodes + 1,
    errors,
  );
  const consistencies = await sample(
    () => 1 + randomInt(n - 1),
    (from) => tree.consistency(from, n),
    (from, p) => {
      const fromRoot = referenceRoot(hashes.slice(0, from), memo);
      return p.fromRoot.equals(fromRoot) && p.toRoot.equals(root) && verifyConsistency(from, n, fromRoot, root, p.proof);
    },
    (from) => nodesForConsistency(from, n).length + nodesForRoot(from).length + rootNodes,
    errors,
  );

  const kinds = { root: roots, inclusion: inclusions, consistency: consistencies };
  const failures = roots.failures + inclusions.failures + consistencies.failures;
  const values: Record<string, number | string | null> = {
    database,
    leaves: n,
    auditNodesRows: nodeRows,
    fillBatch: BATCH,
    fillMs,
    fillLeavesPerSecond: n / (fillMs / 1000),
    samplesPerKind: SAMPLES,
    failures,
    log2Leaves: Math.log2(n),
    errors: errors.length,
    firstError: errors[0] ?? null,
  };
  const parts: string[] = [];
  const nodeParts: string[] = [];
  for (const [name, k] of Object.entries(kinds)) {
    const d = distribution(k.ms);
    const nodes = distribution(k.nodes);
    Object.assign(values, {
      [`${name}P50Ms`]: d.p50,
      [`${name}P99Ms`]: d.p99,
      [`${name}NodesMean`]: nodes.mean,
      [`${name}NodesMax`]: nodes.max,
      [`${name}Failures`]: k.failures,
    });
    parts.push(`${name} p50 ${fmt(d.p50, 2)} / p99 ${fmt(d.p99, 2)} ms`);
    nodeParts.push(`${name} ${nodes.max === nodes.p50 ? fmt(nodes.max, 0) : `${fmt(nodes.p50, 0)}–${fmt(nodes.max, 0)}`}`);
  }
  const total = 3 * SAMPLES;
  return {
    ...row,
    measured: `${parts.join('; ')}; ${failures === 0 ? `all ${total.toLocaleString('en-US')} verified` : `${failures} of ${total.toLocaleString('en-US')} did NOT verify`}`,
    direct: `node rows per call (p50–max): ${nodeParts.join(', ')}; log2 n = ${fmt(Math.log2(n), 1)}; fill ${fmt(fillMs / 1000, 1)} s`,
    pass: failures === 0,
    values,
  };
}

export async function pgliteProofFigure(): Promise<FigureResult> {
  const db = await PgliteDatabase.open(join(tempDir('cage-bench-proofs-'), 'pglite'));
  try {
    return await measure(db, PROOF_PGLITE_ROW, 'PGlite (in-process, temp dir)');
  } finally {
    await db.close();
  }
}

export async function postgresProofFigure(): Promise<FigureResult> {
  const url = process.env.CAGE_TEST_DATABASE_URL;
  if (url === undefined || url === '') return skipped(PROOF_POSTGRES_ROW, 'CAGE_TEST_DATABASE_URL is not set');
  const schema = `bench_${randomBytes(6).toString('hex')}`;
  const db = await PostgresDatabase.open(url, schema);
  let dropping: Promise<void> | undefined;
  const drop = () => (dropping ??= db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).finally(() => db.close()));
  onCleanup(drop);
  try {
    const { rows } = await db.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    return await measure(db, PROOF_POSTGRES_ROW, `PostgreSQL ${rows[0]?.v ?? '?'} (loopback, schema ${schema}, dropped after)`);
  } finally {
    await drop();
  }
}
