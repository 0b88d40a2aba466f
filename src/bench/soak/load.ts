import { createHash } from 'node:crypto';
import { Agent, type IncomingMessage, request } from 'node:http';
import { GetObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/**
 * The soak suite's load, as contestants' jobs make it: long downloads paced like a training
 * loop reads them (REST), and a steady rate of small ranged reads (half REST, half the S3 API
 * through @aws-sdk/client-s3), with a refused read now and then. Every answer is recorded with
 * the request id the gateway gave it, so the ledger check can find its leaf.
 */

/**
 * - `ok`: the whole body, byte-exact;
 * - `refused`: the 404 a refused read gets;
 * - `unavailable`: 503, no object bytes (the gateway failing closed);
 * - `cut`: the status line was sent and the body ended early (a dependency failed mid-stream);
 * - `error`: anything else: a wrong status or byte, a timeout, a connection error before an answer.
 */
export type Outcome = 'ok' | 'refused' | 'unavailable' | 'cut' | 'error';

export interface Observation {
  /** When the request was sent and when its answer ended, in ms on the load's clock. */
  started: number;
  at: number;
  kind: 'stream' | 'rest' | 's3' | 'refusal';
  status: number;
  requestId: string | undefined;
  bytes: number;
  outcome: Outcome;
  detail?: string;
}

export interface LoadTarget {
  sandboxUrl: string;
  s3Region: string;
  token: string;
  accessKeyId: string;
  secretAccessKey: string;
  dataset: string;
  /** Read whole by the streams. */
  large: { key: string; size: number; sha256: string };
  /** Read in 4 KiB ranges by the small reads; its bytes, to check each range against. */
  small: { key: string; content: Buffer };
  /** A key the job may not read (answered 404). */
  refusedKey: string;
}

export interface LoadShape {
  streams: number;
  /** Per stream: the pace a training loop reads at. */
  streamMiBps: number;
  smallPerSecond: number;
  refusalsPerSecond: number;
}

const SMALL_RANGE = 4096;
/** No byte for this long: the request is an error (a gateway that hangs is a failure). */
const IDLE_LIMIT_MS = 30_000;

export class Load {
  readonly observations: Observation[] = [];
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 256 });
  private readonly s3: S3Client;
  private readonly s3Agent = new Agent({ keepAlive: true, maxSockets: 64 });
  private readonly t0 = Date.now();
  private running = false;
  private workers: Promise<void>[] = [];
  private n = 0;

  constructor(private readonly target: LoadTarget) {
    this.s3 = new S3Client({
      endpoint: target.sandboxUrl,
      region: target.s3Region,
      forcePathStyle: true,
      credentials: { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // One attempt: what the gateway answered is recorded, never retried away.
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler({ connectionTimeout: IDLE_LIMIT_MS, requestTimeout: IDLE_LIMIT_MS, httpAgent: this.s3Agent }),
    });
  }

  now(): number {
    return Date.now() - this.t0;
  }

  /** Starts the load; it runs until stop(). */
  start(shape: LoadShape): void {
    if (this.running) throw new Error('load already running');
    this.running = true;
    for (let i = 0; i < shape.streams; i++) this.workers.push(this.streamLoop(shape.streamMiBps));
    this.workers.push(this.paced(shape.smallPerSecond, () => this.smallRead()));
    if (shape.refusalsPerSecond > 0) this.workers.push(this.paced(shape.refusalsPerSecond, () => this.refusal()));
  }

  /** Stops issuing requests and waits for those in flight. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
    this.workers = [];
  }

  /** Closes the clients' kept-alive connections (the pools stay usable). */
  dropConnections(): void {
    this.agent.destroy();
    this.s3Agent.destroy();
  }

  close(): void {
    this.agent.destroy();
    this.s3Agent.destroy();
    this.s3.destroy();
  }

  /** Observations of requests sent in [from, to) (ms on the load's clock). */
  sentBetween(from: number, to = Infinity): Observation[] {
    return this.observations.filter((o) => o.started >= from && o.started < to);
  }

  /** One read now, outside the load: does the gateway serve again? */
  async probe(): Promise<Observation> {
    return this.rest(this.target.small.key, 0, SMALL_RANGE - 1, 'rest', false);
  }

  private async streamLoop(miBps: number): Promise<void> {
    while (this.running) {
      const o = await this.stream(miBps);
      // A job whose read failed tries again after a moment, not in a tight loop.
      if (o.outcome !== 'ok') await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Open-loop pacing: `perSecond` requests started each second, however slow the answers. */
  private async paced(perSecond: number, fn: () => Promise<unknown>): Promise<void> {
    const inFlight = new Set<Promise<unknown>>();
    const interval = 1000 / perSecond;
    let next = Date.now();
    while (this.running) {
      const p = fn().finally(() => inFlight.delete(p));
      inFlight.add(p);
      next += interval;
      const wait = next - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      else if (wait < -1000) next = Date.now(); // fell behind: do not burst to catch up
    }
    await Promise.all(inFlight);
  }

  private smallRead(): Promise<Observation> {
    const n = this.n++;
    const slots = Math.floor(this.target.small.content.length / SMALL_RANGE);
    const start = (n % slots) * SMALL_RANGE;
    return n % 2 === 0 ? this.rest(this.target.small.key, start, start + SMALL_RANGE - 1, 'rest', true) : this.viaS3(start);
  }

  private record(started: number, o: Omit<Observation, 'at' | 'started'>): Observation {
    const full = { started, at: this.now(), ...o };
    this.observations.push(full);
    return full;
  }

  private path(key: string): string {
    return `/v1/datasets/${encodeURIComponent(this.target.dataset)}/objects/${key.split('/').map(encodeURIComponent).join('/')}`;
  }

  /** A GET through REST; the body checked against the small object's bytes or the large one's digest. */
  private get(
    key: string,
    range: string | undefined,
    onBody: (res: IncomingMessage) => Promise<{ bytes: number; check: string | undefined }>,
  ): Promise<{ status: number; requestId: string | undefined; bytes: number; check: string | undefined; cut: boolean; error?: string }> {
    const u = new URL(this.target.sandboxUrl);
    const headers: Record<string, string> = { authorization: `Bearer ${this.target.token}` };
    if (range !== undefined) headers.range = range;
    return new Promise((resolve) => {
      const req = request(
        { host: u.hostname, port: u.port, path: this.path(key), method: 'GET', headers, agent: this.agent, timeout: IDLE_LIMIT_MS },
        (res) => {
          const status = res.statusCode ?? 0;
          const requestId = res.headers['x-request-id'] as string | undefined;
          onBody(res).then(
            (b) => resolve({ status, requestId, bytes: b.bytes, check: b.check, cut: false }),
            (err: Error) => resolve({ status, requestId, bytes: 0, check: undefined, cut: true, error: err.message }),
          );
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer for ${IDLE_LIMIT_MS} ms`)));
      req.once('error', (err) => resolve({ status: 0, requestId: undefined, bytes: 0, check: undefined, cut: false, error: err.message }));
      req.end();
    });
  }

  private async rest(key: string, start: number, end: number, kind: 'rest', record: boolean): Promise<Observation> {
    const started = this.now();
    const expected = this.target.small.content.subarray(start, end + 1);
    const r = await this.get(key, `bytes=${start}-${end}`, (res) =>
      readAll(res).then((b) => ({ bytes: b.length, check: same(b, expected) })),
    );
    const o = classify(r, 206, expected.length);
    return record ? this.record(started, { kind, ...o }) : { started, at: this.now(), kind, ...o };
  }

  private async viaS3(start: number): Promise<Observation> {
    const started = this.now();
    const end = start + SMALL_RANGE - 1;
    const expected = this.target.small.content.subarray(start, end + 1);
    try {
      const out = await this.s3.send(
        new GetObjectCommand({ Bucket: this.target.dataset, Key: this.target.small.key, Range: `bytes=${start}-${end}` }),
      );
      const status = out.$metadata.httpStatusCode ?? 0;
      const requestId = out.$metadata.requestId;
      let body: Buffer;
      try {
        body = Buffer.from(await out.Body!.transformToByteArray());
      } catch (err) {
        return this.record(started, { kind: 's3', status, requestId, bytes: 0, outcome: 'cut', detail: (err as Error).message });
      }
      return this.record(started, {
        kind: 's3',
        ...classify({ status, requestId, bytes: body.length, check: same(body, expected), cut: false }, 206, SMALL_RANGE),
      });
    } catch (err) {
      const status = err instanceof S3ServiceException ? (err.$metadata.httpStatusCode ?? 0) : 0;
      const requestId = err instanceof S3ServiceException ? err.$metadata.requestId : undefined;
      return this.record(started, {
        kind: 's3',
        status,
        requestId,
        bytes: 0,
        outcome: status === 503 ? 'unavailable' : 'error',
        detail: (err as Error).name + ': ' + (err as Error).message,
      });
    }
  }

  private async refusal(): Promise<Observation> {
    const started = this.now();
    const r = await this.get(this.target.refusedKey, undefined, (res) => readAll(res).then((b) => ({ bytes: b.length, check: undefined })));
    const outcome: Outcome = r.status === 404 ? 'refused' : r.status === 503 ? 'unavailable' : 'error';
    return this.record(started, { kind: 'refusal', status: r.status, requestId: r.requestId, bytes: r.bytes, outcome, detail: r.error });
  }

  /** One whole download of the large object, read at `miBps` and hashed as it comes. */
  private async stream(miBps: number): Promise<Observation> {
    const started = this.now();
    const { large } = this.target;
    const r = await this.get(large.key, undefined, (res) => {
      if (res.statusCode !== 200) return readAll(res).then((b) => ({ bytes: b.length, check: undefined }));
      return paced(res, miBps).then((d) => ({ bytes: d.bytes, check: d.sha256 === large.sha256 ? undefined : 'digest differs' }));
    });
    return this.record(started, { kind: 'stream', ...classify(r, 200, large.size) });
  }
}

function classify(
  r: { status: number; requestId: string | undefined; bytes: number; check: string | undefined; cut: boolean; error?: string },
  okStatus: number,
  size: number,
): Omit<Observation, 'at' | 'started' | 'kind'> {
  const base = { status: r.status, requestId: r.requestId, bytes: r.bytes };
  if (r.status === okStatus && r.cut) return { ...base, outcome: 'cut', detail: r.error };
  if (r.status === okStatus && r.bytes === size && r.check === undefined) return { ...base, outcome: 'ok' };
  if (r.status === okStatus && r.bytes < size && r.check === undefined)
    return { ...base, outcome: 'cut', detail: `${r.bytes} of ${size} bytes` };
  if (r.status === 503) return { ...base, outcome: 'unavailable' };
  return { ...base, outcome: 'error', detail: r.error ?? r.check ?? `status ${r.status}, ${r.bytes} bytes` };
}

function same(got: Buffer, expected: Buffer): string | undefined {
  if (got.length !== expected.length) return undefined; // a short body is classified as cut
  return got.equals(expected) ? undefined : 'bytes differ';
}

function readAll(res: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.once('end', () => (res.complete ? resolve(Buffer.concat(chunks)) : reject(new Error('body ended early'))));
    res.once('aborted', () => reject(new Error('aborted')));
    res.once('error', reject);
  });
}

/** Reads a body at no more than `miBps`, hashing it; rejects when it ends early or stalls. */
function paced(res: IncomingMessage, miBps: number): Promise<{ bytes: number; sha256: string }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    const t0 = Date.now();
    let bytes = 0;
    let idle: NodeJS.Timeout = setTimeout(() => res.destroy(new Error(`stalled ${IDLE_LIMIT_MS} ms`)), IDLE_LIMIT_MS);
    const bytesPerMs = (miBps * 1024 * 1024) / 1000;
    res.on('data', (c: Buffer) => {
      hash.update(c);
      bytes += c.length;
      clearTimeout(idle);
      idle = setTimeout(() => res.destroy(new Error(`stalled ${IDLE_LIMIT_MS} ms`)), IDLE_LIMIT_MS);
      const ahead = bytes / bytesPerMs - (Date.now() - t0);
      if (ahead > 20) {
        res.pause();
        setTimeout(() => res.resume(), ahead);
      }
    });
    const fail = (err: Error) => {
      clearTimeout(idle);
      reject(err);
    };
    res.once('end', () => {
      clearTimeout(idle);
      if (res.complete) resolve({ bytes, sha256: hash.digest('hex') });
      else reject(new Error(`body ended early after ${bytes} bytes`));
    });
    res.once('aborted', () => fail(new Error(`aborted after ${bytes} bytes`)));
    res.once('error', fail);
  });
}
