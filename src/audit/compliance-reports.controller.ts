import { Controller, Get, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { type FastifyReply } from 'fastify';
import { type z } from 'zod';
import { Allow } from '../auth/access.decorator';
import { ContentResponse, ZodQuery } from '../ops/openapi.decorators';
import { PolicyEngine } from '../policy/policy.types';
import { auditEventList, reportQuery, teamReportList } from './audit.dto';
import { ComplianceReports, toCsv } from './compliance-reports.service';

const CSV = { 'text/csv': 'text' } as const;

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
  @ContentResponse(200, 'JSON, or CSV with format=csv', CSV, teamReportList)
  async teams(@ZodQuery(reportQuery) q: z.infer<typeof reportQuery>, @Res() reply: FastifyReply) {
    const rows = await this.reports.teams(window(q), this.policy.egress.budget.dailyBits);
    send(reply, q.format, 'teams', rows as unknown as Record<string, unknown>[]);
  }

  @Get('policy')
  @Allow('read', 'AuditLog')
  @ApiOperation({ summary: 'Every policy activation and rejection, with the SHA-256 of the set' })
  @ContentResponse(200, 'JSON, or CSV with format=csv', CSV, auditEventList)
  async policies(@ZodQuery(reportQuery) q: z.infer<typeof reportQuery>, @Res() reply: FastifyReply) {
    send(reply, q.format, 'events', await this.reports.events(['policy.activate', 'policy.reject'], window(q)));
  }

  @Get('airlock')
  @Allow('read', 'AuditLog')
  @ApiOperation({ summary: 'Every airlock decision: holds, reviews, releases and rejections of reviewed artifacts' })
  @ContentResponse(200, 'JSON, or CSV with format=csv', CSV, auditEventList)
  async airlock(@ZodQuery(reportQuery) q: z.infer<typeof reportQuery>, @Res() reply: FastifyReply) {
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
