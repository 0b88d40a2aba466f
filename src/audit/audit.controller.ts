import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { type z } from 'zod';
import { Allow } from '../auth/access.decorator';
import { ZodQuery, ZodResponse } from '../ops/openapi.decorators';
import { auditPage, auditQuery } from './audit.dto';
import { AuditRepository } from './audit.repository';

/** The audit log for compliance officers and organizers (control listener). */
@ApiTags('audit')
@Controller('v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditRepository) {}

  @Get()
  @Allow('read', 'AuditLog')
  @ApiOperation({ summary: 'Audit leaves in index order, filtered, paginated by cursor' })
  @ZodResponse(200, auditPage)
  async find(@ZodQuery(auditQuery) q: z.infer<typeof auditQuery>): Promise<z.infer<typeof auditPage>> {
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
