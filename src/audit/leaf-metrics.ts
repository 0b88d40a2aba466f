import { type CageMetrics, labelName } from '../metrics/metrics.registry';
import { type AuditLeaf, type JsonValue } from './audit-leaf';

/** Refusals nobody outside sees (no row, no charge): the reason names the outcome. */
const UNSEEN_REFUSALS = new Set(['over_limits', 'too_many_at_once', 'unknown_kind']);

/**
 * Counts one committed audit leaf. Every decision the gateway makes is a leaf, so counting here
 * (and not in each service) sees all of them exactly once, and only once they are durable: the
 * figures never run ahead of the log. Called for each committed leaf; never throws.
 *
 * No team, job or resource is read from the leaf into a label (see CageMetrics).
 */
export function countLeaf(metrics: CageMetrics, leaf: AuditLeaf): void {
  metrics.decision(leaf.action, leaf.decision);
  if (leaf.action === 'read' && leaf.decision === 'allow' && leaf.bytes > 0)
    metrics.bytesServed.inc({ listener: leaf.listener }, leaf.bytes);
  if (leaf.action.startsWith('egress.')) countEgress(metrics, leaf);
}

/**
 * Egress outcomes, one per submission (the leaves the egress pipeline writes): egress.release
 * (direct), egress.hold, egress.reject (charged refusal, or one of the unseen ones), egress.abort,
 * and egress.throttle (a count of attempts refused by the rate limit).
 * A release after review and a review's rejection close a held artifact: counted apart, as
 * reviews, so a held submission is not counted twice.
 */
function countEgress(metrics: CageMetrics, leaf: AuditLeaf): void {
  const d = leaf.detail ?? {};
  const kind = kindOf(d.kind);
  const reasons = Array.isArray(d.reasons) ? d.reasons : [];
  switch (leaf.action) {
    case 'egress.release':
      if (d.approvals !== undefined) metrics.egressReviewed.inc({ outcome: 'released' });
      else attempt(metrics, kind, 'released', d.bits);
      break;
    case 'egress.hold':
      attempt(metrics, kind, 'held', d.bits);
      break;
    case 'egress.reject': {
      const only = reasons.length === 1 && typeof reasons[0] === 'string' ? reasons[0] : undefined;
      if (only === 'review_rejected') metrics.egressReviewed.inc({ outcome: 'rejected' });
      else if (only !== undefined && UNSEEN_REFUSALS.has(only)) attempt(metrics, kind, only, undefined);
      else attempt(metrics, kind, 'refused', d.bits);
      break;
    }
    case 'egress.abort':
      attempt(metrics, kind, 'aborted', undefined);
      break;
    case 'egress.throttle':
      // One summary leaf for the attempts of a job refused by the rate limit in a second; their kind is not read.
      if (typeof d.attempts === 'number' && d.attempts > 0)
        metrics.egressAttempts.inc({ kind: 'unknown', outcome: 'throttled' }, d.attempts);
      break;
    case 'egress.fail':
      metrics.egressFailures.inc();
      break;
  }
}

function attempt(metrics: CageMetrics, kind: string, outcome: string, bits: JsonValue | undefined): void {
  metrics.egressAttempts.inc({ kind, outcome });
  if (typeof bits === 'number' && Number.isFinite(bits) && bits > 0) metrics.egressBits.inc({ kind }, bits);
}

/** Kind names come from the policy directory (few, fixed); an unknown kind is logged as `(unknown)`. */
function kindOf(v: JsonValue | undefined): string {
  return typeof v === 'string' && v !== '(unknown)' ? labelName(v) : 'unknown';
}
