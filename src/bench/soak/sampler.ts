import { readdirSync } from 'node:fs';
import { processRssBytes } from '../processes';

/**
 * What the soak suite watches in the gateway process while it runs, as an operator's Prometheus
 * would: its own /metrics (Node's default collectors: heap, active handles, event-loop delay since
 * the previous scrape) and, from /proc, its resident set and open file descriptors.
 */
export interface Sample {
  /** ms on the load's clock. */
  at: number;
  rssBytes: number;
  heapUsedBytes: number;
  openFds: number;
  activeHandles: number;
  /** Event-loop delay over the interval since the previous scrape (prom-client resets it). */
  eventLoopP99Ms: number;
  eventLoopMaxMs: number;
}

export class Sampler {
  readonly samples: Sample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly pid: number,
    private readonly controlUrl: string,
    private readonly token: string,
    private readonly clock: () => number,
  ) {}

  start(everyMs: number): void {
    this.timer = setInterval(() => {
      this.pending = this.sample().then(
        (s) => void this.samples.push(s),
        () => undefined,
      );
    }, everyMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.pending;
  }

  /** One sample now (also used for the before and after figures). */
  async sample(): Promise<Sample> {
    const res = await fetch(`${this.controlUrl}/metrics`, { headers: { authorization: `Bearer ${this.token}` } });
    if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
    const m = parseMetrics(await res.text());
    return {
      at: this.clock(),
      rssBytes: processRssBytes(this.pid),
      heapUsedBytes: m.get('nodejs_heap_size_used_bytes') ?? Number.NaN,
      openFds: readdirSync(`/proc/${this.pid}/fd`).length,
      activeHandles: m.get('nodejs_active_handles_total') ?? Number.NaN,
      eventLoopP99Ms: (m.get('nodejs_eventloop_lag_p99_seconds') ?? Number.NaN) * 1000,
      eventLoopMaxMs: (m.get('nodejs_eventloop_lag_max_seconds') ?? Number.NaN) * 1000,
    };
  }

  between(from: number, to: number): Sample[] {
    return this.samples.filter((s) => s.at >= from && s.at < to);
  }
}

/** Unlabelled series of the Prometheus text format, by name. */
function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*) (\S+)$/.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined) out.set(m[1], Number(m[2]));
  }
  return out;
}
