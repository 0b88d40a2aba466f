import { type Command } from 'commander';
import { type Member, type MemberList, type NewMember, type NewTeam, type Team, type TeamList } from '../api-types';
import { seg } from '../client';
import { type CliIo, examples, handler } from '../context';
import { time } from '../output';

export function registerTeamCommands(program: Command, io: CliIo): void {
  const team = program.command('team').description('create teams and manage who belongs to them');

  team
    .command('add')
    .description('create a team')
    .argument('<id>', 'team id, e.g. team-042')
    .requiredOption('--name <name>', 'display name')
    .addHelpText('after', examples('cage team add team-042 --name "Radiology Rangers"'))
    .action(
      handler(io, async (ctx, id: string, opts: { name: string }) => {
        const created = await ctx.api().post<Team>('/v1/teams', { id, name: opts.name } satisfies NewTeam);
        if (ctx.json) return ctx.out.data(created);
        ctx.out.line(`added team ${created.id} (${created.name})`);
      }),
    );

  team
    .command('list')
    .description('list teams and their member counts')
    .action(
      handler(io, async (ctx) => {
        const { teams } = await ctx.api().get<TeamList>('/v1/teams');
        if (ctx.json) return ctx.out.data({ teams });
        ctx.out.table(
          ['id', 'name', 'members', 'created'],
          teams.map((t) => [t.id, t.name, t.members, time(t.createdAt)]),
          'no teams',
        );
      }),
    );

  const member = team.command('member').description("manage a team's members (the people whose tokens act for it)");

  member
    .command('add')
    .description('add a person to a team')
    .argument('<team>', 'team id')
    .argument('<subject>', "the person's subject (the `sub` of their identity token)")
    .option('--issuer <url>', "identity provider that issued the subject (default: the server's)")
    .addHelpText(
      'after',
      examples('cage team member add team-042 alice@example.org', 'cage team member add team-042 8f1c… --issuer https://login.example.org'),
    )
    .action(
      handler(io, async (ctx, teamId: string, subject: string, opts: { issuer?: string }) => {
        const body: NewMember = { subject, ...(opts.issuer === undefined ? {} : { issuer: opts.issuer }) };
        const added = await ctx.api().post<Member>(`/v1/teams/${seg(teamId)}/members`, body, { notFound: `no such team "${teamId}"` });
        if (ctx.json) return ctx.out.data(added);
        ctx.out.line(`added ${added.subject} (${added.issuer}) to team ${added.team}`);
      }),
    );

  member
    .command('list')
    .description("list a team's members")
    .argument('<team>', 'team id')
    .action(
      handler(io, async (ctx, teamId: string) => {
        const { members } = await ctx.api().get<MemberList>(`/v1/teams/${seg(teamId)}/members`, { notFound: `no such team "${teamId}"` });
        if (ctx.json) return ctx.out.data({ members });
        ctx.out.table(
          ['subject', 'issuer', 'added'],
          members.map((m) => [m.subject, m.issuer, time(m.addedAt)]),
          `team ${teamId} has no members`,
        );
      }),
    );

  member
    .command('remove')
    .description('remove a person from a team')
    .argument('<team>', 'team id')
    .argument('<subject>', "the person's subject")
    .action(
      handler(io, async (ctx, teamId: string, subject: string) => {
        await ctx
          .api()
          .delete(`/v1/teams/${seg(teamId)}/members/${seg(subject)}`, { notFound: `"${subject}" is not a member of team "${teamId}"` });
        if (ctx.json) return ctx.out.data({ team: teamId, subject, removed: true });
        ctx.out.line(`removed ${subject} from team ${teamId}`);
      }),
    );
}
