import { type Command, Option } from 'commander';
import { type IssuedToken, type NewToken, type Role, ROLES, type SubjectRevocation, type TokenRevocation } from '../api-types';
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
    .option('--ttl <duration>', 'lifetime: 30d, 12h, 3600 (default: 12h for an organizer or auditor, 7d for a contestant)', parseTokenTtl)
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
          `token ${issued.tokenId} for ${opts.subject} (${opts.role}${opts.team === undefined ? '' : ` of ${opts.team}`}) expires ${time(issued.expiresAt)}; it is not shown again`,
        );
      }),
    );

  token
    .command('refresh')
    .description('exchange the token you are using for a fresh one with the same lifetime from now; the old one stops working')
    .addHelpText(
      'after',
      `${examples('export CAGE_TOKEN=$(cage token refresh)')}
Only the new token goes to stdout (its expiry to stderr). Refresh before the token expires: an
expired or revoked token cannot be refreshed (ask an organizer for a new one).
`,
    )
    .action(
      handler(io, async (ctx) => {
        const issued = await ctx.api().post<IssuedToken>('/v1/tokens/refresh', {});
        if (ctx.json) return ctx.out.data(issued);
        ctx.out.line(issued.token);
        ctx.out.note(`token ${issued.tokenId} expires ${time(issued.expiresAt)}; the token it replaces no longer works`);
      }),
    );

  token
    .command('revoke')
    .description('revoke a user token by its id, or every token of a subject issued up to now: refused on every replica within 1 s')
    .argument('[tokenId]', 'the id `cage token issue` printed (its jti)')
    .option('--subject <subject>', 'every token of this subject issued up to now (a person who left)')
    .addHelpText('after', examples('cage token revoke 5b0c…-…', 'cage token revoke --subject alice@example.org'))
    .action(
      handler(io, async (ctx, tokenId: string | undefined, opts: { subject?: string }) => {
        if ((tokenId === undefined) === (opts.subject === undefined)) throw new UsageError('name a token id or --subject, not both');
        const r =
          tokenId !== undefined
            ? await ctx.api().post<TokenRevocation>(`/v1/tokens/${encodeURIComponent(tokenId)}/revoke`, {})
            : await ctx
                .api()
                .post<TokenRevocation>('/v1/tokens/revoke-subject', { subject: opts.subject ?? '' } satisfies SubjectRevocation);
        if (ctx.json) return ctx.out.data(r);
        ctx.out.line(`revoked ${r.tokenId ?? `every token of ${r.subject} issued up to ${time(r.revokedAt)}`}`);
      }),
    );
}
