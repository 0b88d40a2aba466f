import { finished, type Readable } from 'node:stream';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Which of the two HTTP listeners (or the gateway itself, for leaves it writes on its own). */
export type MetricsListener = 'control' | 'sandbox' | 'internal';

/** The object store calls that can fail (`cage_store_errors_total{operation}`). */
export type StoreOperation = 'get' | 'head' | 'list' | 'put' | 'copy' | 'delete' | 'bucket' | 'ping';

/** Why a database call failed: the server could not serve, or it refused the statement. */
export type DatabaseErrorReason = 'unavailable' | 'statement';

/** A label value taken from code-defined names only; anything else is folded into `other`. */
const NAME = /^[a-z][a-z0-9._-]{0,63}$/;
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * The gateway's Prometheus metrics: one registry per gateway (never prom-client's global one,
 * so that several gateways in one process — the test suites — count apart), served by
 * `GET /metrics` on the control listener only.
 *
 * Disclosure rule: no label carries a team, a job, a person, a dataset or an object key. Teams
 * are thousands (one series each would swamp Prometheus), and per-team figures on an endpoint
 * operators share would tell anyone who reads it how active every other team is. Labels are
 * route patterns, methods, statuses, code-defined action and outcome names, and egress kind
 * names from the policy directory, all of them few and fixed.
 */
export class CageMetrics {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'cage_http_requests_total',
    help: 'HTTP requests answered, by listener, route pattern, method and status.',
    labelNames: ['listener', 'route', 'method', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: 'cage_http_request_duration_seconds',
    help: 'Time from receiving a request to the end of its response (a streamed object included), by listener, route pattern, method and status.',
    labelNames: ['listener', 'route', 'method', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120],
    registers: [this.registry],
  });

  readonly decisions = new Counter({
    name: 'cage_policy_decisions_total',
    help: 'Decisions written to the audit log (one per leaf), by action and decision (allow, deny, error, info).',
    labelNames: ['action', 'decision'] as const,
    registers: [this.registry],
  });

  readonly bytesServed = new Counter({
    name: 'cage_data_bytes_served_total',
    help: 'Object bytes of allowed reads, as logged in their audit leaves before the body is sent, by listener.',
    labelNames: ['listener'] as const,
    registers: [this.registry],
  });

  readonly egressAttempts = new Counter({
    name: 'cage_egress_attempts_total',
    help: 'Egress submissions by kind and outcome (released, held, refused, over_limits, too_many_at_once, unknown_kind, aborted).',
    labelNames: ['kind', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly egressBits = new Counter({
    name: 'cage_egress_bits_charged_total',
    help: 'Information bits charged to team budgets when an egress attempt is decided (released, held or refused), by kind.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly egressReviewed = new Counter({
    name: 'cage_egress_reviewed_total',
    help: 'Held artifacts whose review finished, by outcome (released, rejected).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly egressFailures = new Counter({
    name: 'cage_egress_failures_total',
    help: 'Artifacts logged for release or hold that could not be stored (nothing was released; the team is not charged).',
    registers: [this.registry],
  });

  readonly auditBatchSize = new Histogram({
    name: 'cage_audit_batch_size',
    help: 'Leaves per committed audit group commit.',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
    registers: [this.registry],
  });

  readonly auditCommitDuration = new Histogram({
    name: 'cage_audit_commit_duration_seconds',
    help: 'Time to commit one audit batch (leaves and tree nodes in one transaction).',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly checkpointLag = new Gauge({
    name: 'cage_audit_checkpoint_lag_leaves',
    help: 'Audit leaves not yet covered by a signed checkpoint (read from the database at scrape time).',
    registers: [this.registry],
    collect: async () => {
      if (this.lagSource === undefined) return;
      try {
        this.checkpointLag.set(await this.lagSource());
      } catch {
        // The database cannot answer: keep the last value; cage_database_errors_total says why.
      }
    },
  });

  readonly connectionsRefused = new Counter({
    name: 'cage_connections_refused_total',
    help: "Connections closed as they arrived: the listener's limit reached, or the client address's.",
    labelNames: ['listener', 'reason'] as const,
    registers: [this.registry],
  });

  readonly storeErrors = new Counter({
    name: 'cage_store_errors_total',
    help: 'Object store calls that failed (timeouts, 5xx, unreachable; not "no such key"), by operation.',
    labelNames: ['operation'] as const,
    registers: [this.registry],
  });

  readonly databaseErrors = new Counter({
    name: 'cage_database_errors_total',
    help: 'Database calls that failed, by reason (unavailable: the server could not serve; statement: it refused the statement).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly openStreams = new Gauge({
    name: 'cage_open_streams',
    help: 'Object downloads whose body is still being sent, by listener.',
    labelNames: ['listener'] as const,
    registers: [this.registry],
  });

  private lagSource: (() => Promise<number>) | undefined;

  constructor() {
    // Process metrics (CPU, memory, event loop lag, GC, handles), on this registry only.
    collectDefaultMetrics({ register: this.registry });
    // Series that exist before the first event, so dashboards and alerts see zeros, not gaps.
    for (const listener of ['control', 'sandbox'] as const) this.openStreams.set({ listener }, 0);
    this.bytesServed.inc({ listener: 'sandbox' }, 0);
    this.egressFailures.inc(0);
    for (const operation of ['get', 'head', 'list', 'put', 'copy', 'delete', 'bucket', 'ping'] as const)
      this.storeErrors.inc({ operation }, 0);
    for (const reason of ['unavailable', 'statement'] as const) this.databaseErrors.inc({ reason }, 0);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text (Prometheus text format 0.0.4). */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  /**
   * One answered request. `route` is the route pattern (`/v1/datasets/:dataset/objects/*`),
   * never the URL: object keys and dataset names must not become label values.
   */
  observeRequest(listener: MetricsListener, route: string | undefined, method: string, status: number, seconds: number): void {
    const labels = { listener, route: route ?? '(unmatched)', method: METHODS.has(method) ? method : 'OTHER', status: String(status) };
    this.httpRequests.inc(labels);
    this.httpDuration.observe(labels, seconds);
  }

  /** One committed audit leaf's decision. */
  decision(action: string, decision: string): void {
    this.decisions.inc({ action: labelName(action), decision: labelName(decision) });
  }

  /** Counts an open download until its body ends, fails or is destroyed. */
  streamOpened(listener: MetricsListener, body: Readable): void {
    this.openStreams.inc({ listener });
    // The readable side only, as the download watcher does (a trimmed range's Transform).
    finished(body, { readable: true, writable: false }, () => this.openStreams.dec({ listener }));
  }

  connectionRefused(listener: MetricsListener, reason: 'listener' | 'address'): void {
    this.connectionsRefused.inc({ listener, reason });
  }

  storeError(operation: StoreOperation): void {
    this.storeErrors.inc({ operation });
  }

  databaseError(reason: DatabaseErrorReason): void {
    this.databaseErrors.inc({ reason });
  }

  /** Where the checkpoint lag is read from when Prometheus scrapes (the checkpointer). */
  checkpointLagFrom(source: () => Promise<number>): void {
    this.lagSource = source;
  }
}

/** A code-defined name (an action, an outcome, an egress kind) as a label value; anything else is `other`. */
export function labelName(value: string): string {
  return NAME.test(value) ? value : 'other';
}
