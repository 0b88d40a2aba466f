import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { EXIT_CODES_HELP } from './cli-error';
import { registerAdminCommands } from './commands/admin';
import { registerAuditCommands } from './commands/audit';
import { registerDatasetCommands } from './commands/dataset';
import { registerGrantCommands } from './commands/grant';
import { registerIngestCommands } from './commands/ingest';
import { registerJobCommands } from './commands/job';
import { registerLeaderboardCommands } from './commands/leaderboard';
import { registerPolicyCommands } from './commands/policy';
import { registerRunCommand } from './commands/run';
import { registerScoreCommand } from './commands/score';
import { registerTeamCommands } from './commands/team';
import { registerTokenCommands } from './commands/token';
import { type CliIo } from './context';

const EPILOG = `
Configuration:
  --url and --token win over CAGE_URL and CAGE_TOKEN. With neither, cage reads controlUrl and
  organizerToken from $CAGE_DATA_DIR/bootstrap.json (default ./.cage/bootstrap.json), which a
  local gateway writes on its first start. Prefer CAGE_TOKEN to --token: flags show in \`ps\`.

Output:
  A table or a short line for people; --json prints the API's JSON to stdout (on an error
  answer, the error's JSON). Errors go to stderr.

${EXIT_CODES_HELP}

Examples:
  $ cage dataset list
  $ cage grant add --team team-042 --dataset lung-2025 --split train --from now --until +30d
  $ cage job create --team team-042 --ttl 12h
  $ cage policy check && cage policy activate
  $ cage team list --json | jq -r '.teams[].id'
`;

/** One line per leaf command with its arguments and flags: the reference card in `cage --help`. */
function synopsis(parent: Command, path: string[] = []): string[] {
  return parent.commands
    .filter((c) => c.name() !== 'help')
    .flatMap((c) => {
      const here = [...path, c.name()];
      if (c.commands.length > 0) return synopsis(c, here);
      const args = c.registeredArguments.map((a) => (a.required ? `<${a.name()}>` : `[${a.name()}]`));
      const flags = c.options
        .filter((o) => o.long !== '--help')
        .map((o) => {
          const value =
            o.argChoices !== undefined
              ? ` ${o.argChoices.join('|')}`
              : o.flags.includes('<')
                ? ` ${o.flags.slice(o.flags.indexOf('<'))}`
                : '';
          const flag = `${o.long ?? o.short ?? ''}${value}${o.description.includes('repeatable') ? ' ...' : ''}`;
          return o.mandatory ? flag : `[${flag}]`;
        });
      return [[...here, ...args, ...flags].join(' ')];
    });
}

function version(): string {
  try {
    // src/cli and dist/cli are both two levels below the package root.
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * A fresh command tree per run (commander keeps parsed state on its objects). Settings made
 * here before `.command()` is called (output, exit override, help layout) are inherited by
 * every subcommand; exitOverride makes commander throw instead of exiting the process.
 */
export function buildProgram(io: CliIo): Command {
  const program = new Command('cage');
  program
    .description('Cage control CLI: datasets, teams, grants, job credentials, policy and tokens')
    .version(version(), '-V, --version', 'print the cage version')
    .option('--url <url>', 'control API base URL (env CAGE_URL; default: controlUrl in bootstrap.json)')
    .option('--token <token>', 'organizer or auditor token (env CAGE_TOKEN; default: organizerToken in bootstrap.json)')
    .option('--json', 'print machine-readable JSON (the API response) instead of a table')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      getOutHelpWidth: () => io.stdout.columns ?? 100,
      getErrHelpWidth: () => io.stderr.columns ?? 100,
      outputError: (s, write) => write(`cage: ${s.replace(/^error: /, '')}`),
    })
    .showHelpAfterError('(add --help for usage)')
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .addHelpText(
      'after',
      () =>
        `\nAll commands (cage <command> --help for details and examples):\n${synopsis(program)
          .map((l) => `  ${l}`)
          .join('\n')}\n${EPILOG}`,
    );

  registerDatasetCommands(program, io);
  registerIngestCommands(program, io);
  registerTeamCommands(program, io);
  registerGrantCommands(program, io);
  registerJobCommands(program, io);
  registerRunCommand(program, io);
  registerPolicyCommands(program, io);
  registerTokenCommands(program, io);
  registerLeaderboardCommands(program, io);
  registerScoreCommand(program, io);
  registerAuditCommands(program, io);
  registerAdminCommands(program, io);
  return program;
}
