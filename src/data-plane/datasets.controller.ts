import { Controller, Get, Head, Param, Req, Res } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { type FastifyReply, type FastifyRequest } from 'fastify';
import { type z } from 'zod';
import { Allow } from '../auth/access.decorator';
import { CurrentJob } from '../auth/principal.decorator';
import { type JobPrincipal } from '../principal/principal';
import { httpDate, parseRange } from './byte-range';
import { DataPlaneService, type ObjectResponse } from './data-plane.service';
import { ContentResponse, ZodQuery, ZodResponse } from '../ops/openapi.decorators';
import { objectPage, visibleDatasetList } from './datasets.dto';
import { ListCursors } from './list-cursor';
import { listQuery } from './list-query.dto';
import { BadKeyError, decodePathSegment, validateDatasetId, validateObjectKey } from './object-key';

const OBJECT_PATH = /^\/v1\/datasets\/([^/?]+)\/objects\/([^?]*)/;

/**
 * The data plane for contestant code (sandbox listener, job credential). Every handler is one
 * call into DataPlaneService, which asks policy and writes the audit leaf.
 */
@ApiTags('data')
@Controller('v1/datasets')
export class DatasetsController {
  constructor(
    private readonly dataPlane: DataPlaneService,
    private readonly cursors: ListCursors,
  ) {}

  @Get()
  @Allow('list', 'Dataset')
  @ApiOperation({ summary: 'Datasets this job may read, with the splits it may see' })
  @ZodResponse(200, visibleDatasetList)
  async list(@CurrentJob() job: JobPrincipal, @Req() req: FastifyRequest): Promise<z.infer<typeof visibleDatasetList>> {
    return { datasets: await this.dataPlane.listDatasets(job, { requestId: req.id, listener: 'sandbox' }) };
  }

  @Get(':dataset/objects')
  @Allow('list', 'Dataset')
  @ApiOperation({ summary: 'List objects the job may read, in key order, paginated by cursor' })
  @ZodResponse(200, objectPage)
  @ApiNotFoundResponse({ description: 'No such dataset, or none of it is granted (the two are not told apart)' })
  async listObjects(
    @CurrentJob() job: JobPrincipal,
    @Param('dataset') dataset: string,
    @ZodQuery(listQuery) q: z.infer<typeof listQuery>,
    @Req() req: FastifyRequest,
  ): Promise<z.infer<typeof objectPage>> {
    const page = await this.dataPlane.listObjects(
      job,
      validateDatasetId(dataset),
      {
        prefix: q.prefix,
        cursor: q.cursor === undefined ? undefined : this.cursors.open(q.cursor),
        limit: q.limit,
        delimiter: q.delimiter,
      },
      { requestId: req.id, listener: 'sandbox' },
    );
    return {
      objects: page.objects,
      ...(q.delimiter === undefined ? {} : { commonPrefixes: page.commonPrefixes }),
      nextCursor: page.nextCursor === null ? null : this.cursors.seal(page.nextCursor),
    };
  }

  @Get(':dataset/objects/*')
  @Allow('read', 'DatasetObject')
  @ApiOperation({ summary: 'Read one object (streamed); one Range; If-Match / If-None-Match / If-Modified-Since / If-Unmodified-Since' })
  @ApiParam({ name: 'dataset' })
  @ApiParam({ name: 'path', description: 'the object key, percent-encoded (decoded exactly once)' })
  @ContentResponse(200, 'The object bytes', { 'application/octet-stream': 'bytes' })
  @ContentResponse(206, 'The range asked for (Content-Range)', { 'application/octet-stream': 'bytes' })
  @ApiNotFoundResponse({ description: 'No such object, or not granted (the two are not told apart)' })
  async get(@CurrentJob() job: JobPrincipal, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    await this.serve('GET', job, req, reply);
  }

  @Head(':dataset/objects/*')
  @Allow('read', 'DatasetObject')
  @ApiOperation({ summary: 'Object metadata' })
  @ApiParam({ name: 'dataset' })
  @ApiParam({ name: 'path', description: 'the object key, percent-encoded (decoded exactly once)' })
  @ApiOkResponse({ description: 'The headers a GET would send (Content-Length, ETag, Last-Modified), no body' })
  @ApiNotFoundResponse({ description: 'No such object, or not granted (the two are not told apart)' })
  async head(@CurrentJob() job: JobPrincipal, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    await this.serve('HEAD', job, req, reply);
  }

  private async serve(method: 'GET' | 'HEAD', job: JobPrincipal, req: FastifyRequest, reply: FastifyReply): Promise<void> {
    // The key comes from the raw path, decoded once here and nowhere else.
    const m = OBJECT_PATH.exec(req.raw.url ?? '');
    if (m?.[1] === undefined || m[2] === undefined) throw new BadKeyError('object path must be /v1/datasets/{dataset}/objects/{key}');
    const dataset = validateDatasetId(decodePathSegment(m[1], 'dataset id'));
    const key = validateObjectKey(decodePathSegment(m[2], 'object key'));
    const header = (name: string) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v.join(',') : v;
    };
    const res = await this.dataPlane.openObject(
      job,
      {
        dataset,
        key,
        method,
        range: parseRange(header('range')),
        ifMatch: header('if-match'),
        ifNoneMatch: header('if-none-match'),
        ifModifiedSince: httpDate(header('if-modified-since')),
        ifUnmodifiedSince: httpDate(header('if-unmodified-since')),
      },
      { requestId: req.id, listener: 'sandbox' },
    );
    sendObject(reply, res);
  }
}

function sendObject(reply: FastifyReply, res: ObjectResponse): void {
  void reply.header('etag', res.meta.etag).header('accept-ranges', 'bytes').header('cache-control', 'private, no-store');
  if (res.meta.lastModified !== undefined) void reply.header('last-modified', res.meta.lastModified.toUTCString());
  if (res.status === 304 || res.status === 412) {
    void reply.status(res.status).send();
    return;
  }
  void reply.status(res.status).header('content-type', 'application/octet-stream').header('content-length', String(res.contentLength));
  if (res.range !== undefined) void reply.header('content-range', `bytes ${res.range.start}-${res.range.end}/${res.meta.size}`);
  if (res.body === undefined) void reply.send();
  else void reply.send(res.body);
}
