import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Command } from 'commander';
import { type Job, type JobCredentials, type NewJob } from '../api-types';
import { InvalidArgumentError } from 'commander';
import { JOB_TTL_MAX_S, parseDuration, parseEnvAssignment, parsePositiveInt, parseSize, repeatable } from '../arg-parsers';
import { CliError, ExitCode, PassedOnExit, UsageError } from '../cli-error';
import { seg } from '../client';
import { type CliIo, examples, handler } from '../context';
import { bwrapArgs, cannotConfine, DOOR_PORT, INSIDE, makeCgroup, type RunCgroup } from '../sandbox/confine';

interface RunOptions {
  team: string;
  timeout: number;
  memory: number;
  cpus: number;
  pids: number;
  workdir?: string;
  log?: string;
  sandboxSocket?: string;
  s3Region: string;
  env: string[];
}

export interface RunReport {
  jobId: string;
  team: string;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  durationMs: number;
  peakMemoryBytes: number | null;
  limits: { memoryBytes: number; cpus: number; pids: number; timeoutSeconds: number; enforcedBy: 'cgroup' | 'rlimit' };
  credentialRevoked: boolean;
}

export function registerRunCommand(program: Command, io: CliIo): void {
  program
    .command('run')
    .description("run a command as a job of a team, confined: the gateway's sandbox listener its only door")
    .requiredOption('--team <team>', 'the team the job reads and releases for')
    .option('--timeout <duration>', 'wall-clock limit, up to 24 h: 90s, 30m, 12h, 3600 (default 1h)', parseRunTimeout, 3600)
    .option('--memory <size>', 'memory limit (default 4GiB)', parseSize, 4 * 1024 ** 3)
    .option('--cpus <n>', 'CPU limit, in CPUs (default 2)', parsePositiveInt, 2)
    .option('--pids <n>', 'most processes and threads at once (default 512)', parsePositiveInt, 512)
    .option('--workdir <dir>', "the job's working directory, writable, seen as /job (default: the current one)")
    .option('--log <file>', "the job's stdout and stderr to this file (default: this terminal)")
    .option('--sandbox-socket <path>', "the gateway's sandbox socket (default: $CAGE_DATA_DIR/sandbox.sock, ./.cage/sandbox.sock)")
    .option('--s3-region <region>', 'the region the job signs S3 requests for', 'us-east-1')
    .option(
      '--env <NAME=value>',
      "a variable for the job (repeatable); the job sees no other of this shell's",
      repeatable(parseEnvAssignment),
      [],
    )
    .argument('<command...>', 'the job: a program and its arguments (after --)')
    .addHelpText(
      'after',
      `${examples(
        'cage run --team team-042 -- python3 examples/nodule_job_boto3.py',
        'cage run --team team-042 --timeout 12h --memory 16GiB --cpus 8 --workdir ./job --log job.log -- ./train.sh',
      )}
Linux only, with bubblewrap (apt-get install bubblewrap). Inside: the door at
http://127.0.0.1:${DOOR_PORT} (CAGE_SANDBOX_URL, AWS_ENDPOINT_URL), a job credential issued for the
run and revoked when it ends (CAGE_JOB_TOKEN, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), the
working directory at ${INSIDE.job} and ${INSIDE.scratch} writable, the system's programs read-only,
no other network, no data dir, no home. The job's output goes to you (or --log), never to
contestants. Exits with the job's status (124 when it ran out of time). A host that cannot
confine is an error: the command never runs unconfined.
`,
    )
    .action(
      handler(io, async (ctx, command: string[], opts: RunOptions) => {
        if (command.length === 0) throw new UsageError('name the command to run, after --');
        const bwrap = ctx.io.env.CAGE_BWRAP ?? 'bwrap';
        const why = cannotConfine(bwrap);
        if (why !== undefined) throw new CliError(ExitCode.Failed, `cannot confine a job on this host: ${why}; nothing was run`);
        const socket = resolve(ctx.cwd(), opts.sandboxSocket ?? join(dataDirOf(ctx.io.env), 'sandbox.sock'));
        if (!existsSync(socket) || !statSync(socket).isSocket())
          throw new CliError(
            ExitCode.Unreachable,
            `no sandbox socket at ${socket}: is the gateway running on this host (CAGE_SANDBOX_SOCKET)? Name it with --sandbox-socket`,
          );
        const workdir = resolve(ctx.cwd(), opts.workdir ?? '.');
        if (!existsSync(workdir) || !statSync(workdir).isDirectory()) throw new UsageError(`--workdir ${workdir} is not a directory`);
        // Beside this file when built; from the build when run from the sources (tests).
        const relay = [
          join(__dirname, '..', 'sandbox', 'relay.js'),
          join(__dirname, '..', '..', '..', 'dist', 'cli', 'sandbox', 'relay.js'),
        ].find((f) => existsSync(f));
        if (relay === undefined)
          throw new CliError(
            ExitCode.Unreachable,
            'the sandbox relay (dist/cli/sandbox/relay.js) is missing: build the CLI (npm run build)',
          );

        // A credential for this run only, living no longer than the run may.
        const body: NewJob = { team: opts.team, ttlSeconds: Math.min(JOB_TTL_MAX_S, opts.timeout + 300) };
        const job = await ctx.api().post<JobCredentials>('/v1/jobs', body);
        const scratch = mkdtempSync(join(tmpdir(), 'cage-run-'));
        const limits = { memoryBytes: opts.memory, cpus: opts.cpus, pids: opts.pids };
        const cgroup = makeCgroup(`cage-run-${job.jobId}`, limits);
        let report: RunReport | undefined;
        try {
          const sandbox = bwrapArgs({
            workdir,
            scratch,
            socket,
            relay,
            command,
            env: {
              ...Object.fromEntries(opts.env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])),
              PATH: '/usr/local/bin:/usr/bin:/bin',
              HOME: INSIDE.scratch,
              TMPDIR: '/tmp',
              LANG: 'C.UTF-8',
              CAGE_SANDBOX_URL: `http://127.0.0.1:${DOOR_PORT}`,
              CAGE_S3_ENDPOINT: `http://127.0.0.1:${DOOR_PORT}`,
              CAGE_JOB_TOKEN: job.token,
              CAGE_JOB_ID: job.jobId,
              AWS_ENDPOINT_URL: `http://127.0.0.1:${DOOR_PORT}`,
              AWS_ACCESS_KEY_ID: job.accessKeyId,
              AWS_SECRET_ACCESS_KEY: job.secretAccessKey,
              AWS_REGION: opts.s3Region,
              AWS_DEFAULT_REGION: opts.s3Region,
            },
          });
          ctx.out.note(`cage run: job ${job.jobId} of team ${job.team}, confined (${cgroup === undefined ? 'rlimits' : 'cgroup'} limits)`);
          report = await runConfined(bwrap, sandbox, cgroup, opts, job);
        } finally {
          // The credential dies with the run, however it ended.
          let revoked = false;
          try {
            await ctx.api().post<Job>(`/v1/jobs/${seg(job.jobId)}/revoke`, undefined);
            revoked = true;
          } catch (err) {
            ctx.out.note(`cage run: could not revoke job ${job.jobId} (${(err as Error).message}); revoke it with cage job revoke`);
          }
          if (report !== undefined) report.credentialRevoked = revoked;
          try {
            cgroup?.remove();
          } catch {
            // a process still in it: the kernel frees it when the last one goes
          }
          rmSync(scratch, { recursive: true, force: true });
        }
        const r = report;
        const peak = r.peakMemoryBytes === null ? 'unknown' : `${(r.peakMemoryBytes / 1024 ** 2).toFixed(0)} MiB`;
        const how = r.timedOut ? `killed after its ${opts.timeout} s` : r.signal !== null ? `killed by ${r.signal}` : `exit ${r.exitCode}`;
        if (ctx.json) ctx.out.data(r);
        else
          ctx.out.note(
            `cage run: job ${r.jobId}: ${how}, ${(r.durationMs / 1000).toFixed(1)} s, peak memory ${peak}; credential ${r.credentialRevoked ? 'revoked' : 'NOT revoked'}`,
          );
        const status = r.timedOut ? 124 : r.signal !== null ? 137 : (r.exitCode ?? 1);
        if (status !== 0) throw new PassedOnExit(status);
      }),
    );
}

