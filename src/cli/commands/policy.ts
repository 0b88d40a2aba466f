import { type Command } from 'commander';
import { type PolicyCheck, type PolicyFiles, type PolicyRollback, type PolicyVersion, type PolicyVersionList } from '../api-types';
import { parsePositiveInt } from '../arg-parsers';
import { CliError, ExitCode } from '../cli-error';
import { type CliIo, examples, handler } from '../context';
import { readPolicyDir } from '../policy-dir';
import { time } from '../output';

const DEFAULT_DIR = './policies';

function short(sha256: string): string {
  return sha256.slice(0, 12);
}

/** `sha256 abcdef012345`, or why a checked set has none. */
function setHash(sha256: string | null): string {
  return sha256 === null ? 'it does not compile' : `sha256 ${short(sha256)}`;
}

/** The problems of a check that did not pass, one line each, as the 422 of an activation lists them. */
export function checkProblems(result: PolicyCheck): string[] {
  return [
    ...result.errors.map((e) => `error: ${e}`),
    ...result.expectations.filter((x) => !x.passed).map((x) => `failed: ${x.name}: ${x.message}`),
  ];
}

export function registerPolicyCommands(program: Command, io: CliIo): void {
  const policy = program.command('policy').description('inspect, test and activate the Cedar policy set');

  policy
    .command('show')
    .description('show the active policy version')
    .action(
      handler(io, async (ctx) => {
        const v = await ctx.api().get<PolicyVersion>('/v1/policy');
        if (ctx.json) return ctx.out.data(v);
        ctx.out.record([
          ['version', v.version],
          ['sha256', v.sha256],
          ['activated', `${time(v.activatedAt)} by ${v.activatedBy}`],
          ['active', v.active ? 'yes' : 'no'],
          ['files', v.files.join('\n')],
        ]);
      }),
    );

  policy
    .command('versions')
    .description('list every policy version ever activated')
    .action(
      handler(io, async (ctx) => {
        const { versions } = await ctx.api().get<PolicyVersionList>('/v1/policy/versions');
        if (ctx.json) return ctx.out.data({ versions });
        ctx.out.table(
          ['version', 'active', 'sha256', 'activated', 'by', 'files'],
          versions.map((v) => [v.version, v.active ? '*' : '', short(v.sha256), time(v.activatedAt), v.activatedBy, v.files.length]),
          'no policy versions',
        );
      }),
    );

  policy
    .command('check')
    .description('validate a policy directory and run its tests on the server, without activating it')
    .argument('[dir]', 'policy directory', DEFAULT_DIR)
    .addHelpText(
      'after',
      `${examples('cage policy check', 'cage policy check ./policies --json')}
Sends schema.cedarschema, *.cedar, egress/*.json, budget.json and tests/*.json. Exits 7 when the
set does not validate or a test expectation fails, listing each one on stderr.
`,
    )
    .action(
      handler(io, async (ctx, dir: string) => {
        const files = readPolicyDir(dir, ctx.cwd());
        const result = await ctx.api().post<PolicyCheck>('/v1/policy/check', { files } satisfies PolicyFiles);
        if (ctx.json) ctx.out.data(result);
        const passed = result.expectations.filter((x) => x.passed).length;
        if (!result.ok) {
          throw new CliError(
            ExitCode.PolicyRefused,
            `policy set in ${dir} does not pass (${setHash(result.sha256)}): ${passed} of ${result.expectations.length} expectations passed`,
            checkProblems(result),
          );
        }
        if (!ctx.json)
          ctx.out.line(
            `policy set in ${dir} is valid: ${Object.keys(files).length} files, ${passed} of ${result.expectations.length} expectations passed (${setHash(result.sha256)})`,
          );
      }),
    );

  policy
    .command('activate')
    .description('check a policy directory and make it the active set on every replica')
    .argument('[dir]', 'policy directory', DEFAULT_DIR)
    .addHelpText(
      'after',
      `${examples('cage policy check ./policies && cage policy activate ./policies')}\nA set that fails validation or its tests is refused (exit 7) and the active set keeps deciding.\n`,
    )
    .action(
      handler(io, async (ctx, dir: string) => {
        const files = readPolicyDir(dir, ctx.cwd());
        const v = await ctx.api().post<PolicyVersion>('/v1/policy', { files } satisfies PolicyFiles);
        if (ctx.json) return ctx.out.data(v);
        ctx.out.line(`activated policy version ${v.version} (${v.files.length} files, sha256 ${short(v.sha256)})`);
      }),
    );

  policy
    .command('rollback')
    .description('activate the files of an earlier version again, as a new version')
    .argument('<version>', 'the version whose files to restore (see cage policy versions)', parsePositiveInt)
    .addHelpText('after', examples('cage policy versions', 'cage policy rollback 3'))
    .action(
      handler(io, async (ctx, version: number) => {
        const v = await ctx
          .api()
          .post<PolicyVersion>('/v1/policy/rollback', { version } satisfies PolicyRollback, { notFound: `no policy version ${version}` });
        if (ctx.json) return ctx.out.data(v);
        ctx.out.line(`rolled back to the files of version ${version}: version ${v.version} is active (sha256 ${short(v.sha256)})`);
      }),
    );
}
