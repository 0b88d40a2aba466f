import { type Clock } from '../clock/clock';
import { type JobRepository } from '../jobs/job.repository';
import { type PolicyDecision, type PolicyEngine, type UserRef } from '../policy/policy.types';
import { type TeamRepository } from '../teams/team.repository';
import { type Artifact } from './egress.repository';
import { type ReviewerIdentity } from './reviewer.repository';

/** How a reviewer is tied to the submitting team, for the refusal message and the audit leaf. */
export type Affiliation = 'member' | 'former member' | 'team claim' | 'team token' | 'job creator';

export interface ReviewDecision extends PolicyDecision {
  /** The reviewer's ties to the artifact's team; empty when they have none. */
  affiliation: Affiliation[];
  /** The reviewer as policy saw them (with every team they are tied to), to ask about a release. */
  principal: UserRef;
}

/**
 * Reviewer independence (issue 11), the information side: every team a reviewer is or was
 * affiliated with — member now or before (by subject at issuer), the team claim of their token,
 * any team an organizer ever issued them a team-claimed token for,
 * every team they created a job for — gathered from the tables and handed to the policy decision
 * point as the reviewer's teams. The rule itself is policy (`review-independent-of-team` in
 * policies/review.cedar): nothing here allows or refuses. So is the release the approvals lead
 * to (`release`): this is where the airlock asks both.
 */
export class ReviewerIndependence {
  constructor(
    private readonly policy: PolicyEngine,
    private readonly teams: TeamRepository,
    private readonly jobs: JobRepository,
    private readonly clock: Clock,
  ) {}

  async decide(
    who: ReviewerIdentity,
    artifact: Pick<Artifact, 'id' | 'kind' | 'team'>,
    listener: 'sandbox' | 'control',
  ): Promise<ReviewDecision> {
    const [memberships, tokenTeams, jobTeams] = await Promise.all([
      this.teams.teamsEverOf(who.subject, who.issuer),
      this.teams.teamsByToken(who.subject, who.issuer),
      this.jobs.teamsWithJobsBy(who.reviewer),
    ]);
    const teams = new Set([...memberships.map((m) => m.team), ...tokenTeams, ...jobTeams]);
    if (who.tokenTeam !== null) teams.add(who.tokenTeam);
    const principal: UserRef = { type: 'User', id: who.reviewer, role: who.role, teams: [...teams] };
    const decision = this.policy.decide({
      principal,
      action: 'review',
      resource: { type: 'Artifact', id: artifact.id, kind: artifact.kind, team: artifact.team },
      listener,
      now: this.clock.now(),
    });
    const membership = memberships.find((m) => m.team === artifact.team);
    const affiliation: Affiliation[] = [];
    if (membership !== undefined) affiliation.push(membership.current ? 'member' : 'former member');
    if (who.tokenTeam === artifact.team) affiliation.push('team claim');
    if (tokenTeams.includes(artifact.team)) affiliation.push('team token');
    if (jobTeams.includes(artifact.team)) affiliation.push('job creator');
    return { ...decision, affiliation, principal };
  }

  /**
   * Whether the approvals that still stand (each decided again on current facts, by distinct
   * officers) release the artifact: policy says how many are enough (`release-after-two-approvals`),
   * asked for the officer whose approval came in. The decision's policies go into the release leaf.
   */
  decideRelease(
    approver: UserRef,
    artifact: Pick<Artifact, 'id' | 'kind' | 'team'>,
    approvals: number,
    listener: 'sandbox' | 'control',
  ): PolicyDecision {
    return this.policy.decide({
      principal: approver,
      action: 'release',
      resource: { type: 'Artifact', id: artifact.id, kind: artifact.kind, team: artifact.team },
      listener,
      now: this.clock.now(),
      context: { approvals },
    });
  }
}
