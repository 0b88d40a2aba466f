import { type AuditLog, type RequestMeta } from '../audit/audit-log.service';
import { type Clock } from '../clock/clock';
import { type ObjectStore } from '../storage/object-store.service';
import { type Artifact, type EgressRepository } from './egress.repository';
import { DependencyUnavailableError } from '../ops/http-answer';

/** Released artifacts, and nothing else, live here. */
export const OUTBOX_BUCKET = 'cage-outbox';
/** Artifacts waiting for review (never served from here). */
export const HELD_BUCKET = 'cage-held';
/** Objects found in the outbox without a release leaf are moved here and reported. */
export const QUARANTINE_BUCKET = 'cage-quarantine';

const EXTENSIONS: Record<string, string> = { 'predictions-csv': 'csv', 'metrics-json': 'json', opaque: 'bin' };

export function outboxKey(team: string, kind: string, format: string, id: string): string {
  return `${team}/${kind}/${id}.${EXTENSIONS[format] ?? 'bin'}`;
}

export class ReleaseFailedError extends DependencyUnavailableError {}

/**
 * The release protocol, shared by direct egress and by the airlock. The leaf recording the
 * release is durable before the artifact is written to the outbox; if the write fails, a failure
 * leaf follows, the artifact is marked failed, and nothing is released. A crash between the two
 * is found by the reconciler at the next start.
 */
export class Releaser {
  constructor(
    private readonly store: ObjectStore,
    private readonly repo: EgressRepository,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  async release(
    artifact: Pick<Artifact, 'id' | 'team' | 'kind' | 'jobId' | 'sha256' | 'bits' | 'bytes' | 'outboxKey'>,
    canonical: Buffer,
    leaf: { principal: string; policies: string[]; policySet: string | null; detail?: Record<string, string | number> },
    meta: RequestMeta,
  ): Promise<number> {
    const resource = { type: 'artifact', id: artifact.id };
    const base = {
      principal: leaf.principal,
      team: artifact.team,
      resource,
      policySet: leaf.policySet,
      sha256: artifact.sha256,
      bytes: artifact.bytes ?? 0,
    };
    let index: number;
    try {
      ({ index } = await this.audit.record(meta, {
        ...base,
        action: 'egress.release',
        decision: 'allow',
        policies: leaf.policies,
        detail: {
          artifact: artifact.id,
          kind: artifact.kind,
          job: artifact.jobId,
          bits: artifact.bits,
          outboxKey: artifact.outboxKey ?? '',
          ...leaf.detail,
        },
      }));
    } catch (err) {
      await this.repo.transition(artifact.id, ['releasing'], 'failed', this.clock.now()).catch(() => undefined);
      throw err;
    }
    await this.repo.setAuditIndex(artifact.id, index);
    try {
      await this.store.put(OUTBOX_BUCKET, artifact.outboxKey ?? '', canonical, 'application/octet-stream', canonical.length);
    } catch (err) {
      await this.audit
        .record(meta, {
          ...base,
          action: 'egress.fail',
          decision: 'error',
          detail: { artifact: artifact.id, releaseIndex: index, reason: 'outbox write failed' },
        })
        .catch(() => undefined);
      await this.repo.transition(artifact.id, ['releasing'], 'failed', this.clock.now()).catch(() => undefined);
      throw new ReleaseFailedError('the outbox could not be written; nothing was released', { cause: err });
    }
    await this.repo.transition(artifact.id, ['releasing'], 'released', this.clock.now());
    return index;
  }
}
