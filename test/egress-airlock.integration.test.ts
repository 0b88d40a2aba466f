import { rmSync } from 'node:fs';
import { HELD_BUCKET, OUTBOX_BUCKET } from '../src/egress/egress-release';
import { postEgress } from './support/egress';
import { type Fixture, startFixture } from './support/fixture';
import { bearer, rawRequest } from './support/http';
import { egressExpectationsWithout, policyDirWith } from './support/policies';

const MODELS_AFTER_REVIEW = `@id("models-after-review")
permit (principal is Cage::Job, action == Cage::Action::"egress", resource is Cage::Artifact)
when { resource.kind == "model" };
`;

describe('the airlock: model egress after two compliance officers approve', () => {
  let f: Fixture;
  let dir: string;
  let officers: { ann: string; bob: string; insider: string };
  beforeAll(async () => {
    dir = policyDirWith({
      'models.cedar': MODELS_AFTER_REVIEW,
      // This set deliberately lets models out (after review): the expectation that they never leave goes.
      'tests/egress.json': egressExpectationsWithout('model weights do not leave without an explicit policy'),
      'budget.json': '{"dailyBits": 100000000, "dailySubmissions": {"predictions": 5, "metrics": 50, "model": 20}}' });
    f = await startFixture({ db: 'pglite', policyDir: dir });
    const t = f.gateway.core.tokens;
    officers = {
      ann: await t.issueUser('ann', 'auditor', null, 600),
      bob: await t.issueUser('bob', 'auditor', null, 600),
      // A compliance officer who is also a member of the submitting team.
      insider: await t.issueUser('ivy', 'auditor', 'beta', 600),
    };
  });
  afterAll(async () => {
    await f?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const weights = (n: number) => Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * n) % 251));
  const submit = async (n: number) => {
    const r = await postEgress(f.gateway.sandboxUrl, 'model', f.beta.token, weights(n), 'application/octet-stream');
    expect(r.status).toBe(202);
    expect(r.json).toMatchObject({ status: 'pending_review', kind: 'model', bits: 8000 });
    return r.json.id as string;
  };
  const review = (id: string, token: string, decision: 'approve' | 'reject', comment = 'looked at the architecture and training log') =>
    rawRequest(f.gateway.controlUrl, 'POST', `/v1/egress/${id}/reviews`, { ...bearer(token), 'content-type': 'application/json' }, JSON.stringify({ decision, comment }));
  const outbox = async () => (await f.gateway.core.store.list(OUTBOX_BUCKET, '', undefined, 1000)).objects.map((o) => o.key);

  it('holds the artifact outside the outbox, with nothing to download', async () => {
    const id = await submit(1);
    const { artifact } = await f.gateway.core.egressReceipts.get({ kind: 'user', sub: 'x', role: 'organizer', team: null }, id);
    expect((await f.gateway.core.store.head(HELD_BUCKET, artifact.outboxKey!)).size).toBe(1000);
    expect(await outbox()).not.toContain(artifact.outboxKey);
    expect((await rawRequest(f.gateway.controlUrl, 'GET', `/v1/egress/${id}/content`, bearer(f.organizerToken))).status).toBe(404);
  });

  it('should not let the same officer approve twice, a submitting-team member review, or an organizer or contestant review', async () => {
    const id = await submit(2);
    expect((await review(id, officers.ann, 'approve')).status).toBe(201);
    const twice = await review(id, officers.ann, 'approve');
    expect(twice.status).toBe(409);
    expect((await review(id, officers.insider, 'approve')).status).toBe(403);
    expect((await review(id, f.organizerToken, 'approve')).status).toBe(403);
    const betaPerson = await f.gateway.core.tokens.issueUser('bea', 'contestant', 'beta', 600);
    expect((await review(id, betaPerson, 'approve')).status).toBe(403);
    const { artifact } = await f.gateway.core.egressReceipts.get({ kind: 'user', sub: 'x', role: 'organizer', team: null }, id);
    expect(artifact.status).toBe('pending_review');
  });

  it('releases after two distinct approvals: the content is what the release leaf hashes', async () => {
    const id = await submit(3);
    expect((await review(id, officers.ann, 'approve')).status).toBe(201);
    const second = await review(id, officers.bob, 'approve');
    expect(second.status).toBe(201);
    expect(JSON.parse(second.body.toString())).toMatchObject({ artifact: { status: 'released' } });
    const content = await rawRequest(f.gateway.controlUrl, 'GET', `/v1/egress/${id}/content`, bearer(f.auditorToken));
    expect(content.body.equals(weights(3))).toBe(true);
    const leaves = (await f.gateway.core.auditRepo.find({ limit: 1000 })).map((l) => l.leaf).filter((l) => l.resource?.id === id);
    expect(leaves.map((l) => l.action)).toEqual(['egress.hold', 'egress.review', 'egress.review', 'egress.release']);
    expect(leaves[3].sha256).toBe(content.headers['x-cage-sha256']);
  });

  it('rejects on one reject after an approval, and releases nothing', async () => {
    const id = await submit(4);
    expect((await review(id, officers.ann, 'approve')).status).toBe(201);
    const r = await review(id, officers.bob, 'reject', 'weights of a kNN: training records inside');
    expect(JSON.parse(r.body.toString())).toMatchObject({ artifact: { status: 'rejected' } });
    expect((await review(id, officers.ann, 'approve')).status).toBe(409);
    expect((await rawRequest(f.gateway.controlUrl, 'GET', `/v1/egress/${id}/content`, bearer(f.auditorToken))).status).toBe(404);
    const { artifact } = await f.gateway.core.egressReceipts.get({ kind: 'user', sub: 'x', role: 'organizer', team: null }, id);
    expect(await outbox()).not.toContain(artifact.outboxKey);
  });

  it('should not accept a review without a comment or with an unknown decision', async () => {
    const id = await submit(5);
    const noComment = await rawRequest(f.gateway.controlUrl, 'POST', `/v1/egress/${id}/reviews`, { ...bearer(officers.ann), 'content-type': 'application/json' }, JSON.stringify({ decision: 'approve' }));
    expect(noComment.status).toBe(400);
    expect((await review(id, officers.ann, 'maybe' as 'approve')).status).toBe(400);
  });
});
