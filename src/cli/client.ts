import { CliError, ExitCode, type ExitCode as ExitCodeT } from './cli-error';
import { type CliConfig, redactUrl } from './config';

/** A request the server answered with an error status; `body` is its JSON error, if any. */
export class ApiError extends CliError {
  constructor(
    exitCode: ExitCodeT,
    message: string,
    details: readonly string[],
    readonly status: number,
    readonly body: unknown,
  ) {
    super(exitCode, message, details);
    this.name = 'ApiError';
  }
}

export type Query = Record<string, string | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** What a 404 means here, used when the server's own message says no more than "Not Found". */
  notFound?: string;
}

const REASONS: Record<number, string> = {
  400: 'bad request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not found',
  409: 'conflict',
  413: 'payload too large',
  422: 'policy refused',
  429: 'too many requests',
  500: 'internal server error',
  502: 'bad gateway',
  503: 'service unavailable',
  504: 'gateway timeout',
};

export function exitCodeForStatus(status: number): ExitCodeT {
  if (status === 401 || status === 403) return ExitCode.Auth;
  if (status === 404) return ExitCode.NotFound;
  if (status === 409) return ExitCode.Conflict;
  if (status === 422) return ExitCode.PolicyRefused;
  return ExitCode.Failed;
}

function field(body: unknown, name: string): unknown {
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
}

/** The lines a 422 carries: validation errors and failing policy-test expectations. */
export function policyProblems(body: unknown): string[] {
  const lines: string[] = [];
  const errors = field(body, 'errors');
  if (Array.isArray(errors)) for (const e of errors) lines.push(`error: ${typeof e === 'string' ? e : JSON.stringify(e)}`);
  const failures = field(body, 'failures');
  if (Array.isArray(failures)) {
    for (const f of failures) {
      const name = field(f, 'expectation');
      const message = field(f, 'message');
      lines.push(`failed: ${typeof name === 'string' ? name : JSON.stringify(f)}${typeof message === 'string' ? `: ${message}` : ''}`);
    }
  }
  return lines;
}

export function apiError(status: number, statusText: string, body: unknown, requestId: string | null, notFound?: string): ApiError {
  const reason = REASONS[status] ?? (statusText.toLowerCase() || 'error');
  const serverMessage = field(body, 'message');
  let message = typeof serverMessage === 'string' && serverMessage.trim() !== '' ? serverMessage : undefined;
  if (status === 404 && notFound !== undefined && (message === undefined || message.toLowerCase() === reason)) message = notFound;
  let line = `${status} ${reason}${message === undefined ? '' : `: ${message}`}`;
  if (status === 401) line += ' (set CAGE_TOKEN or re-issue)';
  if (status === 403) line += " (this token's role may not do this)";
  const id = field(body, 'requestId') ?? requestId;
  if (status >= 500 && typeof id === 'string') line += ` (request id ${id})`;
  return new ApiError(exitCodeForStatus(status), line, status === 422 ? policyProblems(body) : [], status, body);
}

/**
 * The control API over HTTP. Every failure becomes a CliError with the documented exit code.
 * The bearer token goes in the Authorization header only; no message ever includes it.
 */
export class CageClient {
  constructor(
    private readonly config: CliConfig,
    private readonly timeoutMs = 60_000,
  ) {}

  get<T>(path: string, options: Omit<RequestOptions, 'body'> = {}): Promise<T> {
    return this.request<T>('GET', path, options);
  }

  post<T>(path: string, body?: unknown, options: Omit<RequestOptions, 'body'> = {}): Promise<T> {
    return this.request<T>('POST', path, { ...options, body });
  }

  /** A text answer (audit exports, checkpoints), as is. */
  async text(path: string, options: Omit<RequestOptions, 'body'> = {}): Promise<string> {
    const url = new URL(this.config.url + path);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        headers: { authorization: `Bearer ${this.config.token}` },
        signal: AbortSignal.timeout(this.timeoutMs * 10),
      });
      text = await response.text();
    } catch (err) {
      throw this.unreachable(err);
    }
    if (!response.ok)
      throw apiError(
        response.status,
        response.statusText,
        parseBody(text, response.headers.get('content-type')),
        response.headers.get('x-request-id'),
        options.notFound,
      );
    return text;
  }

  delete(path: string, options: Omit<RequestOptions, 'body'> = {}): Promise<void> {
    return this.request<undefined>('DELETE', path, options);
  }

  private async request<T>(method: string, path: string, options: RequestOptions): Promise<T> {
    const url = new URL(this.config.url + path);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { authorization: `Bearer ${this.config.token}`, accept: 'application/json' };
    if (options.body !== undefined) headers['content-type'] = 'application/json';

    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await response.text();
    } catch (err) {
      throw this.unreachable(err);
    }

    const body = parseBody(text, response.headers.get('content-type'));
    if (!response.ok) throw apiError(response.status, response.statusText, body, response.headers.get('x-request-id'), options.notFound);
    if (text === '') return undefined as T;
    if (body === undefined) {
      throw new CliError(
        ExitCode.Failed,
        `unexpected non-JSON answer from ${method} ${redactUrl(this.config.url)}${path} (${response.status}); is CAGE_URL the control listener?`,
      );
    }
    return body as T;
  }

  private unreachable(err: unknown): CliError {
    const where = redactUrl(this.config.url);
    // Duck-typed, not instanceof: fetch's errors may come from another realm (jest's VM).
    const e = asRecord(err);
    if (e?.name === 'TimeoutError') {
      return new CliError(ExitCode.Unreachable, `the control API at ${where} did not answer within ${Math.round(this.timeoutMs / 1000)} s`);
    }
    const cause = asRecord(e?.cause);
    const why = [cause?.code, cause?.message, e?.message].find((x): x is string => typeof x === 'string') ?? String(err);
    return new CliError(ExitCode.Unreachable, `cannot reach the control API at ${where} (is the gateway running? set CAGE_URL)`, [
      `cause: ${why}`,
    ]);
  }
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
}

function parseBody(text: string, contentType: string | null): unknown {
  if (text === '') return undefined;
  if (contentType !== null && !/json/i.test(contentType)) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** One path segment, percent-encoded (team ids, subjects and grant ids are opaque to the CLI). */
export function seg(value: string | number): string {
  return encodeURIComponent(String(value));
}
