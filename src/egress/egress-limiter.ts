/** A token bucket: `burst` attempts at once, refilled at `perSecond`. */
class Bucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
    now: number,
  ) {
    this.tokens = burst;
    this.at = now;
  }

  take(now: number): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 1000) * this.perSecond);
    this.at = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  full(now: number): boolean {
    return this.tokens + ((now - this.at) / 1000) * this.perSecond >= this.burst;
  }
}

export interface EgressLimits {
  /** Uploads one job may have open at once. */
  concurrentPerJob: number;
  /** Attempts a job may start per second, with a burst of ten times that (at least 1). */
  attemptsPerSecondPerJob: number;
  /** Attempts a team may start per second over all its jobs, with a burst of ten times that. */
  attemptsPerSecondPerTeam: number;
}

const MAX_TRACKED = 100_000;

/**
 * Bounds what one job or team can make the gateway do at the egress door (per replica): how
 * many uploads a job holds open (bodies and their parsing), and how fast jobs and teams may
 * start attempts at all. An attempt over the rate is answered before any database or audit
 * work (the audit log gets one summary leaf per job and second instead: see EgressService), so
 * a flood of parallel requests costs the gateway a counter, not its CPU or its log.
 */
export class EgressLimiter {
  private readonly open = new Map<string, number>();
  private readonly jobBuckets = new Map<string, Bucket>();
  private readonly teamBuckets = new Map<string, Bucket>();

  constructor(
    private readonly limits: EgressLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** False when the job or its team is starting attempts faster than allowed. */
  admit(jobId: string, team: string): boolean {
    const t = this.now();
    const job = this.bucket(this.jobBuckets, jobId, this.limits.attemptsPerSecondPerJob, t);
    const group = this.bucket(this.teamBuckets, team, this.limits.attemptsPerSecondPerTeam, t);
    return job.take(t) && group.take(t);
  }

  /** A release function, or null when the job already has its uploads open. */
  acquire(jobId: string): (() => void) | null {
    const n = this.open.get(jobId) ?? 0;
    if (n >= this.limits.concurrentPerJob) return null;
    this.open.set(jobId, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(jobId) ?? 1) - 1;
      if (left <= 0) this.open.delete(jobId);
      else this.open.set(jobId, left);
    };
  }

  private bucket(map: Map<string, Bucket>, key: string, perSecond: number, t: number): Bucket {
    let b = map.get(key);
    if (b === undefined) {
      // Full buckets hold no state worth keeping: forget them before tracking more keys.
      if (map.size >= MAX_TRACKED) for (const [k, v] of map) if (v.full(t)) map.delete(k);
      b = new Bucket(Math.max(1, Math.round(perSecond * 10)), perSecond, t);
      map.set(key, b);
    }
    return b;
  }
}
