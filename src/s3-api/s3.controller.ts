import { Controller, Delete, Get, Head, Inject, Patch, Post, Put, Req, Res, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { type FastifyReply, type FastifyRequest } from 'fastify';
import { AuthenticateWith, Allow } from '../auth/access.decorator';
import { type RequestMeta } from '../audit/audit-log.service';
import { CAGE_CONFIG, type CageConfig } from '../config/config';
import { hostBucketOf, pathStyleTarget } from './s3-addressing';
import { S3ApiService, type S3Reply } from './s3-api.service';
import { S3ErrorFilter } from './s3-error.filter';
import { parseS3Request } from './s3-request';
import { type S3Caller } from './s3-signature.strategy';
import { type HeaderList, headersFromRaw, parseQuery, splitTarget } from './sigv4/canonical-request';

/**
 * The S3-compatible API (path-style, and virtual-hosted with CAGE_S3_API_BASE_DOMAIN) on the sandbox listener, for aws-cli, boto3 and the AWS
 * SDKs: every route not claimed by the REST API. Authentication is SigV4 (the guard runs the
 * SigV4 strategy for this controller); each operation is one call into S3ApiService, which
 * goes through the same data plane and egress pipeline as the REST API. Described in the
 * README rather than in OpenAPI: its shapes are S3's.
 */
@ApiExcludeController()
@AuthenticateWith('sandbox-s3')
@UseFilters(S3ErrorFilter)
@Controller()
export class S3Controller {
  constructor(
    @Inject(S3ApiService) private readonly s3: S3ApiService,
    @Inject(CAGE_CONFIG) private readonly config: CageConfig,
  ) {}

  @Get('*')
  @Allow('read', 'DatasetObject')
  async get(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    await this.dispatch(req, reply);
  }

  @Head('*')
  @Allow('read', 'DatasetObject')
  async head(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    await this.dispatch(req, reply);
  }

  @Put('*')
  @Allow('create', 'Egress')
  async put(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    await this.dispatch(req, reply);
  }

  // Authenticated like the rest, then refused by parseS3Request (S3's 501 or AccessDenied).
  @Post('*')
  @Allow('read', 'DatasetObject')
  async post(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    await this.dispatch(req, reply);
  }

  @Delete('*')
  @Allow('read', 'DatasetObject')
  async delete(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    await this.dispatch(req, reply);
  }

  @Patch('*')
  @Allow('read', 'DatasetObject')
  async patch(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    await this.dispatch(req, reply);
  }

  private async dispatch(req: FastifyRequest & { user?: S3Caller }, reply: FastifyReply): Promise<void> {
    const caller = req.user as S3Caller;
    const meta: RequestMeta = { requestId: req.id, listener: 'sandbox' };
    // Virtual-hosted style (a base domain configured): the Host's bucket goes before the path.
    const target = pathStyleTarget(req.raw.url ?? '/', hostBucketOf(req.headers.host, this.config.s3Api.baseDomain));
    let op: ReturnType<typeof parseS3Request>;
    try {
      op = parseS3Request(req.raw.method ?? '', target);
    } catch (err) {
      await this.s3.recordRefusedWrite(caller, req.raw.method ?? '', target, err, meta);
      throw err;
    }
    const headers = effectiveHeaders(headersFromRaw(req.raw.rawHeaders), req.raw.url ?? '/');
    let out: S3Reply;
    switch (op.op) {
      case 'ListBuckets':
        out = await this.s3.listBuckets(caller, meta);
        break;
      case 'HeadBucket':
        out = await this.s3.headBucket(caller, op.bucket, meta);
        break;
      case 'GetBucketLocation':
        out = await this.s3.bucketLocation(caller, op.bucket, meta);
        break;
      case 'ListObjects':
        out = await this.s3.listObjects(caller, op.bucket, op.version, op.query, meta);
        break;
      case 'GetObject':
      case 'HeadObject':
        out = await this.s3.getObject(caller, op.op === 'GetObject' ? 'GET' : 'HEAD', op.bucket, op.key, headers, meta);
        break;
      case 'PutObject':
        out = await this.s3.putObject(caller, op.bucket, op.key, req.raw, headers, meta);
        break;
      case 'CreateBucket':
        out = await this.s3.createBucket(caller, op.bucket, meta);
        break;
      case 'DeleteObjects':
        out = await this.s3.deleteObjects(req.raw);
        break;
      case 'CreateMultipartUpload':
        out = await this.s3.createMultipartUpload(caller, op.key, meta);
        break;
      case 'UploadPart':
        out = await this.s3.uploadPart(caller, op.key, op.uploadId, op.partNumber, req.raw, headers, meta);
        break;
      case 'ListParts':
        out = await this.s3.listParts(caller, op.key, op.uploadId, op.marker, op.maxParts, meta);
        break;
      case 'CompleteMultipartUpload':
        out = await this.s3.completeMultipartUpload(caller, op.key, op.uploadId, req.raw, meta);
        break;
      case 'AbortMultipartUpload':
        out = await this.s3.abortMultipartUpload(caller, op.key, op.uploadId, meta);
        break;
      case 'ListMultipartUploads':
        out = await this.s3.listMultipartUploads(caller, meta);
        break;
    }
    void reply.status(out.status).headers({ ...out.headers, 'x-amz-request-id': req.id });
    if (out.body === undefined || req.method === 'HEAD') {
      if (typeof out.body === 'object') out.body.destroy();
      void reply.send();
    } else {
      void reply.send(out.body);
    }
  }
}

/** Headers a presigned URL may carry in its query instead, signed there: checked as headers are. */
const QUERY_HEADER_RE = /^(content-md5|x-amz-checksum-[a-z0-9]+|x-amz-copy-source[a-z-]*)$/;

/**
 * The request's headers, plus the ones a presigned URL carries in its signed query (botocore
 * moves Content-MD5 and x-amz-* there), so that a checksum or a copy source given that way is
 * checked or refused exactly as the header would be (one given both ways is refused as repeated).
 */
function effectiveHeaders(headers: HeaderList, rawUrl: string): HeaderList {
  const moved: [string, string][] = [];
  for (const p of parseQuery(splitTarget(rawUrl).rawQuery)) {
    const name = p.name.toString('utf8').toLowerCase();
    if (QUERY_HEADER_RE.test(name)) moved.push([name, p.value.toString('utf8')]);
  }
  return moved.length === 0 ? headers : [...headers, ...moved];
}
