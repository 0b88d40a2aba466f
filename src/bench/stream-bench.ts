import { concurrently, type Fetched } from './http-load';
import { processCpuUs, processRssBytes } from './processes';
import { type FigureResult, type RowId } from './report';
import { type BenchObject, type Rig } from './rig';
import { fmt, GiB, median, MiB, pct } from './stats';

/**
 * Figures 2 and 5: large objects. Streaming throughput through the gateway against the direct
 * S3 client on the same store in the same run (1 and 16 concurrent streams, median of several
 * rounds, gateway and direct alternating), and the gateway's RSS growth while it streams 1 GiB.
 */

export const STREAM_ROWS: [RowId, RowId] = [
  { id: 'stream-1', figure: '2a. 64 MiB stream throughput, 1 stream', target: '≥ 95 % of direct' },
  { id: 'stream-16', figure: '2b. 64 MiB stream throughput, 16 streams', target: '≥ 90 % of direct' },
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
  gatewayCpuSecPerGiB: number;
  rounds: number;
}

async function throughput(rig: Rig, streams: number, rounds: number): Promise<Throughput> {
  const o = rig.large;
  const bytes = streams * o.size;
  const gwRates: number[] = [];
  const dRates: number[] = [];
  let gwCpuUs = 0;
  const viaGateway = () => rig.gw.get(rig.dataset, o.key);
  const viaDirect = () => rig.direct.get(rig.bucket, o.s3Key);
  // One unmeasured round each: warm sockets, JIT, page cache.
  check(o, (await concurrently(streams, viaGateway)).results);
  check(o, (await concurrently(streams, viaDirect)).results);
  for (let r = 0; r < rounds; r++) {
    // Alternate which goes first, so neither always runs on a warmer (or hotter) machine.
    const order = r % 2 === 0 ? (['gw', 'direct'] as const) : (['direct', 'gw'] as const);
    for (const which of order) {
      if (which === 'gw') {
        const cpu0 = processCpuUs(rig.gateway.pid);
        const run = await concurrently(streams, viaGateway);
        gwCpuUs += processCpuUs(rig.gateway.pid) - cpu0;
        check(o, run.results);
        gwRates.push(bytes / MiB / (run.elapsedNs / 1e9));
      } else {
        const run = await concurrently(streams, viaDirect);
        check(o, run.results);
        dRates.push(bytes / MiB / (run.elapsedNs / 1e9));
      }
    }
  }
  const gatewayMiBs = median(gwRates);
  const directMiBs = median(dRates);
  return { gatewayMiBs, directMiBs, ratio: gatewayMiBs / directMiBs, gatewayCpuSecPerGiB: gwCpuUs / 1e6 / ((rounds * bytes) / GiB), rounds };
}

export async function throughputFigures(rig: Rig): Promise<FigureResult[]> {
  const out: FigureResult[] = [];
  for (const [row, streams, rounds, target] of [
    [STREAM_ROWS[0], 1, 5, 0.95],
    [STREAM_ROWS[1], 16, 3, 0.9],
  ] as const) {
    const t = await throughput(rig, streams, rounds);
    out.push({
      ...row,
      measured: `${fmt(t.gatewayMiBs, 0)} MiB/s via gateway (median of ${rounds})`,
      direct: `direct ${fmt(t.directMiBs, 0)} MiB/s → ${pct(t.ratio)}`,
      pass: t.ratio >= target,
      values: {
        unit: 'MiB/s',
        streams,
        objectBytes: rig.large.size,
        rounds,
        gatewayMiBs: t.gatewayMiBs,
        directMiBs: t.directMiBs,
        ratio: t.ratio,
        gatewayCpuSecondsPerGiB: t.gatewayCpuSecPerGiB,
      },
    });
  }
  return out;
}

const RSS_SAMPLE_MS = 50;

export async function rssFigure(rig: Rig): Promise<FigureResult> {
  const o = rig.huge;
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
