import { rmSync } from 'node:fs';
import { HELD_BUCKET, OUTBOX_BUCKET } from '../src/egress/egress-release';
import { DB_KINDS } from './support/backends';
import { postEgress } from './support/egress';
import { type Fixture, startFixture } from './support/fixture';
import { bearer, rawRequest } from './support/http';
import { egressExpectationsWithout, policyDirWith } from './support/policies';
import { AuditRepository } from '../src/audit/audit.repository';
import { EgressReceiptsService } from '../src/egress/egress-receipts.service';
import { PolicyEngine } from '../src/policy/policy.types';
import { ObjectStore } from '../src/storage/object-store.service';
import { TokenService } from '../src/auth/token.service';
import { contestantToken } from './support/tokens';

const MODELS_AFTER_REVIEW = `@id("models-after-review")
permit (principal is Cage::Job, action == Cage::Action::"egress", resource is Cage::Artifact)
when { resource.kind == "model" };
`;

describe.each(DB_KINDS)('the airlock: model egress after two compliance officers approve (%s)', (db) => {
  let f: Fixture;
  let dir: string;
  let officers: { ann: string; bob: string; insider: string };
  beforeAll(async () => {
    dir = policyDirWith({
      'models.cedar': MODELS_AFTER_REVIEW,
      // This set deliberately lets models out (after review): the expectation that they never leave goes.
      'tests/egress.json': egressExpectationsWithout('model weights do not leave without an explicit policy'),
      'budget.json': '{"dailyBits": 100000000, "dailySubmissions": {"predictions": 5, "metrics": 50, "model": 20, "submissions": 5}}',
    });
    f = await startFixture({ db, policyDir: dir });
    const t = f.gateway.get(TokenService);
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
    expect(r.json).toMatchObject({ status: 'pending_review', kind: 'model' });
    // Charged at least the full capacity of 1000 opaque bytes.
    expect(r.json.bits).toBeGreaterThanOrEqual(8000);
    return r.json.id as string;
  };
  const review = (id: string, token: string, decision: 'approve' | 'reject', comment = 'looked at the architecture and training log') =>
    rawRequest(
      f.gateway.controlUrl,
      'POST',
      `/v1/egress/${id}/reviews`,
      { ...bearer(token), 'content-type': 'application/json' },
      JSON.stringify({ decision, comment }),
    );
  const outbox = async () => (await f.gateway.get(ObjectStore).list(OUTBOX_BUCKET, '', undefined, 1000)).objects.map((o) => o.key);
  const organizer = (method: string, path: string, body?: unknown) =>
    rawRequest(
      f.gateway.controlUrl,
      method,
      path,
      { ...bearer(f.organizerToken), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body === undefined ? undefined : JSON.stringify(body),
    );
  const auditorFor = (sub: string) => f.gateway.get(TokenService).issueUser(sub, 'auditor', null, 600);
  const artifactOf = async (id: string) =>
    (await f.gateway.get(EgressReceiptsService).get({ kind: 'user', sub: 'x', role: 'organizer', team: null }, id)).artifact;
  const leavesOf = async (id: string, action: string) =>
    (await f.gateway.get(AuditRepository).find({ action, limit: 1000 })).filter((l) => l.leaf.resource?.id === id);
  /** A refused review: 403 naming the rule, the artifact unchanged and out of the outbox, a deny leaf saying why. */
  const expectRefused = async (id: string, token: string, sub: string, affiliation: string[]) => {
    const r = await review(id, token, 'approve');
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body.toString()).message).toMatch(/independent of the submitting team/);
    const artifact = await artifactOf(id);
    expect(artifact.status).toBe('pending_review');
    expect(await outbox()).not.toContain(artifact.outboxKey);
    const refused = (await leavesOf(id, 'egress.review.refuse')).filter((l) => l.leaf.principal === `user:${sub}`);
    expect(refused).toHaveLength(1);
    expect(refused[0].leaf).toMatchObject({
      decision: 'deny',
      status: 403,
      team: 'beta',
      policies: ['review-independent-of-team'],
      detail: { artifact: id, review: 'approve', affiliation },
    });
    expect(
      (await f.gateway.get(EgressReceiptsService).get({ kind: 'user', sub: 'x', role: 'organizer', team: null }, id)).reviews.map(
        (x) => x.reviewer,
      ),
    ).not.toContain(`user:${sub}`);
  };

  it('should not let a person an organizer issued a team-claimed token for approve with a claim-less auditor token', async () => {
    const issued = await organizer('POST', '/v1/tokens', { subject: 'dora', role: 'contestant', team: 'beta', ttlSeconds: 600 });
    expect(issued.status).toBe(201);
    // Issuing it made dora a member; ending that membership does not end the affiliation the token made.
    expect((await organizer('DELETE', '/v1/teams/beta/members/dora')).status).toBe(204);
    const id = await submit(41);
    await expectRefused(id, await auditorFor('dora'), 'dora', ['former member', 'team token']);
  });

  it('should not release an artifact on one approval', async () => {
    const id = await submit(40);
    const one = await review(id, officers.ann, 'approve');
    expect(one.status).toBe(201);
    expect(JSON.parse(one.body.toString())).toMatchObject({ artifact: { status: 'pending_review' } });
    expect(await outbox()).not.toContain((await artifactOf(id)).outboxKey);
    expect(await leavesOf(id, 'egress.release')).toEqual([]);
    expect((await rawRequest(f.gateway.controlUrl, 'GET', `/v1/egress/${id}/content`, bearer(f.organizerToken))).status).toBe(404);
  });

  it('holds the artifact outside the outbox, with nothing to download', async () => {
    const id = await submit(1);
    const { artifact } = await f.gateway.get(EgressReceiptsService).get({ kind: 'user', sub: 'x', role: 'organizer', team: null }, id);
    expect((await f.gateway.get(ObjectStore).head(HELD_BUCKET, artifact.outboxKey!)).size).toBe(1000);
    expect(await outbox()).not.toContain(artifact.outboxKey);
    expect((await rawRequest(f.gateway.controlUrl, 'GET', `/v1/egress/${id}/content`, bearer(f.organizerToken))).status).toBe(404);
  });

  it('should not let the same officer approve twice, a submitting-team member review, or an organizer or contestant review', async () => {
    const id = await submit(2);
    expect((await review(id, officers.ann, 'approve')).status).toBe(201);
    const twice = await review(id, officers.ann, 'approve');
    expect(twice.status).toBe(409);
    expect((await review(id, officers.insider, 'approve')).status).toBe(403);
    expect((await leavesOf(id, 'egress.review.refuse')).map((l) => l.leaf.detail)).toEqual([
      { artifact: id, review: 'approve', affiliation: ['team claim'] },
    ]);
    expect((await review(id, f.organizerToken, 'approve')).status).toBe(403);
    const betaPerson = await contestantToken(f.gateway, 'bea', 'beta', 600);
    expect((await review(id, betaPerson, 'approve')).status).toBe(403);
    const { artifact } = await f.gateway.get(EgressReceiptsService).get({ kind: 'user', sub: 'x', role: 'organizer', team: null }, id);
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
    const leaves = (await f.gateway.get(AuditRepository).find({ limit: 1000 })).map((l) => l.leaf).filter((l) => l.resource?.id === id);
    expect(leaves.map((l) => l.action)).toEqual(['egress.hold', 'egress.review', 'egress.review', 'egress.release']);
    expect(leaves[3].sha256).toBe(content.headers['x-cage-sha256']);
    // The release was policy's decision, and its leaf says which policy let the artifact out.
    expect(leaves[3]).toMatchObject({
      principal: 'user:bob',
      policies: ['release-after-two-approvals'],
      policySet: f.gateway.get(PolicyEngine).active.sha256,
      detail: { approvals: 2, approvers: 'user:ann,user:bob' },
    });
  });

  it('rejects on one reject after an approval, and releases nothing', async () => {
    const id = await submit(4);
    expect((await review(id, officers.ann, 'approve')).status).toBe(201);
    const r = await review(id, officers.bob, 'reject', 'weights of a kNN: training records inside');
    expect(JSON.parse(r.body.toString())).toMatchObject({ artifact: { status: 'rejected' } });
    expect((await review(id, officers.ann, 'approve')).status).toBe(409);
    expect((await rawRequest(f.gateway.controlUrl, 'GET', `/v1/egress/${id}/content`, bearer(f.auditorToken))).status).toBe(404);
    const { artifact } = await f.gateway.get(EgressReceiptsService).get({ kind: 'user', sub: 'x', role: 'organizer', team: null }, id);
    expect(await outbox()).not.toContain(artifact.outboxKey);
  });

  it('should not let a member of the submitting team (per the membership table) approve with an auditor token that names no team', async () => {
    expect((await organizer('POST', '/v1/teams/beta/members', { subject: 'mia' })).status).toBe(201);
    const mia = await auditorFor('mia');
    const id = await submit(6);
    expect((await review(id, officers.ann, 'approve')).status).toBe(201);
    // Before issue 11 this second approval released the team's own model.
    await expectRefused(id, mia, 'mia', ['member']);
    // Nor may she reject it: a member's review of either kind does not count.
    expect((await review(id, mia, 'reject')).status).toBe(403);
    expect((await artifactOf(id)).status).toBe('pending_review');
  });

  it('should not let a former member of the submitting team approve', async () => {
    expect((await organizer('POST', '/v1/teams/beta/members', { subject: 'fay' })).status).toBe(201);
    expect((await organizer('DELETE', '/v1/teams/beta/members/fay')).status).toBe(204);
    expect((await organizer('GET', '/v1/teams/beta/members')).body.toString()).not.toContain('"fay"');
    const id = await submit(7);
    expect((await review(id, officers.ann, 'approve')).status).toBe(201);
    await expectRefused(id, await auditorFor('fay'), 'fay', ['former member']);
  });

  it('should not let the person who created a job of the submitting team approve its artifacts', async () => {
    // olga (an organizer) issues a job for beta; the same person with an auditor token is not independent.
    const job = await organizer('POST', '/v1/jobs', { team: 'beta', ttlSeconds: 600 });
    expect(job.status).toBe(201);
    const own = await postEgress(
      f.gateway.sandboxUrl,
      'model',
      JSON.parse(job.body.toString()).token,
      weights(8),
      'application/octet-stream',
    );
    expect(own.status).toBe(202);
    const olgaAuditor = await auditorFor('olga');
    await expectRefused(own.json.id as string, olgaAuditor, 'olga', ['job creator']);
    // ...nor of another job of the team (the fixture's, which someone else created).
    await expectRefused(await submit(9), olgaAuditor, 'olga', ['job creator']);
    // She is independent of alpha, for which she created no job.
    const alpha = await postEgress(f.gateway.sandboxUrl, 'model', f.alpha.token, weights(10), 'application/octet-stream');
    expect((await review(alpha.json.id as string, olgaAuditor, 'approve')).status).toBe(201);
  });

  it('identifies members by subject and issuer: a namesake at an external issuer does not affiliate a gateway-token officer', async () => {
    expect((await organizer('POST', '/v1/teams/beta/members', { subject: 'otto', issuer: 'https://idp.example/' })).status).toBe(201);
    const id = await submit(11);
    expect((await review(id, await auditorFor('otto'), 'approve')).status).toBe(201);
  });

  it('re-decides every approval at release: an approver who joined the team since does not count, and the voided approval is logged', async () => {
    const rex = await auditorFor('rex');
    const id = await submit(12);
    const first = await review(id, rex, 'approve');
    expect(first.status).toBe(201);
    expect((await organizer('POST', '/v1/teams/beta/members', { subject: 'rex' })).status).toBe(201);
    const second = await review(id, officers.bob, 'approve');
    expect(second.status).toBe(201);
    expect(JSON.parse(second.body.toString())).toMatchObject({ artifact: { status: 'pending_review' } });
    const artifact = await artifactOf(id);
    expect(artifact.status).toBe('pending_review');
    expect(await outbox()).not.toContain(artifact.outboxKey);
    expect(await leavesOf(id, 'egress.release')).toEqual([]);
    const rexReview = (await leavesOf(id, 'egress.review')).find((l) => l.leaf.principal === 'user:rex')!;
    const voided = await leavesOf(id, 'egress.review.void');
    expect(voided).toHaveLength(1);
    expect(voided[0].leaf).toMatchObject({
      principal: 'gateway',
      team: 'beta',
      decision: 'deny',
      policies: ['review-independent-of-team'],
      detail: { artifact: id, reviewer: 'user:rex', reviewIndex: rexReview.index, affiliation: ['member'] },
    });
    // A third independent officer makes two approvals that stand: released, naming them.
    const third = await review(id, await auditorFor('cy'), 'approve');
    expect(JSON.parse(third.body.toString())).toMatchObject({ artifact: { status: 'released' } });
    const [release] = await leavesOf(id, 'egress.release');
    expect(release.leaf.detail).toMatchObject({ approvals: 2, approvers: 'user:bob,user:cy' });
    expect(release.leaf.policies).toEqual(['release-after-two-approvals']);
  });

  it('should not accept a review without a comment or with an unknown decision', async () => {
    const id = await submit(5);
    const noComment = await rawRequest(
      f.gateway.controlUrl,
      'POST',
      `/v1/egress/${id}/reviews`,
      { ...bearer(officers.ann), 'content-type': 'application/json' },
      JSON.stringify({ decision: 'approve' }),
    );
    expect(noComment.status).toBe(400);
    expect((await review(id, officers.ann, 'maybe' as 'approve')).status).toBe(400);
  });
});
