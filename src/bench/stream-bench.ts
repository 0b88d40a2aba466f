import { concurrently, type Fetched } from './http-load';
import { processCpuUs, processRssBytes } from './processes';
import { type FigureResult, type RowId } from './report';
import { type BenchObject, type Rig, storeCpuUs } from './rig';
import { fmt, GiB, median, MiB, pct } from './stats';

/**
 * Figures 2 and 5: large objects. Streaming throughput through the gateway against the direct
 * S3 client on the same store in the same run (64 MiB at 1 and 16 concurrent streams, 1 GiB at
 * one; median of several rounds, gateway and direct alternating), and the gateway's RSS growth
 * while it streams 1 GiB.
 */

export const STREAM_ROWS: [RowId, RowId, RowId] = [
  { id: 'stream-1', figure: '2a. 64 MiB stream throughput, 1 stream', target: '≥ 95 % of direct' },
  { id: 'stream-16', figure: '2b. 64 MiB stream throughput, 16 streams', target: '≥ 90 % of direct' },
  { id: 'stream-1gib', figure: '2c. 1 GiB stream throughput, 1 stream', target: '≥ 95 % of direct' },
];
export const RSS_ROW: RowId = { id: 'rss-1gib', figure: '5. gateway RSS growth streaming 1 GiB', target: '≤ 64 MiB growth' };

function check(o: BenchObject, results: Fetched[]): void {
  for (const f of results) {
    if (f.status !== 200 || f.bytes !== o.size) throw new Error(`stream of ${o.key}: status ${f.status}, ${f.bytes} of ${o.size} bytes`);
  }
}

interface Throughput {
  gatewayMiBs: number;
  directMiBs: number;
  ratio: number;
  /** CPU seconds per GiB delivered, per process, on each path: where the cores went. */
  cpuPerGiB: { viaGateway: { gateway: number; s3rver: number; client: number }; direct: { s3rver: number; client: number } };
  rounds: number;
}

/** CPU (µs) of the gateway, s3rver and this process, for deltas around a run. */
function cpuNow(rig: Rig): { gateway: number; s3rver: number; client: number } {
  const me = process.cpuUsage();
  return { gateway: processCpuUs(rig.gateway.pid), s3rver: storeCpuUs(rig), client: me.user + me.system };
}

function cpuDelta(a: ReturnType<typeof cpuNow>, b: ReturnType<typeof cpuNow>, acc: ReturnType<typeof cpuNow>): void {
  acc.gateway += b.gateway - a.gateway;
  acc.s3rver += b.s3rver - a.s3rver;
  acc.client += b.client - a.client;
}

async function throughput(rig: Rig, o: BenchObject, streams: number, rounds: number): Promise<Throughput> {
  const bytes = streams * o.size;
  const gwRates: number[] = [];
  const dRates: number[] = [];
  const gwCpu = { gateway: 0, s3rver: 0, client: 0 };
  const dCpu = { gateway: 0, s3rver: 0, client: 0 };
  const viaGateway = () => rig.gw.get(rig.dataset, o.key);
  const viaDirect = () => rig.direct.get(rig.bucket, o.s3Key);
  // One unmeasured round each: warm sockets, JIT, page cache.
  check(o, (await concurrently(streams, viaGateway)).results);
  check(o, (await concurrently(streams, viaDirect)).results);
  for (let r = 0; r < rounds; r++) {
    // Alternate which goes first, so neither always runs on a warmer (or hotter) machine.
    const order = r % 2 === 0 ? (['gw', 'direct'] as const) : (['direct', 'gw'] as const);
    for (const which of order) {
      const cpu0 = cpuNow(rig);
      const run = await concurrently(streams, which === 'gw' ? viaGateway : viaDirect);
      cpuDelta(cpu0, cpuNow(rig), which === 'gw' ? gwCpu : dCpu);
      check(o, run.results);
      (which === 'gw' ? gwRates : dRates).push(bytes / MiB / (run.elapsedNs / 1e9));
    }
  }
  const gatewayMiBs = median(gwRates);
  const directMiBs = median(dRates);
  const perGiB = (us: number) => Math.round((us / 1e6 / ((rounds * bytes) / GiB)) * 1000) / 1000;
  return {
    gatewayMiBs,
    directMiBs,
    ratio: gatewayMiBs / directMiBs,
    cpuPerGiB: {
      viaGateway: { gateway: perGiB(gwCpu.gateway), s3rver: perGiB(gwCpu.s3rver), client: perGiB(gwCpu.client) },
      direct: { s3rver: perGiB(dCpu.s3rver), client: perGiB(dCpu.client) },
    },
    rounds,
  };
}

