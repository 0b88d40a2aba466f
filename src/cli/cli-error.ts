/**
 * Exit codes `cage` promises to scripts. They are part of the CLI's contract: a script may
 * branch on them (retry on 3, re-issue a token on 4, create on 5, skip on 6), so a code never
 * changes meaning.
 *
 *   0  ok
 *   1  the server refused or the operation failed (any 4xx/5xx not listed below, a failed index run)
 *   2  usage error: bad flags or arguments, found locally before any request is sent
 *   3  cannot reach the server, or bad local configuration (URL, token, bootstrap.json)
 *   4  authentication or authorization refused (401, 403)
 *   5  not found (404)
 *   6  conflict (409): already exists, already revoked, already running
 *   7  policy refused (422, or a policy check that does not pass)
 */
export const ExitCode = {
  Ok: 0,
  Failed: 1,
  Usage: 2,
  Unreachable: 3,
  Auth: 4,
  NotFound: 5,
  Conflict: 6,
  PolicyRefused: 7,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The `--help` epilog: the same table as above, for people. */
export const EXIT_CODES_HELP = `Exit codes:
  0  ok
  1  the server refused or the operation failed (other 4xx/5xx, failed index run)
  2  usage error (bad flags or arguments; nothing was sent)
  3  cannot reach the control API, or bad local configuration
  4  authentication or authorization refused (401/403)
  5  not found (404)
  6  conflict (409)
  7  policy refused (422, or a failing policy check)`;

/**
 * An error the CLI reports as one line on stderr (plus optional detail lines) and turns into
 * an exit code. Anything else that escapes a command is a bug and is reported without a stack.
 */
export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    readonly details: readonly string[] = [],
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** The exit status of a program the CLI ran for its user (`cage run`), passed on as it is, with nothing printed. */
export class PassedOnExit extends Error {
  constructor(readonly status: number) {
    super(`exit ${status}`);
    this.name = 'PassedOnExit';
  }
}

/** A bad flag or argument, found before any request is sent. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(ExitCode.Usage, message);
    this.name = 'UsageError';
  }
}
