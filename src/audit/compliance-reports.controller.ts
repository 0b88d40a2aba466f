import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { type FastifyReply } from 'fastify';
import { z } from 'zod';
import { Allow } from '../auth/access.decorator';
import { parseOrThrow } from '../ops/validation';
import { PolicyEngine } from '../policy/policy.types';
import { ComplianceReports, toCsv } from './compliance-reports.service';

const windowQuery = z
  .object({
    from: z.string().datetime({ offset: true, message: 'from must be an ISO 8601 time' }).default('1970-01-01T00:00:00Z'),
    to: z.string().datetime({ offset: true, message: 'to must be an ISO 8601 time' }).optional(),
    format: z.enum(['json', 'csv']).default('json'),
  })
  .strict();

/** Compliance reports, JSON or CSV (auditor and organizer roles). */
@ApiTags('reports')
@Controller('v1/reports')
export class ComplianceReportsController {
  constructor(
    private readonly reports: ComplianceReports,
    private readonly policy: PolicyEngine,
  ) {}

  @Get('teams')
  @Allow('read', 'AuditLog')
  @ApiOperation({ summary: 'Per team: artifacts released and rejected (by reason), bits released, bytes read per dataset, denied reads' })
  @ApiQuery({ name: 'from', required: false })
  @ApiQuery({ name: 'to', required: false })
  @ApiQuery({ name: 'format', required: false, enum: ['json', 'csv'] })
  async teams(@Query() query: unknown, @Res() reply: FastifyReply) {
    const q = parseOrThrow(windowQuery, query);
    const rows = await this.reports.teams(window(q), this.policy.egress.budget);
    send(reply, q.format, 'teams', rows as unknown as Record<string, unknown>[]);
  }

  @Get('policy')
  @Allow('read', 'AuditLog')
  @ApiOperation({ summary: 'Every policy activation and rejection, with the SHA-256 of the set' })
  async policies(@Query() query: unknown, @Res() reply: FastifyReply) {
    const q = parseOrThrow(windowQuery, query);
    send(reply, q.format, 'events', await this.reports.events(['policy.activate', 'policy.reject'], window(q)));
  }

  @Get('airlock')
  @Allow('read', 'AuditLog')
  @ApiOperation({ summary: 'Every airlock decision: holds, reviews, releases and rejections of reviewed artifacts' })
  async airlock(@Query() query: unknown, @Res() reply: FastifyReply) {
    const q = parseOrThrow(windowQuery, query);
    send(
      reply,
      q.format,
      'events',
      await this.reports.events(['egress.hold', 'egress.review', 'egress.review.refuse', 'egress.review.void'], window(q)),
    );
  }
}

function window(q: { from: string; to?: string }) {
  return { from: new Date(q.from), to: q.to === undefined ? new Date(Date.now() + 1000) : new Date(q.to) };
}

function send(reply: FastifyReply, format: 'json' | 'csv', key: string, rows: Record<string, unknown>[]): void {
  if (format === 'csv') void reply.header('content-type', 'text/csv; charset=utf-8').send(toCsv(rows));
  else void reply.send({ [key]: rows });
}
