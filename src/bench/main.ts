import 'reflect-metadata';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import { EGRESS_ROW, egressFigure } from './egress-bench';
import { LIST_ROW, listFigure } from './list-bench';
import { PGLITE_ROWS, pgliteAuditFigures, POSTGRES_ROWS, postgresAuditFigures } from './audit-bench';
import { POLICY_ROW, policyFigure } from './policy-bench';
import { PROOF_PGLITE_ROW, PROOF_POSTGRES_ROW, pgliteProofFigure, postgresProofFigure } from './proof-bench';
import { createBenchDatabase } from './bench-database';
import { cleanupAll, installCleanupHandlers } from './processes';
import { failed, type FigureResult, machine, machineLine, type RowId, table, writeJson } from './report';
import { SMALL_ONE_ROW, SMALL_ROW, smallGetFigure, smallGetOneFigure, TTFB_ROW, ttfbFigure } from './request-bench';
import { type ExternalStore, type Rig, startRig } from './rig';
import { S3RANGE_ROWS, s3RangeFigures } from './s3-range-bench';
import { RSS_ROW, rssFigure, STREAM_ROWS, throughputFigures } from './stream-bench';

/**
 * `npm run bench`: the one place where Cage's speed is measured against its targets. Prints one
 * table (and writes it as JSON to $CAGE_BENCH_OUT when set). CAGE_BENCH_ONLY=policy,audit,proofs,
 * ttfb,rss,small,egress,stream,s3range,list picks figures; CAGE_BENCH_GATEWAY_CPU_PROF=<dir> runs the
 * gateway under --cpu-prof; CAGE_BENCH_GATEWAY_NODE_ARGS adds node/V8 flags to the gateway
 * process. Exits 0 when every figure was measured (met or not), 1 when one could not be.
 */

const log = (msg: string) => process.stderr.write(`bench: ${msg}\n`);

interface Spec {
  key: string;
  ids: RowId[];
  run: (rig: Rig | undefined) => Promise<FigureResult[]>;
  needsRig: boolean;
}

const specs: Spec[] = [
  { key: 'policy', needsRig: false, ids: [POLICY_ROW], run: () => Promise.resolve([policyFigure()]) },
  { key: 'ttfb', needsRig: true, ids: [TTFB_ROW], run: async (r) => [await ttfbFigure(need(r))] },
  { key: 'rss', needsRig: true, ids: [RSS_ROW], run: async (r) => [await rssFigure(need(r))] },
  {
    key: 'small',
    needsRig: true,
    ids: [SMALL_ROW, SMALL_ONE_ROW],
    run: async (r) => [await smallGetFigure(need(r)), await smallGetOneFigure(need(r))],
  },
  { key: 'egress', needsRig: true, ids: [EGRESS_ROW], run: async (r) => [await egressFigure(need(r))] },
  { key: 'stream', needsRig: true, ids: STREAM_ROWS, run: (r) => throughputFigures(need(r)) },
  { key: 's3range', needsRig: true, ids: S3RANGE_ROWS, run: (r) => s3RangeFigures(need(r)) },
  // Last of the rig's figures: it adds 10,000 keys to the demo dataset.
  { key: 'list', needsRig: true, ids: [LIST_ROW], run: async (r) => [await listFigure(need(r), log)] },
  {
    key: 'audit',
    needsRig: false,
    ids: [...PGLITE_ROWS, ...POSTGRES_ROWS],
    run: async () => [...(await attempt(pgliteAuditFigures, PGLITE_ROWS)), ...(await attempt(postgresAuditFigures, POSTGRES_ROWS))],
  },
  {
    key: 'proofs',
    needsRig: false,
    ids: [PROOF_PGLITE_ROW, PROOF_POSTGRES_ROW],
    run: async () => [
      ...(await attempt(async () => [await pgliteProofFigure()], [PROOF_PGLITE_ROW])),
      ...(await attempt(async () => [await postgresProofFigure()], [PROOF_POSTGRES_ROW])),
    ],
  },
];

/** CAGE_TEST_S3_ENDPOINT's store (CI: Ceph RGW on loopback), when set. */
function externalStore(): ExternalStore | undefined {
  const endpoint = process.env.CAGE_TEST_S3_ENDPOINT;
  if (endpoint === undefined || endpoint === '') return undefined;
  return {
    name: 'Ceph RGW',
    endpoint,
    accessKeyId: process.env.CAGE_TEST_S3_ACCESS_KEY_ID ?? '',
    secretAccessKey: process.env.CAGE_TEST_S3_SECRET_ACCESS_KEY ?? '',
    region: process.env.CAGE_TEST_S3_REGION ?? 'us-east-1',
  };
}

/** A row measured against the external store: its own id and a figure name that says so. */
function onStore<T extends RowId>(row: T): T {
  return { ...row, id: `${row.id}-ceph`, figure: `${row.figure} (Ceph RGW)` };
}