function dataDirOf(env: Record<string, string | undefined>): string {
  return env.CAGE_DATA_DIR !== undefined && env.CAGE_DATA_DIR !== '' ? env.CAGE_DATA_DIR : '.cage';
}

async function runConfined(
  bwrap: string,
  sandbox: string[],
  cgroup: RunCgroup | undefined,
  opts: RunOptions,
  job: JobCredentials,
): Promise<RunReport> {
  // Into the cgroup before bwrap starts (a shell that joins it, then becomes bwrap), or under
  // rlimits: processes of the invoking user, data segment size, CPU seconds.
  const argv =
    cgroup !== undefined
      ? [
          'sh',
          '-c',
          `for f in ${cgroup.procs.map((p) => `'${p}'`).join(' ')}; do echo $$ > "$f" || exit 125; done; exec "$@"`,
          'sh',
          bwrap,
          ...sandbox,
        ]
      : [
          'prlimit',
          `--nproc=${opts.pids}`,
          `--data=${opts.memory}`,
          `--cpu=${opts.timeout * Math.max(1, Math.ceil(opts.cpus))}`,
          '--',
          bwrap,
          ...sandbox,
        ];
  const log = opts.log === undefined ? undefined : openSync(resolve(opts.log), 'a', 0o600);
  const started = Date.now();
  let timedOut = false;
  try {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', log ?? 'inherit', log ?? 'inherit'], detached: true });
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, opts.timeout * 1000);
    // This CLI interrupted: the sandbox goes too (bwrap's --die-with-parent does the rest).
    const stop = () => child.pid !== undefined && process.kill(-child.pid, 'SIGKILL');
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done, fail) => {
      child.once('error', fail);
      child.once('exit', (code, sig) => done([code, sig]));
    });
    clearTimeout(timer);
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    const oom = cgroup?.oomKilled() === true;
    return {
      jobId: job.jobId,
      team: job.team,
      exitCode: timedOut ? null : exitCode,
      signal: timedOut ? 'SIGKILL' : oom && signal === null && exitCode === 137 ? 'SIGKILL (out of memory)' : signal,
      timedOut,
      durationMs: Date.now() - started,
      peakMemoryBytes: cgroup?.peakBytes() ?? null,
      limits: {
        memoryBytes: opts.memory,
        cpus: opts.cpus,
        pids: opts.pids,
        timeoutSeconds: opts.timeout,
        enforcedBy: cgroup === undefined ? 'rlimit' : 'cgroup',
      },
      credentialRevoked: false,
    };
  } finally {
    if (log !== undefined) closeSync(log);
  }
}

function parseRunTimeout(text: string): number {
  const seconds = parseDuration(text, true);
  if (seconds > JOB_TTL_MAX_S) throw new InvalidArgumentError(`a run lasts at most 24 h (${JOB_TTL_MAX_S} s).`);
  return seconds;
}