const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);

export async function throughputFigures(rig: Rig): Promise<FigureResult[]> {
  const out: FigureResult[] = [];
  const runs: [RowId, BenchObject, number, number, number][] = [
    [STREAM_ROWS[0], rig.large, 1, 15, 0.95],
    [STREAM_ROWS[1], rig.large, 16, 5, 0.9],
  ];
  if (rig.huge !== undefined) runs.push([STREAM_ROWS[2], rig.huge, 1, 3, 0.95]);
  for (const [row, o, streams, rounds, target] of runs) {
    const t = await throughput(rig, o, streams, rounds);
    out.push({
      ...row,
      measured: `${fmt(t.gatewayMiBs, 0)} MiB/s via gateway (median of ${rounds})`,
      direct: `direct ${fmt(t.directMiBs, 0)} MiB/s → ${pct(t.ratio)}; all-process CPU ${fmt(sum(t.cpuPerGiB.viaGateway), 2)} vs ${fmt(sum(t.cpuPerGiB.direct), 2)} s/GiB`,
      pass: t.ratio >= target,
      values: {
        unit: 'MiB/s',
        streams,
        objectBytes: o.size,
        rounds,
        gatewayMiBs: t.gatewayMiBs,
        directMiBs: t.directMiBs,
        ratio: t.ratio,
        gatewayCpuSecondsPerGiB: t.cpuPerGiB.viaGateway.gateway,
        viaGatewayS3rverCpuSecondsPerGiB: t.cpuPerGiB.viaGateway.s3rver,
        viaGatewayClientCpuSecondsPerGiB: t.cpuPerGiB.viaGateway.client,
        directS3rverCpuSecondsPerGiB: t.cpuPerGiB.direct.s3rver,
        directClientCpuSecondsPerGiB: t.cpuPerGiB.direct.client,
      },
    });
  }
  return out;
}

const RSS_SAMPLE_MS = 50;

export async function rssFigure(rig: Rig): Promise<FigureResult> {
  const o = rig.huge;
  if (o === undefined) throw new Error('figure 5 needs the 1 GiB object (the rig on its own s3rver)');
  const pid = rig.gateway.pid;
  // Let the gateway settle (timers, pending frees) before taking the baseline.
  await new Promise((r) => setTimeout(r, 500));
  const before = processRssBytes(pid);
  let max = before;
  let samples = 0;
  const timer = setInterval(() => {
    try {
      max = Math.max(max, processRssBytes(pid));
      samples += 1;
    } catch {
      // the gateway is gone; the GET below reports it
    }
  }, RSS_SAMPLE_MS);
  let f: Fetched;
  try {
    f = await rig.gw.get(rig.dataset, o.key);
  } finally {
    clearInterval(timer);
  }
  max = Math.max(max, processRssBytes(pid));
  check(o, [f]);
  const growth = max - before;
  return {
    ...RSS_ROW,
    measured: `+${fmt(growth / MiB, 1)} MiB (before ${fmt(before / MiB, 0)} MiB, max ${fmt(max / MiB, 0)} MiB; ${fmt(o.size / MiB / (f.totalNs / 1e9), 0)} MiB/s)`,
    direct: '',
    pass: growth <= 64 * MiB,
    values: {
      unit: 'MiB',
      objectBytes: o.size,
      rssBeforeMiB: before / MiB,
      rssMaxMiB: max / MiB,
      growthMiB: growth / MiB,
      samples,
      sampleEveryMs: RSS_SAMPLE_MS,
      downloadSeconds: f.totalNs / 1e9,
    },
  };
}
