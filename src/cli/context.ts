import { Command } from 'commander';
import { ApiError, CageClient } from './client';
import { resolveConfig } from './config';
import { type CliStream, Output } from './output';

/**
 * Everything a run of the CLI touches outside itself. `process` satisfies it, so the binary
 * calls `run(process.argv.slice(2), process)`; tests pass buffers, an env of their own, a cwd
 * and a fast poll interval.
 */
export interface CliIo {
  stdout: CliStream;
  stderr: CliStream;
  env: Record<string, string | undefined>;
  cwd?: () => string;
  /** How often `dataset index` polls the run (default 500 ms). */
  pollIntervalMs?: number;
}

export interface GlobalOptions {
  url?: string;
  token?: string;
  json?: boolean;
}

/** Per-command state: output mode, and a client created on first use (after local validation). */
export class CommandContext {
  readonly out: Output;
  private client?: CageClient;

  constructor(
    readonly io: CliIo,
    private readonly globals: GlobalOptions,
  ) {
    this.out = new Output(io.stdout, io.stderr, globals.json === true);
  }

  get json(): boolean {
    return this.out.json;
  }

  cwd(): string {
    return this.io.cwd?.() ?? process.cwd();
  }

  /** Resolving the config lazily keeps usage errors (exit 2) ahead of config errors (exit 3). */
  api(): CageClient {
    this.client ??= new CageClient(
      resolveConfig({ flagUrl: this.globals.url, flagToken: this.globals.token, env: this.io.env, cwd: this.cwd() }),
    );
    return this.client;
  }
}

/**
 * Wraps a command body for commander: builds its context from the global flags, and under
 * `--json` prints a server error's JSON body to stdout too, so scripts can read `failures`.
 */
export function handler<Args extends unknown[]>(
  io: CliIo,
  body: (ctx: CommandContext, ...args: Args) => Promise<void>,
): (...args: Args) => Promise<void> {
  return async (...args: Args) => {
    const command = args.at(-1);
    const globals = command instanceof Command ? command.optsWithGlobals<GlobalOptions>() : {};
    const ctx = new CommandContext(io, globals);
    try {
      await body(ctx, ...args);
    } catch (err) {
      if (err instanceof ApiError && ctx.json && err.body !== undefined) ctx.out.data(err.body);
      throw err;
    }
  };
}

/** Shared help text fragment: how to put examples under a command's help. */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}
