import { closedLoop, type Fetched } from './http-load';
import { processCpuUs } from './processes';
import { type FigureResult, type RowId } from './report';
import { type Rig, storeCpuUs } from './rig';
import { distribution, fmt, nsToMs } from './stats';

/**
 * Figures 3 and 4: per-request costs of the gateway on a small object. Time to first byte
 * added over a direct S3 read (sequential requests), and authorized, audited small GETs under
 * concurrency: requests per second and the gateway process's CPU time per request.
 */

export const TTFB_ROW: RowId = { id: 'ttfb-added', figure: '3. added time to first byte, 4 KiB GET', target: 'added p50 ≤ 2 ms' };
export const SMALL_ROW: RowId = { id: 'small-get', figure: '4. 4 KiB authorized+audited GET, 64 concurrent', target: 'CPU ≤ 300 µs/req' };
export const SMALL_ONE_ROW: RowId = { id: 'small-get-1', figure: '4b. same, 1 client', target: 'CPU ≤ 300 µs/req' };

const TTFB_WARMUP = 50;
const TTFB_SAMPLES = 400;
const CONCURRENCY = 64;
const LOAD_WARMUP_MS = 1000;
const LOAD_MS = 5000;

export async function ttfbFigure(rig: Rig): Promise<FigureResult> {
  const { gw, presigned, small } = rig;
  const gwGet = () => gw.get(rig.dataset, small.key);
  // The leanest direct client: a presigned GET over node:http (the SDK adds about 0.9 ms itself).
  const directGet = () => presigned.get(rig.bucket, small.s3Key);
  // The floor: the same presigned GET through a bare HTTP relay (no framework, credential, policy or audit).
  const relayGet = () => rig.httpRelay.client.get(rig.bucket, small.s3Key);
  for (let i = 0; i < TTFB_WARMUP; i++) {
    await gwGet();
    await directGet();
    await relayGet();
  }
  const g: number[] = [];
  const d: number[] = [];
  const h: number[] = [];
  let bad = 0;
  // Interleaved, one request at a time, so all three see the same machine state.
  for (let i = 0; i < TTFB_SAMPLES; i++) {
    const a = await gwGet();
    const b = await directGet();
    const c = await relayGet();
    if ([a, b, c].some((f) => f.status !== 200 || f.bytes !== small.size)) bad += 1;
    g.push(nsToMs(a.ttfbNs));
    d.push(nsToMs(b.ttfbNs));
    h.push(nsToMs(c.ttfbNs));
  }
  const gd = distribution(g);
  const dd = distribution(d);
  const hd = distribution(h);
  const added = gd.p50 - dd.p50;
  return {
    ...TTFB_ROW,
    measured: `+${fmt(added, 2)} ms p50 (gateway p50 ${fmt(gd.p50, 2)} ms, p99 ${fmt(gd.p99, 2)} ms)${bad === 0 ? '' : `; ${bad} wrong answers`}`,
    direct: `presigned GET over node:http p50 ${fmt(dd.p50, 2)} ms, p99 ${fmt(dd.p99, 2)} ms; bare HTTP relay adds ${fmt(hd.p50 - dd.p50, 2)} ms p50`,
    pass: bad === 0 && added <= 2,
    values: {
      unit: 'ms',
      samples: TTFB_SAMPLES,
      addedP50: added,
      gatewayP50: gd.p50,
      gatewayP90: gd.p90,
      gatewayP99: gd.p99,
      directP50: dd.p50,
      directP90: dd.p90,
      directP99: dd.p99,
      addedP99: gd.p99 - dd.p99,
      httpRelayP50: hd.p50,
      httpRelayAddedP50: hd.p50 - dd.p50,
      badResponses: bad,
    },
  };
}

/**
 * The floor: the same read presigned through a bare HTTP relay (node:http + undici, nothing else)
 * at `concurrency` clients, and that relay's CPU per request.
 */
