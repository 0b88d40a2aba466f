import { type AuditLog, type RequestMeta } from '../audit/audit-log.service';
import { type Clock } from '../clock/clock';
import { type PolicyEngine } from '../policy/policy.types';
import { type JobPrincipal } from '../principal/principal';
import { S3Error } from './s3-error';

/**
 * Which S3 signature versions a job may sign with, asked of the policy (`authenticate`, on the
 * job's team): SigV4 is the protocol's baseline and is not asked; every SigV2 request is, so an
 * operator who wants SigV4 only removes the shipped permit (policies/s3-api.cedar) and activates
 * the set. A refusal is a decision like any other: one deny leaf naming the policy set.
 */
export class SignaturePolicy {
  constructor(
    private readonly policy: PolicyEngine,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  async admit(job: JobPrincipal, signature: 'sigv2', meta: RequestMeta): Promise<void> {
    const d = this.policy.decide({
      principal: { type: 'Job', id: job.jobId, team: job.team },
      action: 'authenticate',
      resource: { type: 'Team', id: job.team },
      listener: 'sandbox',
      now: this.clock.now(),
      context: { signature },
    });
    if (d.decision === 'allow') return;
    await this.audit.record(meta, {
      principal: `job:${job.jobId}`,
      team: job.team,
      action: 'authenticate',
      decision: 'deny',
      status: 403,
      resource: { type: 'signature', id: signature },
      policies: d.policies,
      policySet: d.policySet,
      detail: d.errors.length > 0 ? { errors: d.errors } : null,
    });
    throw new S3Error(403, 'AccessDenied', 'This gateway accepts SigV4 signatures only: sign with signature_version s3v4.');
  }
}