/** A row measured with the gateway on PostgreSQL: its own id, and a target that counts the server's CPU too. */
function onPostgres<T extends RowId>(row: T): T {
  const target = row.target.startsWith('CPU ') ? `gateway + PostgreSQL ${row.target}` : row.target;
  return { ...row, id: `${row.id}-postgres`, figure: `${row.figure} (gateway on PostgreSQL)`, target };
}

/** The per-request figures with the gateway as production runs it: on PostgreSQL (CAGE_TEST_DATABASE_URL). */
async function postgresFigures(adminUrl: string, keys: string[]): Promise<{ rows: FigureResult[]; database: string }> {
  const database = await createBenchDatabase(adminUrl);
  let rig: Rig;
  try {
    rig = await startRig(log, { database });
  } catch (err) {
    await database.drop().catch(() => undefined);
    throw err;
  }
  const out: FigureResult[] = [];
  try {
    if (keys.includes('ttfb')) out.push(await ttfbFigure(rig));
    if (keys.includes('small')) out.push(await smallGetFigure(rig), await smallGetOneFigure(rig));
    if (keys.includes('s3range')) out.push(...(await s3RangeFigures(rig)));
  } finally {
    // A failing stop is reported; it does not throw away the figures measured before it.
    await rig.stop().catch((err: Error) => log(`stopping the PostgreSQL rig: ${err.message}`));
  }
  return { rows: out.map(onPostgres), database: `${database.describe}, database ${database.name} (dropped after)` };
}

async function cephFigures(store: ExternalStore, keys: string[]): Promise<FigureResult[]> {
  const rig = await startRig(log, { external: store });
  try {
    const out: FigureResult[] = [];
    if (keys.includes('ttfb')) out.push(await ttfbFigure(rig));
    if (keys.includes('small')) out.push(await smallGetFigure(rig), await smallGetOneFigure(rig));
    if (keys.includes('stream')) out.push(...(await throughputFigures(rig)));
    return out.map(onStore);
  } finally {
    await rig.stop();
  }
}

/** Some figures, or their failure rows: figures that break do not take their neighbours along. */
async function attempt(fn: () => Promise<FigureResult[]>, ids: RowId[]): Promise<FigureResult[]> {
  try {
    return await fn();
  } catch (err) {
    log(`${ids.map((i) => i.id).join(', ')} failed: ${(err as Error).stack ?? String(err)}`);
    return ids.map((i) => failed(i, err));
  }
}

function need(rig: Rig | undefined): Rig {
  if (rig === undefined) throw new Error('the gateway is not running');
  return rig;
}

const MAX_RESTARTS = 3;
const ORDER = ['policy', 'audit', 'proofs', 'ttfb', 'rss', 'small', 'egress', 'stream', 's3range', 'list'];

