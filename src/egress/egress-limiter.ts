/**
 * Bounds the egress uploads a job has open (per replica), so one job cannot hold many bodies
 * (and their parsing) at once and take memory and CPU from other teams. A slot is taken before a byte of
 * the body is read and given back when the request is answered.
 */
export class EgressLimiter {
  private readonly open = new Map<string, number>();

  constructor(private readonly perJob: number) {}

  /** A release function, or null when the job already has `perJob` uploads open. */
  acquire(jobId: string): (() => void) | null {
    const n = this.open.get(jobId) ?? 0;
    if (n >= this.perJob) return null;
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
}
