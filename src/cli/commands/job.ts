import { type Command } from 'commander';
import { type Job, type JobCredentials, type JobList, type NewJob } from '../api-types';
import { parseEnvAssignment, parseJobTtl, repeatable } from '../arg-parsers';
import { CliError, ExitCode, UsageError } from '../cli-error';
import { type Cluster, type JobEnd, type KubeJob, openCluster } from '../kubernetes/cluster';
import { jobManifests } from '../kubernetes/job-manifest';
import { seg } from '../client';
import { type CliIo, type CommandContext, examples, handler } from '../context';
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
    .option('--apply', 'create the Secret and the Job through the Kubernetes API instead of printing them')
    .option('--wait', 'with --apply: then wait for the Job to end, revoke its credential and delete its Secret')
    .option('--kubeconfig <file>', 'with --apply: the Kubernetes configuration (default: $KUBECONFIG, ~/.kube/config, in-cluster)')
    .option('--context <name>', "with --apply: the configuration's context to use (default: its current one)")
    .argument('[command...]', "the container's command (default: the image's)")
    .addHelpText(
      'after',
      `${examples(
        'cage job launch --team team-042 --image registry.example.org/team-042/train:1 | kubectl apply -f -',
        'cage job launch --team team-042 --image train:1 --runtime-class gvisor --ttl 6h -- python3 train.py',
      )}
Without --apply the output holds the run's credential (in the Secret): pipe it to kubectl, do
not keep it. With --apply the Secret and the Job are created through the Kubernetes API (the Job
owns the Secret, so deleting the Job deletes it) and nothing secret is printed. The pod gets the
sandbox label that deploy/kubernetes/network-policy.yaml confines, no service-account token and no
resolver. When the Job ends, \`cage job wait <job id>\` (or --wait) revokes the credential and
deletes the Secret; a credential nobody revokes still expires with --ttl.
`,
    )
    .action(
      handler(io, async (ctx, command: string[], opts: LaunchOptions) => {
        if (opts.gatewayUrl !== undefined && !/^https?:\/\/[^/\s]+$/.test(opts.gatewayUrl))
          throw new UsageError('--gateway-url must be http(s)://host:port, nothing after it');
        if (opts.wait === true && opts.apply !== true) throw new UsageError('--wait needs --apply');
        if (opts.apply !== true && (opts.kubeconfig !== undefined || opts.context !== undefined))
          throw new UsageError('--kubeconfig and --context go with --apply');
        // The cluster is reached before a credential is issued: a bad configuration issues nothing.
        const cluster =
          opts.apply === true ? await openCluster({ kubeconfig: opts.kubeconfig, context: opts.context, env: ctx.io.env }) : undefined;
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
        if (cluster === undefined) {
          ctx.out.line(JSON.stringify(manifests, null, 2));
          ctx.out.note(`job ${created.jobId} for team ${created.team}; when the Job ends: cage job wait ${created.jobId}`);
          return;
        }
        let launched: KubeJob;
        try {
          launched = await cluster.launch(manifests);
        } catch (err) {
          // Nothing runs with the credential: it goes.
          await revoke(ctx, created.jobId);
          throw err;
        }
        const where = `${launched.namespace}/${launched.name}`;
        if (opts.wait !== true) {
          if (ctx.json) return ctx.out.data({ jobId: created.jobId, team: created.team, kubernetes: launched });
          ctx.out.line(`job ${created.jobId} for team ${created.team} runs as Kubernetes Job ${where} on ${cluster.server}`);
          ctx.out.note(`when it ends: cage job wait ${created.jobId} --namespace ${launched.namespace}`);
          return;
        }
        ctx.out.note(`job ${created.jobId} for team ${created.team} runs as Kubernetes Job ${where}; waiting for it to end`);
        await finish(ctx, cluster, created.jobId, launched);
      }),
    );

  job
    .command('wait')
    .description("wait for a job's Kubernetes Job to end, then revoke its credential and delete its Secret")
    .argument('<id>', 'job id (as `cage job launch` printed it)')
    .option('--namespace <ns>', 'the sandbox namespace', 'cage')
    .option('--kubeconfig <file>', 'the Kubernetes configuration (default: $KUBECONFIG, ~/.kube/config, in-cluster)')
    .option('--context <name>', "the configuration's context to use (default: its current one)")
    .addHelpText(
      'after',
      `${examples('cage job wait job-5f2c… --namespace cage')}
Exits 0 when the Job completed, 1 when it failed (the reason printed, e.g. DeadlineExceeded) or
was deleted before it ended; the credential is revoked and the Secret deleted either way. A job
whose Kubernetes Job is gone already is revoked at once.
`,
    )
    .action(
      handler(io, async (ctx, id: string, opts: { namespace: string; kubeconfig?: string; context?: string }) => {
        const cluster = await openCluster({ kubeconfig: opts.kubeconfig, context: opts.context, env: ctx.io.env });
        const found = await cluster.findJob(opts.namespace, id);
        if (found === undefined) ctx.out.note(`no Kubernetes Job in ${opts.namespace} runs job ${id}; revoking its credential`);
        await finish(ctx, cluster, id, found ?? { name: '', namespace: opts.namespace, uid: '', secretName: '' });
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

/** After a Job: its credential revoked, its Secret deleted, how it ended reported (exit 1 unless it completed). */
async function finish(ctx: CommandContext, cluster: Cluster, jobId: string, job: KubeJob): Promise<void> {
  const end: JobEnd =
    job.name === ''
      ? { outcome: 'deleted', reason: undefined, startTime: undefined, completionTime: undefined }
      : await cluster.waitForEnd(job);
  const revoked = await revoke(ctx, jobId);
  const secrets = await cluster.deleteSecretsOf(job.namespace, jobId);
  const summary = { jobId, kubernetes: job.name === '' ? undefined : job, ...end, credential: revoked, secretsDeleted: secrets };
  const how =
    end.outcome === 'succeeded'
      ? 'completed'
      : end.outcome === 'failed'
        ? `failed (${end.reason ?? 'no reason given'})`
        : 'was deleted before it ended';
  if (ctx.json) ctx.out.data(summary);
  else {
    const took =
      end.startTime !== undefined && end.completionTime !== undefined ? ` after ${duration(end.startTime, end.completionTime)}` : '';
    ctx.out.line(`job ${jobId}: the Kubernetes Job ${how}${took}; credential ${revoked}; ${secrets} Secret(s) deleted`);
  }
  if (end.outcome !== 'succeeded') throw new CliError(ExitCode.Failed, `the Kubernetes Job for ${jobId} ${how}`);
}

/** Revokes a job credential; one revoked already (or expired) is fine. */
async function revoke(ctx: CommandContext, jobId: string): Promise<'revoked' | 'already revoked'> {
  try {
    await ctx.api().post<Job>(`/v1/jobs/${seg(jobId)}/revoke`, undefined, { notFound: `no such job "${jobId}"` });
    return 'revoked';
  } catch (err) {
    if (err instanceof CliError && err.exitCode === ExitCode.Conflict) return 'already revoked';
    throw err;
  }
}

function duration(from: string, to: string): string {
  const s = Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 1000));
  return s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;
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
  apply?: boolean;
  wait?: boolean;
  kubeconfig?: string;
  context?: string;
}
