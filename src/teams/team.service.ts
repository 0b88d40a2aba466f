import { ConflictException, NotFoundException } from '@nestjs/common';
import { type AuditLog, type RequestMeta } from '../audit/audit-log.service';
import { type UserPrincipal } from '../principal/principal';
import { type Clock } from '../clock/clock';
import { type Member, type TeamRepository, type TeamRow } from './team.repository';
import { actor } from '../principal/principal';

/** Teams and their members. Every change is an audit leaf with who, what and the after state. */
export class TeamService {
  constructor(
    private readonly teams: TeamRepository,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  async create(user: UserPrincipal, input: { id: string; name: string }, meta: RequestMeta): Promise<TeamRow> {
    if ((await this.teams.get(input.id)) !== undefined) throw new ConflictException(`team ${input.id} already exists`);
    const now = this.clock.now();
    await this.teams.insert(input, now, actor(user));
    await this.audit.record(meta, {
      principal: actor(user),
      team: input.id,
      action: 'team.create',
      decision: 'allow',
      resource: { type: 'team', id: input.id },
      detail: { after: input },
    });
    return { ...input, members: 0, createdAt: now.toISOString() };
  }

  list(): Promise<TeamRow[]> {
    return this.teams.list();
  }

  async addMember(user: UserPrincipal, team: string, m: { subject: string; issuer?: string }, meta: RequestMeta): Promise<Member> {
    await this.mustExist(team);
    const issuer = m.issuer ?? '';
    const now = this.clock.now();
    if (!(await this.teams.addMember({ team, subject: m.subject, issuer }, now, actor(user))))
      throw new ConflictException(`${m.subject} is already a member of ${team}`);
    await this.audit.record(meta, {
      principal: actor(user),
      team,
      action: 'team.member.add',
      decision: 'allow',
      resource: { type: 'team', id: team },
      detail: { after: { subject: m.subject, issuer } },
    });
    return { team, subject: m.subject, issuer, addedAt: now.toISOString() };
  }

  async removeMember(user: UserPrincipal, team: string, subject: string, issuer: string, meta: RequestMeta): Promise<void> {
    await this.mustExist(team);
    if (!(await this.teams.removeMember(team, subject, issuer, this.clock.now(), actor(user))))
      throw new NotFoundException(`${subject} is not a member of ${team}`);
    await this.audit.record(meta, {
      principal: actor(user),
      team,
      action: 'team.member.remove',
      decision: 'allow',
      resource: { type: 'team', id: team },
      detail: { before: { subject, issuer } },
    });
  }

  async members(team: string): Promise<Member[]> {
    await this.mustExist(team);
    return this.teams.members(team);
  }

  private async mustExist(team: string): Promise<void> {
    if ((await this.teams.get(team)) === undefined) throw new NotFoundException(`no such team ${JSON.stringify(team)}`);
  }
}