async function httpRelayFloor(rig: Rig, concurrency: number): Promise<{ rps: number; cpuUsPerReq: number; errors: number }> {
  const ok = (f: Fetched) => f.status === 200 && f.bytes === rig.small.size;
  const get = () => rig.httpRelay.client.get(rig.bucket, rig.small.s3Key);
  await closedLoop(concurrency, LOAD_WARMUP_MS, get, ok);
  const cpu0 = processCpuUs(rig.httpRelay.pid);
  const r = await closedLoop(concurrency, LOAD_MS, get, ok);
  const cpu = processCpuUs(rig.httpRelay.pid) - cpu0;
  return { rps: r.ok / (r.elapsedNs / 1e9), cpuUsPerReq: cpu / Math.max(1, r.ok + r.errors), errors: r.errors };
}

export async function smallGetFigure(rig: Rig): Promise<FigureResult> {
  const { gw, direct, small } = rig;
  const ok = (f: Fetched) => f.status === 200 && f.bytes === small.size;
  const gwGet = () => gw.get(rig.dataset, small.key);
  await closedLoop(CONCURRENCY, LOAD_WARMUP_MS, gwGet, ok);

  const dbCpu = await rig.database?.serverCpu();
  const gwCpu0 = processCpuUs(rig.gateway.pid);
  const s3Cpu0 = storeCpuUs(rig);
  const me0 = process.cpuUsage();
  const g = await closedLoop(CONCURRENCY, LOAD_MS, gwGet, ok);
  const gwCpu = processCpuUs(rig.gateway.pid) - gwCpu0;
  const s3Cpu = storeCpuUs(rig) - s3Cpu0;
  const me = process.cpuUsage(me0);
  const db = perRequest(await dbCpu?.(), g);
  const gwRps = g.ok / (g.elapsedNs / 1e9);
  const cpuPerReq = gwCpu / Math.max(1, g.ok + g.errors);

  const directGet = () => direct.get(rig.bucket, small.s3Key);
  await closedLoop(CONCURRENCY, LOAD_WARMUP_MS, directGet, ok);
  const s3CpuD0 = storeCpuUs(rig);
  const meD0 = process.cpuUsage();
  const d = await closedLoop(CONCURRENCY, LOAD_MS, directGet, ok);
  const s3CpuD = storeCpuUs(rig) - s3CpuD0;
  const meD = process.cpuUsage(meD0);
  const dRps = d.ok / (d.elapsedNs / 1e9);
  const floor = await httpRelayFloor(rig, CONCURRENCY);

  const errors = g.errors === 0 ? '' : `, ${g.errors} errors (first: ${g.firstError ?? '?'})`;
  return {
    ...SMALL_ROW,
    measured: `${fmt(gwRps, 0)} req/s, gateway CPU ${fmt(cpuPerReq, 0)} µs/req${dbText(rig, db)}${errors}`,
    direct: `direct S3: ${fmt(dRps, 0)} req/s (gateway ${fmt((gwRps / dRps) * 100, 0)} %); bare HTTP relay ${fmt(floor.cpuUsPerReq, 0)} µs/req CPU, ${fmt(floor.rps, 0)} req/s`,
    pass: cpuPass(rig, g.errors, cpuPerReq, db),
    values: {
      unit: 'req/s; µs CPU per request',
      concurrency: CONCURRENCY,
      ...(db === undefined ? {} : { databaseCpuUsPerReq: db }),
      seconds: g.elapsedNs / 1e9,
      gatewayRequests: g.ok,
      gatewayErrors: g.errors,
      gatewayReqPerSec: gwRps,
      gatewayCpuUsPerReq: cpuPerReq,
      gatewayCpuCores: gwCpu / (g.elapsedNs / 1e3),
      s3rverCpuUsPerReqViaGateway: s3Cpu / Math.max(1, g.ok),
      clientCpuUsPerReq: (me.user + me.system) / Math.max(1, g.ok),
      directReqPerSec: dRps,
      directErrors: d.errors,
      s3rverCpuUsPerReqDirect: s3CpuD / Math.max(1, d.ok),
      // The S3 SDK's own cost per GetObject (+ node:http), which the gateway also pays per read.
      directClientCpuUsPerReq: (meD.user + meD.system) / Math.max(1, d.ok),
      httpRelayReqPerSec: floor.rps,
      httpRelayCpuUsPerReq: floor.cpuUsPerReq,
      httpRelayErrors: floor.errors,
    },
  };
}

