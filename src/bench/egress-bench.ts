import { randomBytes } from 'node:crypto';
import { parseMetaImageHeader, type WorldBoundingBox, worldBoundingBox } from '../datasets/metaimage-header';
import { type GatewayClient } from './http-load';
import { processCpuUs } from './processes';
import { type FigureResult, type RowId } from './report';
import { RAISED, ROWS, SAMPLES, WARMUP } from './bench-policies';
import { type Rig } from './rig';
import { distribution, fmt, nowNs, nsToMs } from './stats';

/**
 * Figure 7: a 10,000-row predictions file leaving through POST /v1/egress/predictions, end to
 * end as a contestant's job sees it (request start to the whole receipt): size cap, CSV check
 * against the test scans' boxes, canonical rewrite, information bits, policy decision with the
 * budget under the team lock, durable audit leaf, outbox write. Submitted one at a time; the
 * baseline is a direct S3 PutObject of as many bytes as the canonical artifact to the same
 * s3rver, which is the one store write a release needs.
 *
 * The demo's policies cannot release this file (500 rows per scan over 4 test scans, 5
 * predictions and 8,000,000 bits a day), so the gateway runs on a copy of ./policies with those
 * limits raised (preparePolicyDir); nothing else in the copy changes.
 */

export const EGRESS_ROW: RowId = {
  id: 'egress-predictions',
  figure: '7. 10,000-row predictions egress, end to end',
  target: 'p50 ≤ 150 ms',
};

const SEED = 0x5eed_c5a6;
const TARGET_P50_MS = 150;

/** Mulberry32: a small seeded generator, so every run submits the same file. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `rows` predictions spread evenly over the scans, coordinates uniform inside each box (with
 * three decimals, as a detector would print them; kept 1 µm inside so rounding cannot leave it),
 * probabilities with four decimals (the kind rounds them).
 */
export function predictionsCsv(scans: Map<string, WorldBoundingBox>, rows: number, seed: number): Buffer {
  const rand = seeded(seed);
  const uids = [...scans.keys()].sort();
  if (uids.length === 0) throw new Error('no test scans to predict on');
  const lines = ['seriesuid,coordX,coordY,coordZ,probability'];
  for (let i = 0; i < rows; i++) {
    const uid = uids[i % uids.length];
    const box = scans.get(uid) as WorldBoundingBox;
    const coord = (a: 0 | 1 | 2) => {
      const lo = box.min[a] + 0.001;
      const hi = box.max[a] - 0.001;
      return (lo + rand() * Math.max(0, hi - lo)).toFixed(3);
    };
    lines.push(`${uid},${coord(0)},${coord(1)},${coord(2)},${rand().toFixed(4)}`);
  }
  return Buffer.from(`${lines.join('\n')}\n`, 'utf8');
}

function json<T>(what: string, a: { status: number; body: Buffer }): T {
  if (a.status !== 200) throw new Error(`${what}: status ${a.status}: ${a.body.toString('utf8').slice(0, 200)}`);
  return JSON.parse(a.body.toString('utf8')) as T;
}

