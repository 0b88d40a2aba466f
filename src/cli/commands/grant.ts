import { type Command } from 'commander';
import { type Grant, type GrantList, type NewGrant } from '../api-types';
import { parseSize, parseTime, resolveTime, type TimeSpec } from '../arg-parsers';
import { UsageError } from '../cli-error';
import { seg } from '../client';
import { type CliIo, examples, handler } from '../context';
import { bytes, time } from '../output';

interface AddOptions {
  team: string;
  dataset: string;
  split: string;
  from: TimeSpec;
  until: TimeSpec;
  quota?: number;
}

/** Resolves --from/--until: a relative --from counts from now, a relative --until from --from. */
export function grantWindow(from: TimeSpec, until: TimeSpec, now: Date): { notBefore: string; notAfter: string } {
  const notBefore = resolveTime(from, now);
  const notAfter = resolveTime(until, notBefore);
  if (notAfter.getTime() <= notBefore.getTime()) {
    throw new UsageError(`--until (${time(notAfter.toISOString())}) must be after --from (${time(notBefore.toISOString())})`);
  }
  return { notBefore: notBefore.toISOString(), notAfter: notAfter.toISOString() };
}

function grantRow(g: Grant): (string | number)[] {
  return [g.id, g.team, g.dataset, g.split, g.state, time(g.notBefore), time(g.notAfter), g.byteQuota === null ? '-' : bytes(g.byteQuota)];
}

const GRANT_HEAD = ['id', 'team', 'dataset', 'split', 'state', 'from', 'until', 'quota'];

export function registerGrantCommands(program: Command, io: CliIo): void {
  const grant = program.command('grant').description("give teams time-boxed access to a dataset's splits");

  grant
    .command('add')
    .description('grant a team read access to one split for a time window')
    .requiredOption('--team <team>', 'team id')
    .requiredOption('--dataset <dataset>', 'dataset id')
    .requiredOption('--split <split>', 'split name (a labels split is never readable, whatever the grant)')
    .requiredOption(
      '--from <time>',
      'start: now, ISO 8601 (2025-06-01T00:00:00Z, 2025-06-01 = UTC midnight) or +duration from now',
      parseTime,
    )
    .requiredOption('--until <time>', 'end: ISO 8601, or a duration after --from (+30d, +12h)', parseTime)
    .option('--quota <size>', 'bytes the team may read under this grant: 1073741824, 500MB, 10GiB', parseSize)
    .addHelpText(
      'after',
      examples(
        'cage grant add --team team-042 --dataset lung-2025 --split train --from now --until +30d',
        'cage grant add --team team-042 --dataset lung-2025 --split test --from 2025-06-01 --until 2025-06-15T12:00:00Z --quota 10GiB',
      ),
    )
    .action(
      handler(io, async (ctx, opts: AddOptions) => {
        const window = grantWindow(opts.from, opts.until, new Date());
        const body: NewGrant = {
          team: opts.team,
          dataset: opts.dataset,
          split: opts.split,
          ...window,
          ...(opts.quota === undefined ? {} : { byteQuota: opts.quota }),
        };
        const created = await ctx.api().post<Grant>('/v1/grants', body);
        if (ctx.json) return ctx.out.data(created);
        const quota = created.byteQuota === null ? '' : `, quota ${bytes(created.byteQuota)}`;
        ctx.out.line(
          `granted ${created.team} ${created.dataset}/${created.split} from ${time(created.notBefore)} until ${time(created.notAfter)}${quota} (grant ${created.id}, ${created.state})`,
        );
      }),
    );

  grant
    .command('list')
    .description('list grants, optionally filtered')
    .option('--team <team>', 'only this team')
    .option('--dataset <dataset>', 'only this dataset')
    .option('--active', 'only grants in force now')
    .addHelpText('after', examples('cage grant list --team team-042 --active', 'cage grant list --dataset lung-2025 --json'))
    .action(
      handler(io, async (ctx, opts: { team?: string; dataset?: string; active?: boolean }) => {
        const query = { team: opts.team, dataset: opts.dataset, active: opts.active === true ? true : undefined };
        const { grants } = await ctx.api().get<GrantList>('/v1/grants', { query });
        if (ctx.json) return ctx.out.data({ grants });
        ctx.out.table(GRANT_HEAD, grants.map(grantRow), 'no grants');
      }),
    );

  grant
    .command('revoke')
    .description('revoke a grant (in force on every replica within 1 s)')
    .argument('<id>', 'grant id')
    .action(
      handler(io, async (ctx, id: string) => {
        const revoked = await ctx.api().post<Grant>(`/v1/grants/${seg(id)}/revoke`, undefined, { notFound: `no such grant "${id}"` });
        if (ctx.json) return ctx.out.data(revoked);
        ctx.out.line(`revoked grant ${revoked.id} (${revoked.team} ${revoked.dataset}/${revoked.split}) at ${time(revoked.revokedAt)}`);
      }),
    );
}
