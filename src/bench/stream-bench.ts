import { concurrently, type Fetched } from './http-load';
import { processCpuUs, processRssBytes } from './processes';
import { type FigureResult, type RowId } from './report';
import { type BenchObject, type Rig, storeCpuUs } from './rig';
import { fmt, GiB, median, MiB, pct } from './stats';

/**
 * Figures 2 and 5: large objects. Streaming throughput through the gateway against the direct
 * S3 client on the same store in the same run (64 MiB at 1 and 16 concurrent streams, 1 GiB at
 * one; median of several rounds, gateway, direct and relay taking turns), and the gateway's RSS
 * growth while it streams 1 GiB. The direct client also runs through a bare TCP relay process:
 * the floor for any extra hop on this machine, printed next to the gateway's ratio.
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

type Path = 'gw' | 'direct' | 'relay';
const PATHS: Path[] = ['gw', 'direct', 'relay'];

interface Throughput {
  gatewayMiBs: number;
  directMiBs: number;
  /** The direct client through a bare TCP relay process: what any extra hop costs here. */
  relayMiBs: number;
  ratio: number;
  relayRatio: number;
  /** CPU seconds per GiB delivered, per process, on each path: where the cores went. */
  cpuPerGiB: Record<Path, Cpu>;
  rounds: number;
}

/** CPU of the middle process (the gateway or the relay), the store and this process. */
interface Cpu {
  middle: number;
  s3rver: number;
  client: number;
}

/** CPU (µs) of the path's middle process, the store and this process, for deltas around a run. */
function cpuNow(rig: Rig, path: Path): Cpu {
  const me = process.cpuUsage();
  const middle = path === 'gw' ? processCpuUs(rig.gateway.pid) : path === 'relay' ? processCpuUs(rig.relay.pid) : 0;
  return { middle, s3rver: storeCpuUs(rig), client: me.user + me.system };
}

function cpuDelta(a: Cpu, b: Cpu, acc: Cpu): void {
  acc.middle += b.middle - a.middle;
  acc.s3rver += b.s3rver - a.s3rver;
  acc.client += b.client - a.client;
}

async function throughput(rig: Rig, o: BenchObject, streams: number, rounds: number): Promise<Throughput> {
  const bytes = streams * o.size;
  const fetch: Record<Path, () => Promise<Fetched>> = {
    gw: () => rig.gw.stream(rig.dataset, o.key),
    direct: () => rig.direct.get(rig.bucket, o.s3Key),
    relay: () => rig.relay.client.get(rig.bucket, o.s3Key),
  };
  const rates: Record<Path, number[]> = { gw: [], direct: [], relay: [] };
  const cpu: Record<Path, Cpu> = {
    gw: { middle: 0, s3rver: 0, client: 0 },
    direct: { middle: 0, s3rver: 0, client: 0 },
    relay: { middle: 0, s3rver: 0, client: 0 },
  };
  // One unmeasured round each: warm sockets, JIT, page cache.
  for (const path of PATHS) check(o, (await concurrently(streams, fetch[path])).results);
  for (let r = 0; r < rounds; r++) {
    // Rotate which goes first, so none always runs on a warmer (or hotter) machine.
    for (let i = 0; i < PATHS.length; i++) {
      const path = PATHS[(r + i) % PATHS.length];
      const cpu0 = cpuNow(rig, path);
      const run = await concurrently(streams, fetch[path]);
      cpuDelta(cpu0, cpuNow(rig, path), cpu[path]);
      check(o, run.results);
      rates[path].push(bytes / MiB / (run.elapsedNs / 1e9));
    }
  }
  const perGiB = (us: number) => Math.round((us / 1e6 / ((rounds * bytes) / GiB)) * 1000) / 1000;
  const perGiBOf = (c: Cpu): Cpu => ({ middle: perGiB(c.middle), s3rver: perGiB(c.s3rver), client: perGiB(c.client) });
  const [gatewayMiBs, directMiBs, relayMiBs] = [median(rates.gw), median(rates.direct), median(rates.relay)];
  return {
    gatewayMiBs,
    directMiBs,
    relayMiBs,
    ratio: gatewayMiBs / directMiBs,
    relayRatio: relayMiBs / directMiBs,
    cpuPerGiB: { gw: perGiBOf(cpu.gw), direct: perGiBOf(cpu.direct), relay: perGiBOf(cpu.relay) },
    rounds,
  };
}

const sum = (c: Cpu) => c.middle + c.s3rver + c.client;

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
      direct:
        `direct ${fmt(t.directMiBs, 0)} MiB/s → ${pct(t.ratio)}; all-process CPU ${fmt(sum(t.cpuPerGiB.gw), 2)} vs ${fmt(sum(t.cpuPerGiB.direct), 2)} s/GiB ` +
        `(gateway ${fmt(t.cpuPerGiB.gw.middle, 2)}); bare TCP relay ${fmt(t.relayMiBs, 0)} MiB/s → ${pct(t.relayRatio)}, relay ${fmt(t.cpuPerGiB.relay.middle, 2)} s/GiB`,
      pass: t.ratio >= target,
      values: {
        unit: 'MiB/s',
        streams,
        objectBytes: o.size,
        rounds,
        gatewayMiBs: t.gatewayMiBs,
        directMiBs: t.directMiBs,
        ratio: t.ratio,
        relayMiBs: t.relayMiBs,
        relayRatio: t.relayRatio,
        gatewayCpuSecondsPerGiB: t.cpuPerGiB.gw.middle,
        viaGatewayS3rverCpuSecondsPerGiB: t.cpuPerGiB.gw.s3rver,
        viaGatewayClientCpuSecondsPerGiB: t.cpuPerGiB.gw.client,
        directS3rverCpuSecondsPerGiB: t.cpuPerGiB.direct.s3rver,
        directClientCpuSecondsPerGiB: t.cpuPerGiB.direct.client,
        relayCpuSecondsPerGiB: t.cpuPerGiB.relay.middle,
        viaRelayS3rverCpuSecondsPerGiB: t.cpuPerGiB.relay.s3rver,
        viaRelayClientCpuSecondsPerGiB: t.cpuPerGiB.relay.client,
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
