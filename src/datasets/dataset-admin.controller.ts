import { Controller, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiBadRequestResponse, ApiConflictResponse, ApiNotFoundResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { type FastifyRequest } from 'fastify';
import { type z } from 'zod';
import { Allow } from '../auth/access.decorator';
import { CurrentUser } from '../auth/principal.decorator';
import { type UserPrincipal } from '../principal/principal';
import { ZodBody, ZodResponse } from '../ops/openapi.decorators';
import { DatasetAdminService } from './dataset-admin.service';
import { dataset, datasetList, indexRun, manifestReport, newDataset } from './dataset-admin.dto';
import { controlMeta as meta } from '../ops/request-meta';

@ApiTags('datasets')
@Controller('v1/datasets')
export class DatasetAdminController {
  constructor(private readonly datasets: DatasetAdminService) {}

  @Post()
  @Allow('create', 'Dataset')
  @ApiOperation({ summary: 'Register a dataset: bucket, prefix, split layout (the bucket must be reachable)' })
  @ZodResponse(201, dataset)
  @ApiConflictResponse({ description: 'A dataset with this id exists' })
  create(
    @CurrentUser() user: UserPrincipal,
    @ZodBody(newDataset) body: z.infer<typeof newDataset>,
    @Req() req: FastifyRequest,
  ): Promise<z.infer<typeof dataset>> {
    return this.datasets.register(user, body, meta(req));
  }

  @Get()
  @Allow('read', 'Dataset')
  @ApiOperation({ summary: 'Datasets with their splits and index figures' })
  @ZodResponse(200, datasetList)
  async list(): Promise<z.infer<typeof datasetList>> {
    return { datasets: await this.datasets.list() };
  }

  @Get(':id')
  @Allow('read', 'Dataset')
  @ApiOperation({ summary: 'One dataset with its splits and index figures' })
  @ZodResponse(200, dataset)
  @ApiNotFoundResponse({ description: 'No such dataset' })
  get(@Param('id') id: string): Promise<z.infer<typeof dataset>> {
    return this.datasets.get(id);
  }

  @Post(':id/index')
  @HttpCode(202)
  @Allow('update', 'Dataset')
  @ApiOperation({ summary: 'Index a dataset in the background (manifest, series, counts); re-runnable' })
  @ZodResponse(202, indexRun, 'The run as started')
  @ApiNotFoundResponse({ description: 'No such dataset' })
  @ApiConflictResponse({ description: 'A run is in progress' })
  index(@CurrentUser() user: UserPrincipal, @Param('id') id: string, @Req() req: FastifyRequest): Promise<z.infer<typeof indexRun>> {
    return this.datasets.startIndex(user, id, meta(req));
  }

  @Post(':id/manifest/verify')
  @HttpCode(200)
  @Allow('read', 'Dataset')
  @ApiOperation({
    summary: "Compare an ingested dataset's bucket with its manifest: unexpected, changed and missing objects (an audit leaf)",
  })
  @ZodResponse(200, manifestReport)
  @ApiBadRequestResponse({ description: 'The dataset was never ingested: it has no manifest' })
  @ApiNotFoundResponse({ description: 'No such dataset' })
  verifyManifest(
    @CurrentUser() user: UserPrincipal,
    @Param('id') id: string,
    @Req() req: FastifyRequest,
  ): Promise<z.infer<typeof manifestReport>> {
    return this.datasets.verifyManifest(user, id, meta(req));
  }

  @Get(':id/index')
  @Allow('read', 'Dataset')
  @ApiOperation({ summary: 'Progress of the latest index run' })
  @ZodResponse(200, indexRun)
  @ApiNotFoundResponse({ description: 'No such dataset, or never indexed' })
  indexRun(@Param('id') id: string): Promise<z.infer<typeof indexRun>> {
    return this.datasets.latestRun(id);
  }
}
