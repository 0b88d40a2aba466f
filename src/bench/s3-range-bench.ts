import { createHash } from 'node:crypto';
import { Agent as HttpAgent } from 'node:http';
import { type Readable } from 'node:stream';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { processCpuUs } from './processes';
import { type FigureResult, type RowId } from './report';
import { type BenchObject, type Rig } from './rig';
import { fmt, GiB, median, MiB, nowNs, pct } from './stats';

/**
 * Figure 9: random 1 MiB ranged GETs (what readers of chunked formats and parallel downloaders
 * issue) through the gateway's S3-compatible API against the same requests sent straight to
 * the store, same run, same range sequence, both with @aws-sdk/client-s3 configured alike. Each
 * range pays the gateway's whole per-request path (SigV4, policy, audit), so this is where the
 * S3 API's per-request cost shows against streaming. The design sets no target for this row;
 * it is held to the large-stream target at concurrency.
 */

export const S3RANGE_ROWS: [RowId, RowId] = [
  { id: 's3range-1', figure: '9a. 1 MiB ranged GETs via S3 API, 1 stream', target: '≥ 90 % of direct' },
  { id: 's3range-8', figure: '9b. 1 MiB ranged GETs via S3 API, 8 streams', target: '≥ 90 % of direct' },
];

const RANGE = MiB;
const TARGET = 0.9;
/** s3rver's fixed key pair (the rig's ObjectStore uses the same). */
const S3RVER_KEY = 'S3RVER';

/**
 * An S3 client like the gateway's ObjectStore (keep-alive, no GET checksums, which would read
 * whole objects ahead), but with one attempt: a refused request is reported, never retried away.
 */
function client(endpoint: string, region: string, accessKeyId: string, secretAccessKey: string): S3Client {
  return new S3Client({
    endpoint,
    region,
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: 60_000,
      requestTimeout: 60_000,
      httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 256 }),
    }),
  });
}

/** One side of the comparison: a client and the names it reads the bench object under. */
interface Side {
  label: 'gateway' | 'direct' | 'bare HTTP relay';
  s3: S3Client;
  bucket: string;
  key: string;
}

/** Deterministic range starts (mulberry32), so both sides read exactly the same ranges. */
function rangeStarts(seed: number, count: number, size: number): number[] {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  return Array.from({ length: count }, () => Math.floor(next() * (size - RANGE + 1)));
}

/** An SDK error with everything the server said (code, status, request id, extra XML fields). */
function described(side: Side, range: string, err: unknown): Error {
  const e = err as Error & { $metadata?: { httpStatusCode?: number; requestId?: string }; $response?: unknown };
  const extra = Object.entries(e)
    .filter(([k, v]) => !k.startsWith('$') && k !== 'message' && typeof v !== 'object')
    .map(([k, v]) => `${k}=${String(v)}`);
  const status = e.$metadata?.httpStatusCode ?? '?';
  return new Error(
    `${side.label} GET /${side.bucket}/${side.key} Range: ${range}: ${e.name} (HTTP ${status}, request ${e.$metadata?.requestId ?? '?'}): ${e.message}${extra.length > 0 ? ` [${extra.join(', ')}]` : ''}`,
  );
}

/** One ranged GET, body read to its end; hashed when asked (the sanity check), else only counted. */
async function getRange(
  side: Side,
  o: BenchObject,
  start: number,
  hash?: ReturnType<typeof createHash>,
): Promise<{ etag: string | undefined }> {
  const end = start + RANGE - 1;
  const range = `bytes=${start}-${end}`;
  let out;
  try {
    out = await side.s3.send(new GetObjectCommand({ Bucket: side.bucket, Key: side.key, Range: range }));
  } catch (err) {
    throw described(side, range, err);
  }
  const body = out.Body as Readable;
  const expected = `bytes ${start}-${end}/${o.size}`;
  if (out.$metadata.httpStatusCode !== 206 || out.ContentRange !== expected) {
    body.destroy();
    throw new Error(
      `${side.label} GET ${range}: HTTP ${out.$metadata.httpStatusCode ?? '?'}, Content-Range ${out.ContentRange ?? '-'} (expected 206, ${expected})`,
    );
  }
  const bytes = await new Promise<number>((resolve, reject) => {
    let n = 0;
    body.on('data', (chunk: Buffer) => {
      n += chunk.length;
      hash?.update(chunk);
    });
    body.once('end', () => resolve(n));
    body.once('error', reject);
  });
  if (bytes !== RANGE) throw new Error(`${side.label} GET ${range}: ${bytes} body bytes, expected ${RANGE}`);
  return { etag: out.ETag };
}

/** `streams` workers take ranges off one shared list until it is empty; returns the wall time. */
async function run(side: Side, o: BenchObject, streams: number, starts: number[]): Promise<number> {
  let next = 0;
  const worker = async () => {
    while (next < starts.length) await getRange(side, o, starts[next++]);
  };
  const t0 = nowNs();
  await Promise.all(Array.from({ length: streams }, worker));
  return nowNs() - t0;
}