/** The test split's series and their world boxes, read as a job reads them: list, then each .mhd. */
export async function testScans(gw: GatewayClient, dataset: string): Promise<Map<string, WorldBoundingBox>> {
  const base = `/v1/datasets/${encodeURIComponent(dataset)}/objects`;
  const keys: string[] = [];
  let cursor: string | null = null;
  do {
    const q: string = `prefix=test%2F&limit=1000${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
    const page = json<{ objects: { key: string }[]; nextCursor: string | null }>('list test/', await gw.send('GET', `${base}?${q}`));
    keys.push(...page.objects.map((o) => o.key));
    cursor = page.nextCursor;
  } while (cursor !== null);
  const scans = new Map<string, WorldBoundingBox>();
  for (const key of keys) {
    const m = /^test\/(.+)\.mhd$/.exec(key);
    if (m?.[1] === undefined) continue;
    const a = await gw.send('GET', `${base}/${key.split('/').map(encodeURIComponent).join('/')}`);
    if (a.status !== 200) throw new Error(`GET ${key}: status ${a.status}`);
    scans.set(m[1], worldBoundingBox(parseMetaImageHeader(a.body.toString('utf8'))));
  }
  return scans;
}

interface Receipt {
  id: string;
  status: string;
  sha256: string;
  bits: number;
  bytes: number;
  auditIndex: number;
}

/** What went wrong with a submission, from its status and reason codes (never its content). */
function refusal(status: number, body: Buffer): string {
  try {
    const r = JSON.parse(body.toString('utf8')) as { reasons?: { code?: string; line?: number }[]; message?: string };
    const codes = (r.reasons ?? []).map((x) => `${x.code ?? '?'}${x.line === undefined ? '' : `@${x.line}`}`);
    return `status ${status}${codes.length > 0 ? ` (${codes.join(', ')})` : r.message === undefined ? '' : ` (${r.message.slice(0, 120)})`}`;
  } catch {
    return `status ${status}`;
  }
}

/** Runs one step of the figure; an error says which step it came from. */
async function during<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new Error(`${what}: ${(err as Error).message}`, { cause: err });
  }
}

export async function egressFigure(rig: Rig): Promise<FigureResult> {
  // Its own connections: the shared pool's sockets have idled past the gateway's keep-alive
  // timeout (5 s) during the previous figure's direct half, and reusing one races its close.
  const gw = rig.gw.fresh();
  try {
    return await measureEgress(rig, gw);
  } finally {
    gw.close();
  }
}

async function measureEgress(rig: Rig, gw: GatewayClient): Promise<FigureResult> {
  const { store, bucket } = rig;
  const scans = await during('reading the test scans', () => testScans(gw, rig.dataset));
  const csv = predictionsCsv(scans, ROWS, SEED);
  const path = '/v1/egress/predictions';
  const submit = () => gw.send('POST', path, csv, 'text/csv');

  // Warm-ups: JIT, sockets, caches; the first receipt gives the canonical size for the baseline.
  let receipt: Receipt | undefined;
  for (let i = 0; i < WARMUP; i++) {
    const a = await during(`warm-up submission ${i + 1}`, submit);
    if (a.status !== 201) throw new Error(`warm-up submission ${i + 1}: ${refusal(a.status, a.body)}`);
    receipt = JSON.parse(a.body.toString('utf8')) as Receipt;
  }
  if (receipt === undefined) throw new Error('no warm-up receipt');
  const canonical = randomBytes(receipt.bytes);
  let putNo = 0;
  const directPut = async () => {
    putNo += 1;
    const t0 = nowNs();
    await store.put(bucket, `bench/egress-direct/${putNo}.csv`, canonical, 'application/octet-stream', canonical.length);
    return nowNs() - t0;
  };
  for (let i = 0; i < WARMUP; i++) await during('direct PutObject', directPut);

  const g: number[] = [];
  const d: number[] = [];
  let gatewayCpuUs = 0;
  let bad = 0;
  let firstBad: string | undefined;
  const bits = new Set<number>();
  const sizes = new Set<number>();
  // Interleaved, one request at a time, so both see the same machine state.
  for (let i = 0; i < SAMPLES; i++) {
    const cpu0 = processCpuUs(rig.gateway.pid);
    const a = await during(`submission ${i + 1}`, submit);
    gatewayCpuUs += processCpuUs(rig.gateway.pid) - cpu0;
    g.push(nsToMs(a.totalNs));
    if (a.status === 201) {
      const r = JSON.parse(a.body.toString('utf8')) as Receipt;
      if (r.status !== 'released') {
        bad += 1;
        firstBad ??= `201 with status ${r.status}`;
      }
      bits.add(r.bits);
      sizes.add(r.bytes);
    } else {
      bad += 1;
      firstBad ??= refusal(a.status, a.body);
    }
    d.push(nsToMs(await during('direct PutObject', directPut)));
  }
  const gd = distribution(g);
  const dd = distribution(d);
  const bitsPerFile = receipt.bits;
  const failures = bad === 0 ? '' : `; ${bad} of ${SAMPLES} not released (first: ${firstBad ?? '?'})`;
  return {
    ...EGRESS_ROW,
    measured:
      `p50 ${fmt(gd.p50, 1)} ms, p99 ${fmt(gd.p99, 1)} ms, gateway CPU ${fmt(gatewayCpuUs / 1000 / SAMPLES, 0)} ms each (${SAMPLES} sequential, ${fmt(csv.length / 1024, 0)} KiB → ${fmt(receipt.bytes / 1024, 0)} KiB canonical; ` +
      `${ROWS.toLocaleString('en-US')} rows → ${fmt(bitsPerFile, 0)} bits, ${fmt(bitsPerFile / ROWS, 1)} bits/row)${failures}`,
    direct: `direct PutObject ${fmt(receipt.bytes / 1024, 0)} KiB: p50 ${fmt(dd.p50, 1)} ms, p99 ${fmt(dd.p99, 1)} ms (gateway ${fmt(gd.p50 / dd.p50, 1)}×)`,
    pass: bad === 0 && gd.p50 <= TARGET_P50_MS,
    values: {
      unit: 'ms',
      rows: ROWS,
      scans: scans.size,
      samples: SAMPLES,
      warmup: WARMUP,
      seed: SEED,
      submittedBytes: csv.length,
      canonicalBytes: receipt.bytes,
      bits: bitsPerFile,
      bitsPerRow: bitsPerFile / ROWS,
      distinctBitsValues: bits.size,
      distinctCanonicalSizes: sizes.size,
      notReleased: bad,
      firstNotReleased: firstBad ?? null,
      gatewayP50: gd.p50,
      gatewayP90: gd.p90,
      gatewayP99: gd.p99,
      gatewayMax: gd.max,
      gatewayMean: gd.mean,
      gatewayCpuMsPerSubmission: gatewayCpuUs / 1000 / SAMPLES,
      directPutP50: dd.p50,
      directPutP99: dd.p99,
      ratioP50: gd.p50 / dd.p50,
      maxCandidatesPerScan: RAISED.maxCandidatesPerScan,
      dailyPredictions: RAISED.dailyPredictions,
      dailyBits: RAISED.dailyBits,
    },
  };
}
