import { finished, type Readable } from 'node:stream';
import { Logger } from '@nestjs/common';
import { type AuditLog, type RequestMeta } from '../audit/audit-log.service';
import { type Clock } from '../clock/clock';
import { type GrantRepository } from '../grants/grant.repository';
import { type JobRepository } from '../jobs/job.repository';
import { type JobPrincipal } from '../principal/principal';

/** How often open downloads are checked against their job and grants (each read at most 500 ms old). */
export const DOWNLOAD_CHECK_MS = 250;

export interface WatchedDownload {
  job: JobPrincipal;
  dataset: string;
  /** The split the object lies in (null: outside every split, which no grant covers). */
  split: string | null;
  meta: RequestMeta;
  /** The read's leaf, as logged when it was allowed: the cut's leaf names the same object. */
  leaf: { principal: string; team: string; resource: { type: string; dataset: string; keyHex: string } };
}

interface Entry {
  download: WatchedDownload;
  source: Readable;
  /** Bytes handed on to the reply so far. */
  served: number;
  /** Since when the download has been waiting for the store with room to send (ms, monotonic). */
  waitingSince: number;
  /** The previous sweep saw it waiting past the limit too (a blocked event loop is not a stall). */
  suspect: boolean;
}

/**
 * Downloads in progress, each cut within a second of its job being revoked or expiring, or of the
 * team losing the grant it was read under (revoked, or its window over) — on whichever replica
 * the revocation was made, since both are read from the database (at most 500 ms old). A cut ends
 * the response mid-body (the client sees a truncated transfer) and is logged with the bytes that
 * had been served.
 *
 * A download is also cut when the store stops sending its body for `stallMs` while the client
 * is ready for more (a hung store must not hold connections forever). A client that holds the
 * stream back (backpressure: the pipe has paused the store's body) is not waiting for the store,
 * however long it takes.
 */
export class OpenDownloads {
  private readonly logger = new Logger('OpenDownloads');
  private readonly open = new Set<Entry>();
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly jobs: Pick<JobRepository, 'get'>,
    private readonly grants: Pick<GrantRepository, 'forTeam'>,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly stallMs: number,
  ) {}

  get size(): number {
    return this.open.size;
  }

  /**
   * Watches a body on its way out: its bytes counted as they are handed on, the download cut when
   * its rights go. The body itself is what gets served (piped socket to socket, no Transform in
   * between): the counter is one more 'data' listener, and the body stays paused until its
   * consumer (the reply's pipe) resumes it, so no chunk is emitted before that consumer listens.
   */
  watch(body: Readable, download: WatchedDownload): Readable {
    const entry: Entry = { download, source: body, served: 0, waitingSince: performance.now(), suspect: false };
    body.on('data', (chunk: Buffer) => {
      entry.served += chunk.length;
      entry.waitingSince = performance.now();
    });
    body.pause();
    this.open.add(entry);
    // The readable side only: a body that is a Transform (a range trimmed from a wider answer)
    // ends its output without its input ever finishing, and is done all the same.
    finished(body, { readable: true, writable: false }, () => {
      this.open.delete(entry);
      if (!body.destroyed) body.destroy();
    });
    return body;
  }

  start(): void {
    this.timer = setInterval(() => {
      this.sweeping = this.sweep().catch((err: Error) =>
        this.logger.error({ message: 'checking open downloads failed', error: err.message }),
      );
    }, DOWNLOAD_CHECK_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.sweeping;
  }

  /** Cuts every open download whose job or grant is gone, or whose store has stalled. */
  async sweep(): Promise<number> {
    // Stalls first, and without the database: a sweep that fails on a database outage must
    // not leave hung downloads behind.
    let cut = 0;
    const t = performance.now();
    const logging: Promise<void>[] = [];
    for (const entry of [...this.open]) {
      if (!waitingForStore(entry)) {
        entry.waitingSince = t;
        entry.suspect = false;
      } else if (t - entry.waitingSince > this.stallMs) {
        // Seen twice in a row: a sweep that ran late (a blocked event loop) cuts nothing alone.
        if (entry.suspect) {
          cut++;
          logging.push(this.cut(entry, 'object store stalled'));
        } else entry.suspect = true;
      }
    }
    await Promise.all(logging);
    const now = this.clock.now();
    for (const entry of [...this.open]) {
      const { job, dataset, split } = entry.download;
      const reason = await this.lost(job, dataset, split, now);
      if (reason === undefined || !this.open.has(entry)) continue;
      cut++;
      await this.cut(entry, reason);
    }
    return cut;
  }

  /** Ends the download now; resolves when its leaf is logged (or failed to be). */
  private async cut(entry: Entry, reason: string): Promise<void> {
    this.open.delete(entry);
    // The reply sees its body fail after its headers went out, and ends the response mid-body.
    entry.source.destroy(new Error(`download cut: ${reason}`));
    await this.audit
      .record(entry.download.meta, {
        ...entry.download.leaf,
        action: 'read.cut',
        decision: 'deny',
        policies: [],
        policySet: null,
        detail: { reason, bytesServed: entry.served },
      })
      .catch((err: Error) => this.logger.error({ message: 'a cut download could not be logged', error: err.message }));
  }

  private async lost(job: JobPrincipal, dataset: string, split: string | null, now: Date): Promise<string | undefined> {
    const record = await this.jobs.get(job.jobId);
    if (record === undefined || record.revokedAt !== null) return 'job revoked';
    if (record.expiresAt <= now) return 'job expired';
    const { grants } = await this.grants.forTeam(job.team);
    const covered = grants.some((g) => g.dataset === dataset && g.split === split && g.notBefore <= now && now < g.notAfter);
    return covered ? undefined : 'grant revoked or ended';
  }
}

/**
 * Whether a download is waiting on the store: the store still owes bytes, and everything it sent
 * has gone on to the client, which is reading (the body flowing, nothing buffered in it). A client
 * that holds the stream back has the reply's pipe pause the body, so it is not.
 */
function waitingForStore(e: Entry): boolean {
  const s = e.source;
  return !s.readableEnded && !s.destroyed && s.readableFlowing === true && s.readableLength === 0;
}
