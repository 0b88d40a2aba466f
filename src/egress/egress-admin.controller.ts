import { Body, Controller, Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { Allow } from '../auth/access.decorator';
import { CurrentUser } from '../auth/principal.decorator';
import { type UserPrincipal } from '../auth/token.service';
import { parseOrThrow } from '../ops/validation';
import { PolicyEngine } from '../policy/policy.types';
import { EgressReceiptsService } from './egress-receipts.service';
import { EgressReviewService } from './egress-review.service';

const listQuery = z
  .object({
    status: z.enum(['releasing', 'released', 'pending_review', 'rejected', 'failed']).optional(),
    kind: z.string().max(64).optional(),
    team: z.string().max(64).optional(),
    cursor: z.string().max(100).optional(),
    limit: z.coerce.number().int().min(1, 'limit must be 1..1000').max(1000, 'limit must be 1..1000').default(100),
  })
  .strict();

const reviewBody = z
  .object({
    decision: z.enum(['approve', 'reject'], { errorMap: () => ({ message: 'decision must be approve or reject' }) }),
    comment: z.string().trim().min(1, 'a comment is required').max(4000),
  })
  .strict();

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
  @ApiOperation({ summary: 'Egress artifacts, oldest first (a contestant sees only their team’s)' })
  @ApiQuery({ name: 'status', required: false })
  @ApiQuery({ name: 'kind', required: false })
  @ApiQuery({ name: 'team', required: false })
  @ApiQuery({ name: 'cursor', required: false })
  @ApiQuery({ name: 'limit', required: false })
  list(@CurrentUser() user: UserPrincipal, @Query() query: unknown) {
    return this.receipts.list(user, parseOrThrow(listQuery, query));
  }

  @Get(':id')
  @Allow('read', 'Receipt')
  @ApiOperation({ summary: 'One artifact: receipt, reasons, reviews' })
  get(@CurrentUser() user: UserPrincipal, @Param('id') id: string) {
    return this.receipts.read(user, id);
  }

  @Get(':id/content')
  @Allow('read', 'Receipt')
  @ApiOperation({ summary: 'The released bytes (released artifacts only), exactly what the release leaf hashes' })
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
  async held(@CurrentUser() user: UserPrincipal, @Param('id') id: string, @Res() reply: FastifyReply) {
    const kinds = this.policy.egress.kinds;
    const bytes = await this.receipts.held(user, id, (k) => kinds.get(k)?.format !== 'opaque' && kinds.has(k));
    void reply.header('content-type', 'text/plain; charset=utf-8').header('cache-control', 'no-store').send(bytes);
  }

  @Post(':id/reviews')
  @Allow('review', 'Egress')
  @ApiOperation({ summary: 'Approve or reject a held artifact (two distinct compliance officers release it; one reject rejects)' })
  review(@CurrentUser() user: UserPrincipal, @Param('id') id: string, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.reviews.review(user, id, parseOrThrow(reviewBody, body), { requestId: req.id, listener: 'control' });
  }
}
