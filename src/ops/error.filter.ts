import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { type FastifyReply, type FastifyRequest } from 'fastify';
import { AnsweredError } from './http-answer';

const CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  412: 'precondition_failed',
  413: 'too_large',
  415: 'unsupported_media_type',
  416: 'range_not_satisfiable',
  422: 'rejected',
  429: 'too_many_requests',
  503: 'unavailable',
};

/**
 * Every error leaves as `{error, message, requestId}`. The services' errors say how they are
 * answered (AnsweredError: status, headers, extra fields), so this filter knows none of them. Known errors say what was wrong; anything
 * else is a generic 500 (the details go to the log, keyed by the request id, never to the client).
 * "Not granted" and "absent" are one and the same 404.
 */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('ErrorFilter');

  catch(err: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    if (err instanceof AnsweredError) {
      const a = err.answer();
      if (a.status >= 500) this.logger.error({ message: 'dependency unavailable', error: err.message, requestId: req.id });
      if (reply.sent || reply.raw.headersSent) {
        reply.raw.destroy();
        return;
      }
      for (const [k, v] of Object.entries(a.headers ?? {})) void reply.header(k, v);
      if (a.closeConnection !== undefined) void reply.header('connection', a.closeConnection ? 'close' : 'keep-alive');
      void reply
        .status(a.status)
        .header('content-type', 'application/json; charset=utf-8')
        .send({ error: CODES[a.status] ?? 'error', message: a.message, requestId: req.id, ...a.body });
      return;
    }
    const { status, message, headers } = this.classify(err, req);
    // Structured detail an HttpException carries (e.g. the failing policy expectations).
    const extra =
      err instanceof HttpException && typeof err.getResponse() === 'object' ? detailOf(err.getResponse() as Record<string, unknown>) : {};
    if (reply.sent || reply.raw.headersSent) {
      // Headers are out: the only honest thing left is to cut the response short.
      reply.raw.destroy();
      return;
    }
    for (const [k, v] of Object.entries(headers)) void reply.header(k, v);
    void reply
      .status(status)
      .header('content-type', 'application/json; charset=utf-8')
      .send({ error: CODES[status] ?? 'error', message, requestId: req.id, ...extra });
  }

  private classify(err: unknown, req: FastifyRequest): { status: number; message: string; headers: Record<string, string> } {
    if (err instanceof HttpException) {
      const status = err.getStatus();
      const body = err.getResponse();
      const inner = typeof body === 'string' ? body : (body as { message?: unknown }).message;
      const message = Array.isArray(inner) ? inner.map(String).join('; ') : typeof inner === 'string' ? inner : err.message;
      return { status, message, headers: status === 401 ? { 'www-authenticate': 'Bearer' } : {} };
    }
    const e = err as { statusCode?: number; message?: string };
    // Fastify's own errors (body too large, bad content type, malformed JSON) carry a 4xx.
    if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
      return { status: e.statusCode, message: e.message ?? 'bad request', headers: {} };
    }
    this.logger.error({ message: 'internal error', error: e.message, stack: (err as Error).stack, requestId: req.id });
    return { status: 500, message: 'internal error', headers: {} };
  }
}

function detailOf(body: Record<string, unknown>): Record<string, unknown> {
  const { statusCode: _s, error: _e, message: _m, ...rest } = body;
  return rest;
}