/** Both sides must serve the same bytes and ETag for a range, or the comparison is meaningless. */
async function sameBytes(one: Side, other: Side, o: BenchObject): Promise<void> {
  const start = rangeStarts(1, 1, o.size)[0];
  const h1 = createHash('sha256');
  const h2 = createHash('sha256');
  const a = await getRange(one, o, start, h1);
  const b = await getRange(other, o, start, h2);
  const [d1, d2] = [h1.digest('hex'), h2.digest('hex')];
  if (d1 !== d2 || a.etag !== b.etag)
    throw new Error(
      `range at ${start}: ${one.label} sha256 ${d1} ETag ${a.etag ?? '-'}, ${other.label} sha256 ${d2} ETag ${b.etag ?? '-'}`,
    );
}

interface RangeThroughput {
  gatewayMiBs: number;
  directMiBs: number;
  relayMiBs: number;
  gatewayCpuSecondsPerGiB: number;
}

/** Every order of the three sides, one per round in turn: none always runs first, or always right after another. */
const ORDERS = [
  [0, 1, 2],
  [1, 2, 0],
  [2, 0, 1],
  [0, 2, 1],
  [2, 1, 0],
  [1, 0, 2],
];

/**
 * Median MiB/s of each side over `rounds` rounds of the same ranges, each round in another order
 * of the sides, so none always runs on a warmer (or hotter) machine.
 */
async function throughput(
  rig: Rig,
  sides: [gw: Side, direct: Side, relay: Side],
  streams: number,
  requests: number,
  rounds: number,
): Promise<RangeThroughput> {
  const o = rig.large;
  const rates = new Map<Side, number[]>(sides.map((s) => [s, []]));
  let gwCpuUs = 0;
  // Unmeasured round each: sockets (one per stream), JIT, page cache.
  // A few hundred requests of warm-up: the figure is the steady state, not V8 still compiling.
  for (const side of sides) await run(side, o, streams, rangeStarts(2, Math.max(200, streams * 4), o.size));
  for (let r = 0; r < rounds; r++) {
    const starts = rangeStarts(100 + r, requests, o.size);
    for (const i of ORDERS[r % ORDERS.length]) {
      const side = sides[i];
      const cpu0 = processCpuUs(rig.gateway.pid);
      const ns = await run(side, o, streams, starts);
      if (side === sides[0]) gwCpuUs += processCpuUs(rig.gateway.pid) - cpu0;
      rates.get(side)?.push((requests * RANGE) / MiB / (ns / 1e9));
    }
  }
  const [gw, direct, relay] = sides.map((s) => median(rates.get(s) ?? []));
  return {
    gatewayMiBs: gw,
    directMiBs: direct,
    relayMiBs: relay,
    gatewayCpuSecondsPerGiB: gwCpuUs / 1e6 / ((rounds * requests * RANGE) / GiB),
  };
}

export async function s3RangeFigures(rig: Rig): Promise<FigureResult[]> {
  const { endpoint, region, accessKeyId, secretAccessKey } = rig.s3Api;
  // Through the gateway the bucket is the dataset and the key is dataset-relative.
  const gw: Side = {
    label: 'gateway',
    s3: client(endpoint, region, accessKeyId, secretAccessKey),
    bucket: rig.dataset,
    key: rig.large.key,
  };
  const direct: Side = {
    label: 'direct',
    s3: client(rig.s3.endpoint, 'us-east-1', S3RVER_KEY, S3RVER_KEY),
    bucket: rig.bucket,
    key: rig.large.s3Key,
  };
  // The floor: the direct client's very requests through a bare HTTP relay (no framework, credential, policy or audit).
  const relay: Side = { ...direct, label: 'bare HTTP relay', s3: client(rig.httpRelay.endpoint, 'us-east-1', S3RVER_KEY, S3RVER_KEY) };
  try {
    await sameBytes(gw, direct, rig.large);
    await sameBytes(relay, direct, rig.large);
    const out: FigureResult[] = [];
    for (const [row, streams, requests, rounds] of [
      [S3RANGE_ROWS[0], 1, 96, 9],
      [S3RANGE_ROWS[1], 8, 192, 7],
    ] as const) {
      const t = await throughput(rig, [gw, direct, relay], streams, requests, rounds);
      const ratio = t.gatewayMiBs / t.directMiBs;
      const relayRatio = t.relayMiBs / t.directMiBs;
      out.push({
        ...row,
        measured: `${fmt(t.gatewayMiBs, 0)} MiB/s via gateway (median of ${rounds})`,
        direct: `direct ${fmt(t.directMiBs, 0)} MiB/s → ${pct(ratio)}; gateway CPU ${fmt(t.gatewayCpuSecondsPerGiB, 2)} s/GiB; bare HTTP relay ${fmt(t.relayMiBs, 0)} MiB/s (${pct(relayRatio)})`,
        pass: ratio >= TARGET,
        values: {
          unit: 'MiB/s',
          streams,
          rangeBytes: RANGE,
          objectBytes: rig.large.size,
          requestsPerRound: requests,
          rounds,
          gatewayMiBs: t.gatewayMiBs,
          directMiBs: t.directMiBs,
          ratio,
          relayMiBs: t.relayMiBs,
          relayRatio,
          gatewayCpuSecondsPerGiB: t.gatewayCpuSecondsPerGiB,
        },
      });
    }
    return out;
  } finally {
    gw.s3.destroy();
    direct.s3.destroy();
    relay.s3.destroy();
  }
}
