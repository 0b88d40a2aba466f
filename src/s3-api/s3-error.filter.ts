import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { type FastifyReply, type FastifyRequest } from 'fastify';
import { AuditUnavailableError } from '../audit/audit-writer.service';
import { QuotaExhaustedError, RangeError416 } from '../data-plane/data-plane.service';
import { DatabaseUnavailableError } from '../db/database';
import { EgressRefusal } from '../egress/egress-refusal';
import { ReleaseFailedError } from '../egress/egress-release';
import { ObjectStoreUnavailableError } from '../storage/object-store.service';
import { S3Error } from './s3-error';
import { s3Document } from './s3-xml';
import { ChunkedPayloadError } from './sigv4/aws-chunked';

/**
 * The S3 API's one exception filter: every error leaves as S3's `<Error>` document with a code
 * S3 clients know, the resource and the request id (HEAD answers carry no body). Quota and
 * budget refusals are 403, not 429: SDKs retry a 429, and retrying cannot help.
 */
@Catch()
export class S3ErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('S3ErrorFilter');

  catch(err: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    if (reply.sent || reply.raw.headersSent) {
      // Headers are out: the only honest thing left is to cut the response short.
      reply.raw.destroy();
      return;
    }
    const e = this.classify(err, req);
    for (const [k, v] of Object.entries(e.headers)) void reply.header(k, v);
    void reply.status(e.status).header('x-amz-request-id', req.id);
    // A body left unread is not drained: the connection closes after the answer.
    if (e.status === 413 || err instanceof ChunkedPayloadError || (err instanceof EgressRefusal && err.bodyUnread))
      void reply.header('connection', 'close');
    if (req.method === 'HEAD') {
      void reply.send();
      return;
    }
    const resource = (req.raw.url ?? '/').split('?')[0];
    void reply
      .header('content-type', 'application/xml')
      .send(s3Document('Error', { Code: e.code, Message: e.message, ...e.extra, Resource: resource, RequestId: req.id }, false));
  }

  private classify(err: unknown, req: FastifyRequest): S3Error {
    if (err instanceof S3Error) return err;
    if (err instanceof ChunkedPayloadError) return new S3Error(err.code === 'SignatureDoesNotMatch' ? 403 : 400, err.code, err.message);
    if (err instanceof EgressRefusal) return refusal(err);
    if (err instanceof QuotaExhaustedError) return new S3Error(403, 'QuotaExceeded', err.message);
    if (err instanceof RangeError416) {
      return new S3Error(
        416,
        'InvalidRange',
        'The requested range is not satisfiable',
        { ActualObjectSize: err.size },
        { 'content-range': `bytes */${err.size}` },
      );
    }
    if (
      err instanceof ReleaseFailedError ||
      err instanceof AuditUnavailableError ||
      err instanceof DatabaseUnavailableError ||
      err instanceof ObjectStoreUnavailableError
    ) {
      this.logger.error({ message: 'dependency unavailable', error: err.message, requestId: req.id });
      return new S3Error(
        503,
        'ServiceUnavailable',
        'A dependency of the gateway is unavailable; nothing was served or released.',
        {},
        { 'retry-after': '1' },
      );
    }
    if (err instanceof HttpException) {
      // The guard's refusals (no credential, a role that may not use the route).
      return new S3Error(403, 'AccessDenied', err.message);
    }
    const status = (err as { statusCode?: number }).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) return new S3Error(400, 'InvalidRequest', (err as Error).message);
    this.logger.error({ message: 'internal error', error: (err as Error).message, stack: (err as Error).stack, requestId: req.id });
    return new S3Error(500, 'InternalError', 'We encountered an internal error. Please try again.');
  }
}

/** Egress refusals keep their reason codes, as the REST API gives them; never an echo of the content. */
function refusal(err: EgressRefusal): S3Error {
  const extra = {
    ArtifactId: err.artifactId ?? undefined,
    Reasons: { Reason: err.reasons.map((r) => ({ Code: r.code, Line: r.line, Field: r.field, Message: r.message })) },
    ...(err.remaining === undefined
      ? {}
      : { Remaining: Object.fromEntries(Object.entries(err.remaining).map(([k, v]) => [k, String(v)])) }),
  };
  if (err.status === 413) return new S3Error(413, 'EntityTooLarge', err.message, extra);
  if (err.status === 429) return new S3Error(403, 'EgressBudgetExhausted', err.message, extra);
  if (err.reasons.some((r) => r.code === 'policy_denied')) return new S3Error(403, 'AccessDenied', err.message, extra);
  if (err.reasons.some((r) => r.code === 'unknown_kind')) return new S3Error(400, 'InvalidArgument', err.message, extra);
  return new S3Error(422, 'EgressRejected', err.message, extra);
}
