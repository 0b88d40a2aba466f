import { createServer, type IncomingMessage, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { run } from '../../src/cli/main';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Pretend stderr is a terminal (the index progress line). */
  tty?: boolean;
}

/** Runs `cage argv…` in-process with captured streams and an env of its own (never the test runner's). */
export async function cage(argv: string[], options: RunOptions = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, {
    stdout: { write: (s: string) => (stdout += s), isTTY: false },
    stderr: { write: (s: string) => (stderr += s), isTTY: options.tty === true, columns: 120 },
    env: options.env ?? {},
    cwd: () => options.cwd ?? '/nonexistent-cage-cwd',
    pollIntervalMs: 5,
  });
  return { code, stdout, stderr };
}

export interface Recorded {
  method: string;
  url: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: unknown;
}

export interface Canned {
  status: number;
  body?: unknown;
  /** Raw text instead of JSON (e.g. an HTML error page from a proxy). */
  text?: string;
}

type Responder = Canned | ((req: Recorded) => Canned);

/**
 * A tiny control API stand-in: answers `METHOD /path` (query excluded) with canned responses
 * and records every request, so tests can assert what was sent and that nothing was sent.
 */
export class FakeApi {
  readonly requests: Recorded[] = [];
  private readonly routes = new Map<string, Responder[]>();
  private server?: Server;
  url = '';

  /** Queue answers for a route; the last one repeats. */
  on(route: string, ...answers: Responder[]): this {
    this.routes.set(route, answers);
    return this;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      void readBody(req).then((raw) => {
        const recorded: Recorded = {
          method: req.method ?? '',
          url: req.url ?? '',
          authorization: req.headers.authorization,
          contentType: req.headers['content-type'],
          body: raw === '' ? undefined : (JSON.parse(raw) as unknown),
        };
        this.requests.push(recorded);
        const key = `${recorded.method} ${recorded.url.split('?')[0]}`;
        const queue = this.routes.get(key);
        const responder = queue === undefined ? undefined : queue.length > 1 ? queue.shift() : queue[0];
        const answer =
          responder === undefined
            ? { status: 404, body: { error: 'Not Found', message: `Route ${key} not found`, requestId: 'r-404' } }
            : typeof responder === 'function'
              ? responder(recorded)
              : responder;
        res.setHeader('x-request-id', 'req-1');
        if (answer.text !== undefined) {
          res.writeHead(answer.status, { 'content-type': 'text/html' }).end(answer.text);
        } else if (answer.body === undefined) {
          res.writeHead(answer.status).end();
        } else {
          res.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(answer.body));
        }
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** Env pointing the CLI at this server with a token. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return { CAGE_URL: this.url, CAGE_TOKEN: 'test-token', ...extra };
  }

  async stop(): Promise<void> {
    if (this.server === undefined) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (data += chunk));
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}

/** A local port with nothing listening on it: bind, note the port, close. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export function apiError(status: number, error: string, message: string, extra: Record<string, unknown> = {}): Canned {
  return { status, body: { error, message, requestId: `req-${status}`, ...extra } };
}
