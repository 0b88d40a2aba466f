#!/usr/bin/env node
import { CommanderError } from 'commander';
import { CliError, ExitCode, PassedOnExit } from './cli-error';
import { type CliIo } from './context';
import { buildProgram } from './program';

export { ExitCode } from './cli-error';
export { type CliIo } from './context';

/*
 * Exit codes (also in `cage --help`; defined in cli-error.ts):
 *   0 ok · 1 server refused / operation failed · 2 usage error (nothing sent) ·
 *   3 cannot reach the server or bad local config · 4 401/403 · 5 404 · 6 409 · 7 policy refused
 */

/** Reports an error on stderr as `cage: …` lines, never a stack trace, and picks the exit code. */
function report(err: unknown, io: CliIo): number {
  if (err instanceof CommanderError) {
    // commander has already printed the message or the help; help and --version exit 0.
    return err.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
  }
  if (err instanceof PassedOnExit) return err.status;
  if (err instanceof CliError) {
    io.stderr.write(`cage: ${err.message}\n`);
    for (const line of err.details) io.stderr.write(`  ${line}\n`);
    return err.exitCode;
  }
  io.stderr.write(`cage: unexpected error: ${err instanceof Error ? err.message : String(err)}\n`);
  return ExitCode.Failed;
}

/**
 * Runs one `cage` invocation: `argv` without the node and script paths. Writes only to
 * `io.stdout`/`io.stderr`, reads only `io.env` (and the bootstrap file it names), and returns the
 * exit code instead of exiting, so tests drive it in-process.
 */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ExitCode.Ok;
  } catch (err) {
    return report(err, io);
  }
}

if (require.main === module) {
  void run(process.argv.slice(2), process).then((code) => {
    // Exit once stdout and stderr have flushed (pipes are asynchronous on some platforms).
    process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
  });
}
