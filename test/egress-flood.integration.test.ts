/**
 * One team floods egress with 16 MiB bodies that break a rule on their first line; another
 * team keeps reading. Refused bodies stop being read at the rule (bounded memory), and the
 * reader's latency stays near its usual. Figures go to the test output; the bound asserted is
 * loose (the failure it guards against stalled readers for ~10 s and took ~940 MiB).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DATASET, type Fixture, startFixture } from './support/fixture';
import { bearer, objectPath, rawRequest } from './support/http';
import { AuditRepository } from '../src/audit/audit.repository';
import { JobService } from '../src/jobs/job.service';

const run = promisify(execFile);
const FLOOD_SECONDS = 6;

function p(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

describe('egress flood from one team', () => {
  let f: Fixture;
  beforeAll(async () => {
    // The flood (up to 16 uploads × 4 jobs) and the reader all come from 127.0.0.1: the
    // per-address connection limit (64, test/connection-limits) is not what this measures.
    f = await startFixture({ db: 'pglite', env: { CAGE_SANDBOX_MAX_CONNECTIONS_PER_ADDRESS: '1000' } });
  });
  afterAll(async () => {
    await f?.stop();
  });

  const read = async (): Promise<number> => {
    const t0 = performance.now();
    const r = await rawRequest(f.gateway.sandboxUrl, 'GET', objectPath(DATASET, 'train/annotations.csv'), bearer(f.alpha.token));
    expect(r.status).toBe(200);
    return performance.now() - t0;
  };

  it.each([
    ['two uploads per job at once', 2],
    ['sixteen uploads per job at once (over the open-upload and rate limits)', 16],
  ])(
    'keeps another team’s reads near their usual latency, reads at most a little of each refused body, and holds memory bounded: %s',
    async (_name, parallel) => {
      for (let i = 0; i < 20; i++) await read(); // warm up
      const baseline: number[] = [];
      for (let i = 0; i < 150; i++) baseline.push(await read());

      const jobs = await Promise.all(
        [0, 1, 2, 3].map(() => f.gateway.get(JobService).issue('beta', 600, 'test', { requestId: 'flood', listener: 'internal' })),
      );
      const leavesBefore = await f.gateway.get(AuditRepository).size();
      const rssBefore = process.memoryUsage().rss;
      let rssPeak = rssBefore;
      const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 50);
      const flood = run(
        process.execPath,
        [
          join(__dirname, 'support', 'egress-flood.mjs'),
          f.gateway.sandboxUrl,
          jobs.map((j) => j.token).join(','),
          String(FLOOD_SECONDS),
          String(parallel),
        ],
        { timeout: 120_000 },
      );
      await new Promise((r) => setTimeout(r, 500));
      const during: number[] = [];
      const until = Date.now() + (FLOOD_SECONDS - 1.5) * 1000;
      while (Date.now() < until) during.push(await read());
      const { stdout } = await flood;
      clearInterval(sampler);
      const summary = JSON.parse(stdout) as { statuses: Record<string, number> };

      const fig = (v: number) => `${v.toFixed(1)} ms`;
      process.stdout.write(
        `egress flood (${parallel} per job): reader p50 ${fig(p(baseline, 0.5))} → ${fig(p(during, 0.5))}, p99 ${fig(p(baseline, 0.99))} → ${fig(p(during, 0.99))} ` +
          `(${during.length} reads under flood); flood answers ${JSON.stringify(summary.statuses)}; RSS +${((rssPeak - rssBefore) / 2 ** 20).toFixed(0)} MiB\n`,
      );
      // The flood was real: many uploads, refused (the first five charged, for the first flood),
      // then over the cap, over the open uploads, or over the rate.
      const answered = Object.values(summary.statuses).reduce((a, b) => a + b, 0);
      expect(answered).toBeGreaterThan(10);
      expect(Object.keys(summary.statuses).every((s) => s === '422' || s === '429')).toBe(true);

      // Each refused 16 MiB body was read only as far as its rule (a few chunks at most); every
      // attempt is in the log: a leaf each, or counted in a per-job throttle summary.
      await new Promise((r) => setTimeout(r, 1500));
      const leaves = (await f.gateway.get(AuditRepository).find({ after: leavesBefore - 1, limit: 100_000 })).map((l) => l.leaf);
      const rejects = leaves.filter((l) => l.action === 'egress.reject');
      const throttled = leaves
        .filter((l) => l.action === 'egress.throttle')
        .reduce((n, l) => n + Number((l.detail as { attempts: number }).attempts), 0);
      for (const l of rejects) expect(Number((l.detail as { submittedBytes: number }).submittedBytes)).toBeLessThan(1024 * 1024);
      // (Some uploads were cut off by the client before it read their answer: at least one entry each.)
      expect(rejects.length + throttled).toBeGreaterThanOrEqual(answered);
      if (parallel > 2) expect(throttled).toBeGreaterThan(0);
      expect(rssPeak - rssBefore).toBeLessThan(256 * 2 ** 20);
      expect(p(during, 0.99)).toBeLessThan(10 * p(baseline, 0.99) + 500);
    },
    120_000,
  );
});
