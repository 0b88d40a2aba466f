import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { CliError, ExitCode, UsageError } from './cli-error';

export interface CliConfig {
  /** The control listener's base URL, without a trailing slash. */
  url: string;
  token: string;
}

export interface ConfigSources {
  flagUrl?: string;
  flagToken?: string;
  env: Record<string, string | undefined>;
  cwd: string;
}

/** Where a local gateway writes its bootstrap credentials (README: CAGE_DATA_DIR, default ./.cage). */
export function bootstrapFile(env: Record<string, string | undefined>, cwd: string): string {
  const dataDir = env.CAGE_DATA_DIR !== undefined && env.CAGE_DATA_DIR !== '' ? env.CAGE_DATA_DIR : '.cage';
  return join(isAbsolute(dataDir) ? dataDir : resolve(cwd, dataDir), 'bootstrap.json');
}

interface BootstrapCredentials {
  controlUrl?: string;
  organizerToken?: string;
}

function readBootstrap(file: string): BootstrapCredentials | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CliError(ExitCode.Unreachable, `cannot read ${file}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError(ExitCode.Unreachable, `${file} is not valid JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null) throw new CliError(ExitCode.Unreachable, `${file} is not a JSON object`);
  const { controlUrl, organizerToken } = parsed as Record<string, unknown>;
  return {
    controlUrl: typeof controlUrl === 'string' ? controlUrl : undefined,
    organizerToken: typeof organizerToken === 'string' ? organizerToken : undefined,
  };
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s.trim() === '' ? undefined : s.trim();
}

function normalizeUrl(raw: string, source: string, fromFlag: boolean): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    url = new URL('invalid:');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    const message = `${source} is not an http(s) URL: ${JSON.stringify(redactUrl(raw))}`;
    throw fromFlag ? new UsageError(message) : new CliError(ExitCode.Unreachable, message);
  }
  if (url.username !== '' || url.password !== '') {
    // fetch refuses such URLs, and the token is the only credential the API takes.
    const message = `${source} must not contain a user name or password: ${redactUrl(raw)}`;
    throw fromFlag ? new UsageError(message) : new CliError(ExitCode.Unreachable, message);
  }
  return url.toString().replace(/\/+$/, '');
}

/** A URL fit for an error message: user info (which may hold a password) is removed. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    url.username = '';
    url.password = '';
    return url.toString().replace(/\/+$/, '');
  } catch {
    return raw.replace(/\/\/[^/@]*@/, '//');
  }
}

/**
 * --url / --token win, then CAGE_URL / CAGE_TOKEN, then the local gateway's bootstrap.json,
 * so `cage` on the machine that ran `npm start` needs no setup.
 *
 * The bootstrap organizer token is only ever sent to the bootstrap file's own controlUrl:
 * pointing CAGE_URL at another gateway without a token must not hand that gateway the local
 * organizer credential.
 */
export function resolveConfig(src: ConfigSources): CliConfig {
  const flagUrl = nonEmpty(src.flagUrl);
  const envUrl = nonEmpty(src.env.CAGE_URL);
  const explicitToken = nonEmpty(src.flagToken) ?? nonEmpty(src.env.CAGE_TOKEN);
  const explicitUrl =
    flagUrl !== undefined
      ? normalizeUrl(flagUrl, '--url', true)
      : envUrl !== undefined
        ? normalizeUrl(envUrl, 'CAGE_URL', false)
        : undefined;
  if (explicitUrl !== undefined && explicitToken !== undefined) return { url: explicitUrl, token: explicitToken };

  const file = bootstrapFile(src.env, src.cwd);
  const boot = readBootstrap(file);
  const bootUrl = boot?.controlUrl === undefined ? undefined : normalizeUrl(boot.controlUrl, `controlUrl in ${file}`, false);
  const url = explicitUrl ?? bootUrl;
  if (url === undefined) {
    throw new CliError(ExitCode.Unreachable, `no control API URL: set CAGE_URL or --url (or run a local gateway, which writes ${file})`);
  }
  const token = explicitToken ?? (url === bootUrl ? boot?.organizerToken : undefined);
  if (token === undefined) {
    const hint =
      boot === undefined
        ? ''
        : bootUrl === undefined || url === bootUrl
          ? ` (${file} has no organizerToken)`
          : ` (${file} is for ${redactUrl(bootUrl)}, not this URL)`;
    throw new CliError(ExitCode.Unreachable, `no token: set CAGE_TOKEN or --token${hint}`);
  }
  return { url, token };
}
