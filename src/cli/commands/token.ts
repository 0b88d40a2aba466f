import { type Command, Option } from 'commander';
import { type IssuedToken, type NewToken, type Role, ROLES } from '../api-types';
import { parseTokenTtl } from '../arg-parsers';
import { UsageError } from '../cli-error';
import { type CliIo, examples, handler } from '../context';
import { time } from '../output';

interface IssueOptions {
  subject: string;
  role: Role;
  team?: string;
  ttl?: number;
}

export function registerTokenCommands(program: Command, io: CliIo): void {
  const token = program.command('token').description('issue user tokens for the control API');

  token
    .command('issue')
    .description('issue a user token (organizer, auditor, or contestant of one team)')
    .requiredOption('--subject <subject>', 'who the token is for (its `sub`)')
    .addOption(new Option('--role <role>', 'what the token may do').choices(ROLES).makeOptionMandatory())
    .option('--team <team>', 'the team of a contestant (required with --role contestant, refused otherwise)')
    .option('--ttl <duration>', "lifetime: 30d, 12h, 3600 (default: the server's)", parseTokenTtl)
    .addHelpText(
      'after',
      `${examples('cage token issue --subject alice@example.org --role auditor --ttl 30d', 'export CAGE_TOKEN=$(cage token issue --subject ci --role organizer --ttl 12h)')}
Only the token goes to stdout (its expiry to stderr), so it can be captured by a script.
`,
    )
    .action(
      handler(io, async (ctx, opts: IssueOptions) => {
        if (opts.role === 'contestant' && opts.team === undefined) throw new UsageError('--role contestant needs --team');
        if (opts.role !== 'contestant' && opts.team !== undefined)
          throw new UsageError(`--team is only for --role contestant, not ${opts.role}`);
        const body: NewToken = {
          subject: opts.subject,
          role: opts.role,
          ...(opts.team === undefined ? {} : { team: opts.team }),
          ...(opts.ttl === undefined ? {} : { ttlSeconds: opts.ttl }),
        };
        const issued = await ctx.api().post<IssuedToken>('/v1/tokens', body);
        if (ctx.json) return ctx.out.data(issued);
        ctx.out.line(issued.token);
        ctx.out.note(
          `token for ${opts.subject} (${opts.role}${opts.team === undefined ? '' : ` of ${opts.team}`}) expires ${time(issued.expiresAt)}; it is not shown again`,
        );
      }),
    );
}