/** Figure 4b: the same read one request at a time: nothing to batch, every fixed cost paid per request. */
export async function smallGetOneFigure(rig: Rig): Promise<FigureResult> {
  const { gw, presigned, small } = rig;
  const ok = (f: Fetched) => f.status === 200 && f.bytes === small.size;
  const gwGet = () => gw.get(rig.dataset, small.key);
  await closedLoop(1, LOAD_WARMUP_MS, gwGet, ok);
  const dbCpu = await rig.database?.serverCpu();
  const gwCpu0 = processCpuUs(rig.gateway.pid);
  const g = await closedLoop(1, LOAD_MS, gwGet, ok);
  const gwCpu = processCpuUs(rig.gateway.pid) - gwCpu0;
  const db = perRequest(await dbCpu?.(), g);
  const gwRps = g.ok / (g.elapsedNs / 1e9);
  const cpuPerReq = gwCpu / Math.max(1, g.ok + g.errors);
  const directGet = () => presigned.get(rig.bucket, small.s3Key);
  await closedLoop(1, LOAD_WARMUP_MS, directGet, ok);
  const d = await closedLoop(1, LOAD_MS, directGet, ok);
  const dRps = d.ok / (d.elapsedNs / 1e9);
  const floor = await httpRelayFloor(rig, 1);
  const errors = g.errors === 0 ? '' : `, ${g.errors} errors (first: ${g.firstError ?? '?'})`;
  return {
    ...SMALL_ONE_ROW,
    measured: `${fmt(gwRps, 0)} req/s, gateway CPU ${fmt(cpuPerReq, 0)} µs/req${dbText(rig, db)}${errors}`,
    direct: `presigned GET over node:http: ${fmt(dRps, 0)} req/s (gateway ${fmt((gwRps / dRps) * 100, 0)} %); bare HTTP relay ${fmt(floor.cpuUsPerReq, 0)} µs/req CPU, ${fmt(floor.rps, 0)} req/s`,
    pass: cpuPass(rig, g.errors, cpuPerReq, db),
    values: {
      unit: 'req/s; µs CPU per request',
      concurrency: 1,
      ...(db === undefined ? {} : { databaseCpuUsPerReq: db }),
      seconds: g.elapsedNs / 1e9,
      gatewayRequests: g.ok,
      gatewayErrors: g.errors,
      gatewayReqPerSec: gwRps,
      gatewayCpuUsPerReq: cpuPerReq,
      directReqPerSec: dRps,
      directErrors: d.errors,
      httpRelayReqPerSec: floor.rps,
      httpRelayCpuUsPerReq: floor.cpuUsPerReq,
      httpRelayErrors: floor.errors,
    },
  };
}

/**
 * The CPU target, held against the gateway's CPU plus, with the gateway on PostgreSQL, the
 * server's: not judged (null) when the server's could not be counted.
 */
function cpuPass(rig: Rig, errors: number, gatewayUs: number, databaseUs: number | undefined): boolean | null {
  if (rig.database !== undefined && databaseUs === undefined) return null;
  return errors === 0 && gatewayUs + (databaseUs ?? 0) <= 300;
}

/** The database server's CPU per request of a load run, when the gateway runs on PostgreSQL on this machine. */
function perRequest(cpuUs: number | undefined, run: { ok: number; errors: number }): number | undefined {
  return cpuUs === undefined ? undefined : cpuUs / Math.max(1, run.ok + run.errors);
}

/** With PostgreSQL the audit commit's CPU is in the server's processes: it is counted against the target too. */
function dbText(rig: Rig, db: number | undefined): string {
  if (rig.database === undefined) return '';
  return db === undefined ? ' (PostgreSQL CPU not counted: its processes are not readable here)' : ` + PostgreSQL ${fmt(db, 0)} µs/req`;
}
