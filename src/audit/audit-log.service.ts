import { type Clock } from '../clock/clock';
import { type AuditLeaf } from './audit-leaf';
import { type AppendedLeaf, type AuditWriter } from './audit-writer.service';

export interface RequestMeta {
  requestId: string;
  listener: 'sandbox' | 'control' | 'internal';
}

export type LeafFields = Pick<AuditLeaf, 'principal' | 'team' | 'action' | 'decision'> &
  Partial<Omit<AuditLeaf, 'v' | 'time' | 'requestId' | 'listener'>>;

/** Builds complete leaves (time, request id, defaults) and appends them durably. */
export class AuditLog {
  constructor(
    private readonly writer: AuditWriter,
    private readonly clock: Clock,
  ) {}

  record(meta: RequestMeta, f: LeafFields): Promise<AppendedLeaf> {
    const leaf: AuditLeaf = {
      v: 1,
      time: this.clock.now().toISOString(),
      requestId: meta.requestId,
      listener: meta.listener,
      principal: f.principal,
      team: f.team,
      action: f.action,
      decision: f.decision,
      status: f.status ?? null,
      resource: f.resource ?? null,
      range: f.range ?? null,
      policies: f.policies ?? [],
      policySet: f.policySet ?? null,
      bytes: f.bytes ?? 0,
      sha256: f.sha256 ?? null,
      detail: f.detail ?? null,
    };
    return this.writer.append(leaf);
  }
}
