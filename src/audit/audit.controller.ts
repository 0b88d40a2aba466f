import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Allow } from '../auth/access.decorator';
import { parseOrThrow } from '../ops/validation';
import { AuditRepository } from './audit.repository';

const auditQuery = z
  .object({
    from: z.string().datetime({ offset: true, message: 'from must be an ISO 8601 time' }).optional(),
    to: z.string().datetime({ offset: true, message: 'to must be an ISO 8601 time' }).optional(),
    principal: z.string().max(200).optional(),
    team: z.string().max(64).optional(),
    action: z.string().max(64).optional(),
    decision: z.enum(['allow', 'deny', 'error', 'info']).optional(),
    cursor: z
      .string()
      .regex(/^\d{1,15}$/, 'cursor must be the nextCursor of a previous page')
      .optional(),
    limit: z.coerce.number().int().min(1, 'limit must be 1..1000').max(1000, 'limit must be 1..1000').default(100),
  })
  .strict();

/** The audit log for compliance officers and organizers (control listener). */
@ApiTags('audit')
@Controller('v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditRepository) {}

  @Get()
  @Allow('read', 'AuditLog')
  @ApiOperation({ summary: 'Audit leaves in index order, filtered, paginated by cursor' })
  @ApiQuery({ name: 'from', required: false, description: 'ISO 8601, inclusive' })
  @ApiQuery({ name: 'to', required: false, description: 'ISO 8601, exclusive' })
  @ApiQuery({ name: 'principal', required: false, description: 'job:<id> or user:<sub>' })
  @ApiQuery({ name: 'team', required: false })
  @ApiQuery({ name: 'action', required: false })
  @ApiQuery({ name: 'decision', required: false, enum: ['allow', 'deny', 'error', 'info'] })
  @ApiQuery({ name: 'cursor', required: false })
  @ApiQuery({ name: 'limit', required: false })
  async find(@Query() query: unknown) {
    const q = parseOrThrow(auditQuery, query);
    const leaves = await this.audit.find({
      from: q.from === undefined ? undefined : new Date(q.from),
      to: q.to === undefined ? undefined : new Date(q.to),
      principal: q.principal,
      team: q.team,
      action: q.action,
      decision: q.decision,
      after: q.cursor === undefined ? undefined : Number(q.cursor),
      limit: q.limit,
    });
    const last = leaves[leaves.length - 1];
    return { leaves, nextCursor: leaves.length === q.limit && last !== undefined ? String(last.index) : null };
  }
}
