import { type Command } from 'commander';
import { type Leaderboard, type Submission, type SubmissionList, type SubmissionSelection } from '../api-types';
import { seg } from '../client';
import { type CliIo, type CommandContext, examples, handler } from '../context';

/** `cage leaderboard` and `cage submissions`: the competition's board, its close, and the teams' final submissions. */
export function registerLeaderboardCommands(program: Command, io: CliIo): void {
  const board = program
    .command('leaderboard')
    .description('the leaderboard: each team’s shown (public) score, and after the close the private ranking')
    .addHelpText('after', examples('cage leaderboard', 'cage leaderboard close'))
    .action(
      handler(io, async (ctx) =>
        show(
          ctx,
          await ctx
            .api()
            .get<Leaderboard>('/v1/leaderboard', { notFound: 'no competition: the active policy has no predictions-score kind' }),
        ),
      ),
    );

  board
    .command('close')
    .description("close the competition: score each team's final submissions on the private part and publish the ranking (once)")
    .addHelpText(
      'after',
      `Each team's final submissions are those it selected (cage submissions select), or its best
public one. Selections are frozen; the close is logged with the ranking. It cannot be undone.
`,
    )
    .action(
      handler(io, async (ctx) => {
        const closed = await ctx.api().post<Leaderboard>('/v1/leaderboard/close', undefined);
        show(ctx, closed);
      }),
    );

  const submissions = program
    .command('submissions')
    .description('leaderboard submissions (organizers: with exact public and private scores)')
    .option('--team <team>', 'one team')
    .action(
      handler(io, async (ctx, opts: { team?: string }) => {
        const { submissions: rows } = await ctx.api().get<SubmissionList>('/v1/submissions', { query: { team: opts.team } });
        if (ctx.json) return ctx.out.data({ submissions: rows });
        ctx.out.table(
          ['submission', 'team', 'day', 'shown', 'public', 'private', 'final'],
          rows.map((s) => [s.id, s.team, s.day, String(s.shownScore), num(s.publicScore), num(s.privateScore), s.selected ? 'yes' : '']),
          'no submissions',
        );
      }),
    );

  submissions
    .command('select')
    .description("make a submission one of its team's finals (scored on the private part at the close)")
    .argument('<id>', 'submission id')
    .option('--unselect', 'take it out of the finals instead')
    .action(
      handler(io, async (ctx, id: string, opts: { unselect?: boolean }) => {
        const body: SubmissionSelection = { selected: opts.unselect !== true };
        const s = await ctx.api().post<Submission>(`/v1/submissions/${seg(id)}/selection`, body, { notFound: `no submission "${id}"` });
        if (ctx.json) return ctx.out.data(s);
        ctx.out.line(`submission ${s.id} (team ${s.team}) ${s.selected ? 'is' : 'is no longer'} a final submission`);
      }),
    );
}

function show(ctx: CommandContext, b: Leaderboard): void {
  if (ctx.json) return ctx.out.data(b);
  ctx.out.line(`${b.competition} (${b.metric}, Ladder step ${b.ladderStep})${b.closed ? `, closed ${b.closedAt ?? ''}` : ''}`);
  ctx.out.table(
    ['rank', 'team', 'public', 'submissions'],
    b.public.map((r) => [String(r.rank), r.team, String(r.score), String(r.submissions)]),
    'no submissions yet',
  );
  if (b.private !== null) {
    ctx.out.line('private ranking:');
    ctx.out.table(
      ['rank', 'team', 'private'],
      b.private.map((r) => [String(r.rank), r.team, String(r.score)]),
      'no final submissions',
    );
  }
}

function num(v: number | null | undefined): string {
  return v === undefined || v === null ? '' : String(v);
}
