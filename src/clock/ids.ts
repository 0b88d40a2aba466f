import { randomUUID } from 'node:crypto';

/**
 * Where new ids come from (grants, jobs, egress rows, ingest and index runs, …): injected like
 * the clock, so the one source of randomness in ids is swappable and visible in constructors.
 */
export class Ids {
  uuid(): string {
    return randomUUID();
  }
}
