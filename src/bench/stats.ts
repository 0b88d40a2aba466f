/** Small numeric helpers for the benchmark: percentiles, medians and unit formatting. */

/** Nearest-rank percentile of an ascending-sorted array (p in 0..100). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] ?? Number.NaN;
}

export function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

export interface Distribution {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Summary of samples (any unit; the caller knows which). */
export function distribution(samples: readonly number[]): Distribution {
  const s = [...samples].sort((a, b) => a - b);
  const sum = s.reduce((a, b) => a + b, 0);
  return {
    n: s.length,
    p50: percentile(s, 50),
    p90: percentile(s, 90),
    p99: percentile(s, 99),
    max: s[s.length - 1] ?? Number.NaN,
    mean: s.length === 0 ? Number.NaN : sum / s.length,
  };
}

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

export function nsToUs(ns: number): number {
  return ns / 1e3;
}

export function nsToMs(ns: number): number {
  return ns / 1e6;
}

/** Fixed significant-ish formatting: 3 digits for small values, no decimals for large ones. */
export function fmt(value: number, digits = 1): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(digits);
}

export function pct(ratio: number): string {
  return `${(ratio * 100).toFixed(1)} %`;
}

/** Monotonic clock in nanoseconds, as a number (a double keeps ns precision for years of uptime). */
export function nowNs(): number {
  return Number(process.hrtime.bigint());
}
