import { TokenService } from '../../src/auth/token.service';
import { type Gateway } from '../../src/gateway';
import { TeamRepository } from '../../src/teams/team.repository';

/**
 * A contestant's token as `POST /v1/tokens` makes one: the subject a member of the team first
 * (a contestant token speaks for its team only while its holder is a member since its issue).
 */
export async function contestantToken(gw: Pick<Gateway, 'get'>, subject: string, team: string, ttlSeconds: number): Promise<string> {
  await gw.get(TeamRepository).addMember({ team, subject, issuer: '' }, new Date(), 'test');
  return gw.get(TokenService).issueUser(subject, 'contestant', team, ttlSeconds);
}
