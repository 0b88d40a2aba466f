import { CageMetrics } from '../metrics/metrics.registry';
import { type AuditLeaf, type JsonValue } from './audit-leaf';
import { countLeaf } from './leaf-metrics';

function leaf(action: string, decision: AuditLeaf['decision'], detail: Record<string, JsonValue> | null, bytes = 0): AuditLeaf {
  return {
    v: 1,
    time: '2026-01-01T00:00:00.000Z',
    requestId: 'r',
    principal: 'job:j-secret',
    team: 'team-secret',
    listener: 'sandbox',
    action,
    decision,
    status: null,
    resource: { type: 'object', dataset: 'ds-secret', keyHex: '6b6579' },
    range: null,
    policies: [],
    policySet: null,
    bytes,
    sha256: null,
    detail,
  };
}

describe('countLeaf', () => {
  const series = async (m: CageMetrics) =>
    (await m.scrape()).split('\n').filter((l) => l.startsWith('cage_egress') || l.startsWith('cage_data') || l.startsWith('cage_policy'));

  it('counts each egress submission once, by kind and outcome, with the bits its leaf says were charged', async () => {
    const m = new CageMetrics();
    countLeaf(m, leaf('egress.release', 'allow', { kind: 'predictions', bits: 12.5, artifact: 'a' }, 100));
    countLeaf(m, leaf('egress.hold', 'allow', { kind: 'metrics', bits: 3, review: 'two-person' }));
    countLeaf(m, leaf('egress.reject', 'deny', { kind: 'predictions', bits: 1.25, reasons: ['blank_line@3'] }));
    countLeaf(m, leaf('egress.reject', 'deny', { kind: 'predictions', reasons: ['over_limits'] }));
    countLeaf(m, leaf('egress.reject', 'deny', { kind: 'metrics', reasons: ['too_many_at_once'] }));
    countLeaf(m, leaf('egress.reject', 'deny', { kind: '(unknown)', reasons: ['unknown_kind'] }));
    countLeaf(m, leaf('egress.abort', 'deny', { kind: 'predictions', reason: 'aborted' }));
    // A held artifact's review closes it: counted as a review, not as a second submission or charge.
    countLeaf(m, leaf('egress.release', 'allow', { kind: 'metrics', bits: 3, approvals: 2, approvers: 'a,b' }));
    countLeaf(m, leaf('egress.reject', 'deny', { artifact: 'x', reasons: ['review_rejected'] }));
    countLeaf(m, leaf('egress.fail', 'error', { reason: 'outbox write failed' }));
    const s = await series(m);
    expect(s).toEqual(
      expect.arrayContaining([
        'cage_egress_attempts_total{kind="predictions",outcome="released"} 1',
        'cage_egress_attempts_total{kind="metrics",outcome="held"} 1',
        'cage_egress_attempts_total{kind="predictions",outcome="refused"} 1',
        'cage_egress_attempts_total{kind="predictions",outcome="over_limits"} 1',
        'cage_egress_attempts_total{kind="metrics",outcome="too_many_at_once"} 1',
        'cage_egress_attempts_total{kind="unknown",outcome="unknown_kind"} 1',
        'cage_egress_attempts_total{kind="predictions",outcome="aborted"} 1',
        'cage_egress_bits_charged_total{kind="predictions"} 13.75',
        'cage_egress_bits_charged_total{kind="metrics"} 3',
        'cage_egress_reviewed_total{outcome="released"} 1',
        'cage_egress_reviewed_total{outcome="rejected"} 1',
        'cage_egress_failures_total 1',
      ]),
    );
    expect(
      s
        .filter((l) => l.startsWith('cage_egress_attempts_total'))
        .map((l) => Number(l.split(' ')[1]))
        .reduce((a, b) => a + b),
    ).toBe(7);
  });

  it('counts the bytes of allowed reads only, and every leaf as a decision', async () => {
    const m = new CageMetrics();
    countLeaf(m, leaf('read', 'allow', null, 1000));
    countLeaf(m, leaf('read', 'deny', null, 0));
    countLeaf(m, leaf('head', 'allow', null, 0));
    countLeaf(m, leaf('team.create', 'info', null, 0));
    const s = await series(m);
    expect(s).toContain('cage_data_bytes_served_total{listener="sandbox"} 1000');
    expect(s).toContain('cage_policy_decisions_total{action="read",decision="allow"} 1');
    expect(s).toContain('cage_policy_decisions_total{action="read",decision="deny"} 1');
    expect(s).toContain('cage_policy_decisions_total{action="team.create",decision="info"} 1');
  });

  it('should not carry the leaf’s team, job, dataset or key into any label', async () => {
    const m = new CageMetrics();
    countLeaf(m, leaf('read', 'allow', null, 10));
    countLeaf(
      m,
      leaf('egress.release', 'allow', { kind: 'predictions', bits: 1, job: 'j-secret', outboxKey: 'team-secret/predictions/x.csv' }),
    );
    const text = await m.scrape();
    for (const secret of ['secret', '6b6579']) expect(text).not.toContain(secret);
  });
});
