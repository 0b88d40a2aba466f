import { Controller, Get, Param, Post, Req, Res } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOperation, ApiTags, ApiUnsupportedMediaTypeResponse } from '@nestjs/swagger';
import { type FastifyReply, type FastifyRequest } from 'fastify';
import { type z } from 'zod';
import { Allow } from '../auth/access.decorator';
import { CurrentUser } from '../auth/principal.decorator';
import { type UserPrincipal } from '../principal/principal';
import { ContentResponse, ZodBody, ZodQuery, ZodResponse } from '../ops/openapi.decorators';
import { PolicyEngine } from '../policy/policy.types';
import { EgressReceiptsService } from './egress-receipts.service';
import { EgressReviewService } from './egress-review.service';
import { artifactDetail, artifactWithReviews, egressListQuery, egressPage, reviewBody } from './egress.dto';

/** Egress receipts, released artifacts and the airlock (control listener, people). */
@ApiTags('egress')
@Controller('v1/egress')
export class EgressAdminController {
  constructor(
    private readonly receipts: EgressReceiptsService,
    private readonly reviews: EgressReviewService,
    private readonly policy: PolicyEngine,
  ) {}

  @Get()
  @Allow('read', 'Receipt')
  @ApiOperation({
    summary:
      'Egress artifacts: every row whole, oldest first; a contestant their team’s rows as TeamArtifactView (published slots only), by day then id',
  })
  @ZodResponse(200, egressPage)
  list(
    @CurrentUser() user: UserPrincipal,
    @ZodQuery(egressListQuery) query: z.infer<typeof egressListQuery>,
  ): Promise<z.infer<typeof egressPage>> {
    return this.receipts.list(user, query);
  }

  @Get(':id')
  @Allow('read', 'Receipt')
  @ApiOperation({ summary: 'One artifact: receipt, reasons, reviews (a contestant: the team view, reviews as decision and comment)' })
  @ZodResponse(200, artifactDetail)
  @ApiNotFoundResponse({ description: 'No such artifact, or not the caller’s to see' })
  get(@CurrentUser() user: UserPrincipal, @Param('id') id: string): Promise<z.infer<typeof artifactDetail>> {
    return this.receipts.read(user, id);
  }

  @Get(':id/content')
  @Allow('read', 'Receipt')
  @ApiOperation({ summary: 'The released bytes (released artifacts only), exactly what the release leaf hashes' })
  @ContentResponse(200, 'The canonical bytes; x-cage-sha256 is their SHA-256', { 'application/octet-stream': 'bytes' })
  @ApiNotFoundResponse({ description: 'No such artifact, or nothing released' })
  async content(@CurrentUser() user: UserPrincipal, @Param('id') id: string, @Res() reply: FastifyReply) {
    const c = await this.receipts.content(user, id);
    void reply
      .header('content-type', 'application/octet-stream')
      .header('content-length', String(c.length))
      .header('x-cage-sha256', c.artifact.sha256 ?? '')
      .header('content-disposition', `attachment; filename="${c.artifact.id}"`)
      .send(c.body);
  }

  @Get(':id/held')
  @Allow('review', 'Egress')
  @ApiOperation({ summary: 'The canonical content of a held text artifact, for its reviewers' })
  @ContentResponse(200, 'The canonical text', { 'text/plain': 'text' })
  @ApiNotFoundResponse({ description: 'No such artifact, or not held' })
  @ApiUnsupportedMediaTypeResponse({ description: 'Not a text kind' })
  async held(@CurrentUser() user: UserPrincipal, @Param('id') id: string, @Res() reply: FastifyReply) {
    const kinds = this.policy.egress.kinds;
    const bytes = await this.receipts.held(user, id, (k) => kinds.get(k)?.format !== 'opaque' && kinds.has(k));
    void reply.header('content-type', 'text/plain; charset=utf-8').header('cache-control', 'no-store').send(bytes);
  }

  @Post(':id/reviews')
  @Allow('review', 'Egress')
  @ApiOperation({ summary: 'Approve or reject a held artifact (two distinct compliance officers release it; one reject rejects)' })
  @ZodResponse(201, artifactWithReviews, 'The artifact after the review, with every review')
  @ApiNotFoundResponse({ description: 'No such artifact, or not held' })
  review(
    @CurrentUser() user: UserPrincipal,
    @Param('id') id: string,
    @ZodBody(reviewBody) body: z.infer<typeof reviewBody>,
    @Req() req: FastifyRequest,
  ): Promise<z.infer<typeof artifactWithReviews>> {
    return this.reviews.review(user, id, body, { requestId: req.id, listener: 'control' });
  }
}