async function main(): Promise<number> {
  installCleanupHandlers();
  const only = (process.env.CAGE_BENCH_ONLY ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const chosen = ORDER.filter((k) => only.length === 0 || only.includes(k)).map((k) => specs.find((s) => s.key === k) as Spec);
  const m = machine();
  process.stdout.write(`${machineLine(m)}\n`);

  const rows: FigureResult[] = [];
  const incidents: string[] = [];
  let rig: Rig | undefined;
  let rigError: unknown;
  let restarts = 0;
  let policyNote: string | undefined;
  const ensureRig = async (): Promise<Rig | undefined> => {
    if (rig !== undefined && rig.gateway.exited() !== undefined && restarts < MAX_RESTARTS) {
      // A crashed gateway is reported (below the table), then replaced so the figures still run.
      restarts += 1;
      log('the gateway died; starting a fresh rig');
      await rig.stop();
      rig = undefined;
    }
    if (rig === undefined && rigError === undefined) {
      try {
        log('starting s3rver and the gateway');
        rig = await startRig(log);
        policyNote = rig.policyNote;
      } catch (err) {
        rigError = err;
      }
    }
    return rig;
  };

  for (const spec of chosen) {
    // A figure during which the gateway crashed is measured again on a fresh gateway (once).
    for (let attemptNo = 1; attemptNo <= 2; attemptNo++) {
      if (spec.needsRig && (await ensureRig()) === undefined) {
        const why = rigError === undefined ? 'the gateway keeps crashing' : `gateway rig did not start: ${(rigError as Error).message}`;
        for (const i of spec.ids) rows.push(failed(i, new Error(why)));
        break;
      }
      log(`measuring ${spec.key}${attemptNo > 1 ? ' (again, on a fresh gateway)' : ''}`);
      let result: FigureResult[];
      try {
        result = await spec.run(rig);
      } catch (err) {
        log(`${spec.key} failed: ${(err as Error).stack ?? String(err)}`);
        if (rig !== undefined) log(`the gateway's last output:\n${rig.gateway.tail() || '(none)'}`);
        // A crash shows first as a reset connection; give the exit a moment to be reaped.
        await rig?.gateway.settle(2000);
        const died = rig?.gateway.exited();
        result = spec.ids.map((i) => failed(i, died === undefined ? err : new Error(`gateway crashed: ${died}`)));
      }
      const died = spec.needsRig ? rig?.gateway.exited() : undefined;
      if (died === undefined) {
        rows.push(...result);
        break;
      }
      incidents.push(`GATEWAY CRASHED (pid ${rig?.gateway.pid}) during "${spec.key}" (attempt ${attemptNo}): ${died}`);
      if (attemptNo === 2 || restarts >= MAX_RESTARTS) {
        rows.push(...result.map((r) => (r.values.error === undefined ? failed(r, new Error(`gateway crashed: ${died}`)) : r)));
        break;
      }
    }
  }

  // One gateway at a time on the two cores: the s3rver rig goes before the others start.
  await rig?.stop();

  // The per-request and stream figures again with the gateway and the direct clients on Ceph RGW.
  const ceph = externalStore();
  const onCeph = ['ttfb', 'small', 'stream'].filter((k) => chosen.some((s) => s.key === k));
  if (ceph !== undefined && onCeph.length > 0) {
    log(`starting a gateway on ${ceph.name} (${ceph.endpoint}) for ${onCeph.join(', ')}`);
    const ids = [TTFB_ROW, SMALL_ROW, SMALL_ONE_ROW, ...STREAM_ROWS.slice(0, 2)].map(onStore);
    rows.push(...(await attempt(() => cephFigures(ceph, onCeph), ids)));
  }

  // The per-request figures again with the gateway on PostgreSQL, as production runs it.
  const pgUrl = process.env.CAGE_TEST_DATABASE_URL;
  const onPg = ['ttfb', 'small', 's3range'].filter((k) => chosen.some((s) => s.key === k));
  let pgNote: string | undefined;
  if (pgUrl !== undefined && pgUrl !== '' && onPg.length > 0) {
    log(`starting a gateway on PostgreSQL for ${onPg.join(', ')}`);
    const ids = [TTFB_ROW, SMALL_ROW, SMALL_ONE_ROW, ...S3RANGE_ROWS].map(onPostgres);
    rows.push(
      ...(await attempt(async () => {
        const r = await postgresFigures(pgUrl, onPg);
        pgNote = r.database;
        return r.rows;
      }, ids)),
    );
  }

  const notes = [
    ...incidents,
    `processes: s3rver, gateway and this client are separate processes sharing ${availableParallelism()} cores; gateway CPU (all its threads) is read from /proc/<pid>/stat (CLK_TCK ${m.clkTck}), RSS from VmRSS`,
    `gateway: node --no-turbo-inline-js-wasm-calls ${relative(process.cwd(), join(__dirname, '..', 'main.js'))}, CAGE_DEMO=1, PGlite in a temp dir, CAGE_LOG_LEVEL=warn, so access logging was OFF (access lines are info-level)`,
    "direct: the gateway's own ObjectStore (its lean GET: SigV4 by the SDK's signer over an undici keep-alive pool; the SDK client for everything else), from this process to the same store; time to first byte and small GETs: presigned GETs over node:http",
    'gateway client: node:http keep-alive agent, and an undici pool for the stream figures (the same HTTP client as the direct side, which spends less CPU per GiB than node:http); bodies are consumed fully and counted, never buffered (figure 7 reads its small JSON receipts whole)',
  ];
  if (policyNote !== undefined) notes.push(policyNote);
  if (rows.some((r) => r.id.endsWith('-ceph')))
    notes.push(
      `(Ceph RGW) rows: a second gateway on CAGE_TEST_S3_ENDPOINT (${ceph?.endpoint ?? '?'}), direct clients to the same RGW; its CPU is radosgw's when found, not the OSDs'`,
    );
  if (pgNote !== undefined)
    notes.push(
      `(gateway on PostgreSQL) rows: another gateway with CAGE_DATABASE_URL on ${pgNote}, s3rver as the store; in 4 and 4b the CPU of that database's backends and of the server's WAL writer, checkpointer and background writer is counted per request next to the gateway's (9a/9b: the gateway's alone)`,
    );
  if (rig?.profileDir !== undefined) notes.push(`gateway CPU profile (--cpu-prof) written to ${rig.profileDir} at shutdown`);

  log('stopping children');
  await cleanupAll();

  process.stdout.write(`\n${table(rows)}\n\n`);
  for (const n of notes) process.stdout.write(`note: ${n}\n`);
  const measured = rows.filter((r) => r.pass !== null);
  process.stdout.write(`${measured.filter((r) => r.pass === true).length} of ${measured.length} targets met\n`);
  const out = process.env.CAGE_BENCH_OUT;
  if (out !== undefined && out !== '') {
    writeJson(out, m, notes, rows);
    process.stdout.write(`results written to ${out}\n`);
  }
  return rows.some((r) => r.values.error !== undefined) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`bench: ${err.stack ?? err.message}\n`);
    void cleanupAll().finally(() => process.exit(1));
  },
);
