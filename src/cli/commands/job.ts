import { type Command } from 'commander';
import { type Job, type JobCredentials, type JobList, type NewJob } from '../api-types';
import { parseEnvAssignment, parseJobTtl, repeatable } from '../arg-parsers';
import { UsageError } from '../cli-error';
import { jobManifests } from '../kubernetes/job-manifest';
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
    .command('launch')
    .description(
      "issue a job credential and print a Kubernetes Job (and its Secret) that runs a team's image confined, for kubectl apply -f -",
    )
    .requiredOption('--team <team>', 'team id')
    .requiredOption('--image <image>', "the team's container image")
    .option('--namespace <ns>', 'the sandbox namespace (where deploy/kubernetes applies its NetworkPolicies)', 'cage')
    .option('--name <name>', "the Job's name (default: cage-<job id>)")
    .option('--ttl <duration>', "the run's deadline and its credential's lifetime, 60 s to 24 h (default: 12h)", parseJobTtl, 43_200)
    .option('--cpu <quantity>', 'CPU request and limit', '4')
    .option('--memory <quantity>', 'memory request and limit', '16Gi')
    .option('--scratch <quantity>', 'the writable scratch volume (/scratch) and ephemeral storage', '20Gi')
    .option('--runtime-class <name>', 'a RuntimeClass, e.g. gvisor, for a kernel of its own')
    .option('--gateway-url <url>', "the sandbox listener as pods reach it (default: the cage-sandbox Service's address)")
    .option('--region <region>', 'the region S3 requests are signed for', 'us-east-1')
    .option('--env <NAME=value>', 'a variable for the job (repeatable)', repeatable(parseEnvAssignment), [])
    .argument('[command...]', "the container's command (default: the image's)")
    .addHelpText(
      'after',
      `${examples(
        'cage job launch --team team-042 --image registry.example.org/team-042/train:1 | kubectl apply -f -',
        'cage job launch --team team-042 --image train:1 --runtime-class gvisor --ttl 6h -- python3 train.py',
      )}
The output holds the run's credential (in the Secret): pipe it to kubectl, do not keep it. The
pod gets the sandbox label that deploy/kubernetes/network-policy.yaml confines, no service-account
token and no resolver. Revoke the credential when the Job ends: cage job revoke <job id>.
`,
    )
    .action(
      handler(io, async (ctx, command: string[], opts: LaunchOptions) => {
        if (opts.gatewayUrl !== undefined && !/^https?:\/\/[^/\s]+$/.test(opts.gatewayUrl))
          throw new UsageError('--gateway-url must be http(s)://host:port, nothing after it');
        const created = await ctx.api().post<JobCredentials>('/v1/jobs', { team: opts.team, ttlSeconds: opts.ttl } satisfies NewJob);
        const manifests = jobManifests({
          name: opts.name ?? `cage-${created.jobId.replace(/^job-/, '').slice(0, 40)}`,
          namespace: opts.namespace,
          team: created.team,
          jobId: created.jobId,
          image: opts.image,
          command,
          credentials: { token: created.token, accessKeyId: created.accessKeyId, secretAccessKey: created.secretAccessKey },
          gatewayUrl: opts.gatewayUrl,
          region: opts.region,
          deadlineSeconds: opts.ttl,
          cpu: opts.cpu,
          memory: opts.memory,
          scratch: opts.scratch,
          runtimeClassName: opts.runtimeClass,
          env: Object.fromEntries(opts.env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])),
        });
        ctx.out.line(JSON.stringify(manifests, null, 2));
        ctx.out.note(`job ${created.jobId} for team ${created.team}; revoke it when the Job ends: cage job revoke ${created.jobId}`);
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

interface LaunchOptions {
  team: string;
  image: string;
  namespace: string;
  name?: string;
  ttl: number;
  cpu: string;
  memory: string;
  scratch: string;
  runtimeClass?: string;
  gatewayUrl?: string;
  region: string;
  env: string[];
}
