import { type Command } from 'commander';
import { type Job, type JobCredentials, type JobList, type NewJob } from '../api-types';
import { parseJobTtl } from '../arg-parsers';
import { seg } from '../client';
import { type CliIo, examples, handler } from '../context';
import { time } from '../output';

export function registerJobCommands(program: Command, io: CliIo): void {
  const job = program.command('job').description('issue and revoke job credentials (what a sandboxed training run uses)');

  job
    .command('create')
    .description('issue a job credential for a team: a bearer token and an S3-style key pair, printed once')
    .requiredOption('--team <team>', 'team id')
    .option('--ttl <duration>', 'lifetime, 60 s to 24 h: 3600, 90m, 1h (default: 1h)', parseJobTtl)
    .addHelpText(
      'after',
      `${examples('cage job create --team team-042 --ttl 12h', 'cage job create --team team-042 --json > job.json && chmod 600 job.json')}
The token and the secret access key are printed to stdout only, once; the server keeps no way
to show them again. Revoke a job with \`cage job revoke <jobId>\`.
`,
    )
    .action(
      handler(io, async (ctx, opts: { team: string; ttl?: number }) => {
        const body: NewJob = { team: opts.team, ...(opts.ttl === undefined ? {} : { ttlSeconds: opts.ttl }) };
        const created = await ctx.api().post<JobCredentials>('/v1/jobs', body);
        if (ctx.json) return ctx.out.data(created);
        ctx.out.line(`job ${created.jobId} for team ${created.team}, expires ${time(created.expiresAt)}`);
        ctx.out.line(`token:             ${created.token}`);
        ctx.out.line(`access key id:     ${created.accessKeyId}`);
        ctx.out.line(`secret access key: ${created.secretAccessKey}`);
        ctx.out.note('warning: the token and secret access key are not shown again; store them now.');
      }),
    );

  job
    .command('list')
    .description('list job credentials (never their secrets)')
    .option('--team <team>', 'only this team')
    .option('--active', 'only jobs that are neither expired nor revoked')
    .action(
      handler(io, async (ctx, opts: { team?: string; active?: boolean }) => {
        const { jobs } = await ctx
          .api()
          .get<JobList>('/v1/jobs', { query: { team: opts.team, active: opts.active === true ? true : undefined } });
        if (ctx.json) return ctx.out.data({ jobs });
        ctx.out.table(
          ['job', 'team', 'access key id', 'state', 'created', 'expires'],
          jobs.map((j) => [j.jobId, j.team, j.accessKeyId, j.state, `${time(j.createdAt)} by ${j.createdBy}`, time(j.expiresAt)]),
          'no jobs',
        );
      }),
    );

  job
    .command('revoke')
    .description('revoke a job credential (refused on every replica within 1 s)')
    .argument('<id>', 'job id')
    .action(
      handler(io, async (ctx, id: string) => {
        const revoked = await ctx.api().post<Job>(`/v1/jobs/${seg(id)}/revoke`, undefined, { notFound: `no such job "${id}"` });
        if (ctx.json) return ctx.out.data(revoked);
        ctx.out.line(`revoked job ${revoked.jobId} (team ${revoked.team}) at ${time(revoked.revokedAt)}`);
      }),
    );
}
