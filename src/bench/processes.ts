import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Bootstrap } from '../demo/bootstrap-file';

/**
 * Child processes of the benchmark (s3rver, gateway), their /proc figures, and cleanup that
 * runs however the benchmark ends: normally, on an error, on SIGINT/SIGTERM, or at exit.
 */

const children = new Set<ChildProcess>();
/** Children we are stopping on purpose: their exit is not news. */
const stopping = new WeakSet<ChildProcess>();
const tempDirs = new Set<string>();
const cleanups: (() => Promise<void>)[] = [];
let cleaning: Promise<void> | undefined;

/** A temp dir removed at cleanup. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/** Removes a temp dir now (a rig being replaced), instead of at cleanup. */
export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/** An async cleanup step (dropping a schema, closing a DB); run in reverse order. */
export function onCleanup(fn: () => Promise<void>): void {
  cleanups.push(fn);
}

export function cleanupAll(): Promise<void> {
  cleaning ??= (async () => {
    for (const fn of cleanups.reverse()) await fn().catch((err: Error) => process.stderr.write(`cleanup: ${err.message}\n`));
    await Promise.all([...children].map((c) => stopChild(c)));
    for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
    tempDirs.clear();
  })();
  return cleaning;
}

/** Installs the signal and exit handlers; call once at start. */
export function installCleanupHandlers(): void {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nbench: ${signal}, cleaning up\n`);
      void cleanupAll().finally(() => process.exit(code));
    });
  }
  // Last resort, synchronous: nothing may outlive the benchmark.
  process.on('exit', () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  });
}

async function stopChild(c: ChildProcess, graceMs = 15_000): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) {
    children.delete(c);
    return;
  }
  const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
  stopping.add(c);
  c.kill('SIGTERM');
  const timer = setTimeout(() => c.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
  children.delete(c);
}

export interface Child {
  pid: number;
  process: ChildProcess;
  /** How the child ended, when it has ended (`SIGTRAP: # Fatal error ...`), else undefined. */
  exited: () => string | undefined;
  /** Resolves when the child has exited, or after `ms` if it is still running. */
  settle: (ms: number) => Promise<void>;
  /** The last lines the child wrote (stdout and stderr), for error messages. */
  tail: () => string;
  /** Error-level JSON log lines the child wrote, counted by message and error (why a 503 was answered). */
  errorsLogged: () => Map<string, number>;
  stop: () => Promise<void>;
}

function track(proc: ChildProcess, label: string): Child {
  if (proc.pid === undefined) throw new Error(`${label}: spawn failed`);
  children.add(proc);
  const lines: string[] = [];
  const errors = new Map<string, number>();
  const keep = (chunk: Buffer) => {
    for (const l of chunk.toString('utf8').split('\n')) {
      if (l.trim() === '') continue;
      lines.push(l);
      const why = errorLine(l);
      if (why !== undefined) errors.set(why, (errors.get(why) ?? 0) + 1);
    }
    if (lines.length > 40) lines.splice(0, lines.length - 40);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  proc.once('exit', (code, signal) => {
    if (!stopping.has(proc))
      process.stderr.write(
        `bench: ${label} (pid ${proc.pid}) exited unexpectedly (${code ?? signal}); its last output:\n${lines.join('\n')}\n`,
      );
  });
  const exited = () => {
    if (proc.exitCode === null && proc.signalCode === null) return undefined;
    // The gist of a crash report: V8's fatal message and the frame it died in, not the whole dump.
    const fatal = lines
      .filter((l) => /Fatal error|unreachable code|Check failed|Deoptimizer::|out of memory|^\w*Error:/i.test(l))
      .slice(0, 3)
      .map((l) =>
        l
          .replace(/^#\s*/, '')
          .replace(/^\s*\d+: 0x[0-9a-f]+\s+/, '')
          .replace(/ \[[^\]]*\]$/, '')
          .trim(),
      );
    return `${proc.signalCode ?? `exit ${proc.exitCode}`}${fatal.length > 0 ? `: ${fatal.join(' / ')}` : ''}`;
  };
  const settle = (ms: number) =>
    new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      const timer = setTimeout(resolve, ms);
      proc.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  return {
    pid: proc.pid,
    process: proc,
    exited,
    settle,
    tail: () => lines.join('\n'),
    errorsLogged: () => new Map(errors),
    stop: () => stopChild(proc),
  };
}

/** `message: error` of a JSON log line at error level, else undefined. */
function errorLine(line: string): string | undefined {
  if (!line.startsWith('{') || !line.includes('"error"')) return undefined;
  try {
    const o = JSON.parse(line) as { level?: unknown; message?: unknown; error?: unknown };
    if (o.level !== 'error') return undefined;
    return `${String(o.message)}${typeof o.error === 'string' ? `: ${o.error}` : ''}`;
  } catch {
    return undefined; // a line split across chunks
  }
}

function exitError(proc: ChildProcess, label: string, tail: () => string): Promise<never> {
  return new Promise((_, reject) =>
    proc.once('exit', (code, signal) => reject(new Error(`${label} exited (${code ?? signal}) before it was ready:\n${tail()}`))),
  );
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not ready after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** s3rver in its own process (src/bench/s3rver-child.ts). */
export function startS3rver(dir: string): Promise<Child & { endpoint: string }> {
  return startEndpointChild('s3rver-child.js', dir, 's3rver');
}

/** A bare TCP relay to `target` in its own process (src/bench/tcp-relay-child.ts). */
export function startTcpRelay(target: string): Promise<Child & { endpoint: string }> {
  return startEndpointChild('tcp-relay-child.js', target, 'tcp relay');
}

/** A bare HTTP relay to the store at `target` in its own process (src/bench/http-relay-child.ts). */
export function startHttpRelay(target: string): Promise<Child & { endpoint: string }> {
  return startEndpointChild('http-relay-child.js', target, 'http relay');
}

/** A bench child that prints one JSON line with its endpoint once it listens. */
async function startEndpointChild(script: string, arg: string, label: string): Promise<Child & { endpoint: string }> {
  const proc = spawn(process.execPath, [join(__dirname, script), arg], { stdio: ['pipe', 'pipe', 'pipe'] });
  const child = track(proc, label);
  const ready = new Promise<string>((resolve) => {
    let buf = '';
    const onData = (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      proc.stdout?.off('data', onData);
      resolve((JSON.parse(buf.slice(0, nl)) as { endpoint: string }).endpoint);
    };
    proc.stdout?.on('data', onData);
  });
  const endpoint = await withTimeout(Promise.race([ready, exitError(proc, label, child.tail)]), 20_000, label);
  return { ...child, endpoint };
}

export interface GatewayOptions {
  dataDir: string;
  /** Undefined: the gateway runs its embedded store under the data dir (the embedded default). */
  s3Endpoint: string | undefined;
  /** The store's credentials (default: s3rver's). */
  s3Credentials?: { accessKeyId: string; secretAccessKey: string; region: string };
  /** When set, the gateway runs under --cpu-prof and writes its profile here on exit. */
  cpuProfileDir?: string;
  /** Extra node/V8 flags for the gateway process (diagnosis). */
  nodeArgs?: string[];
  extraEnv?: Record<string, string>;
}

/** The gateway as the product runs it (`node dist/main.js`), configured by environment. */
export async function startGateway(
  o: GatewayOptions,
): Promise<Child & { bootstrap: Bootstrap & { demoJob: NonNullable<Bootstrap['demoJob']> } }> {
  const distRoot = join(__dirname, '..');
  // The same V8 flag `npm start` and the Docker image use (see README, Performance).
  const args = ['--no-turbo-inline-js-wasm-calls', '--require', join(__dirname, 'orphan-guard.js')];
  if (o.cpuProfileDir !== undefined) args.push('--cpu-prof', `--cpu-prof-dir=${o.cpuProfileDir}`);
  args.push(...(o.nodeArgs ?? []));
  args.push(join(distRoot, 'main.js'));
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CAGE_')));
  const proc = spawn(process.execPath, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    cwd: join(distRoot, '..'),
    env: {
      ...inherited,
      CAGE_DATA_DIR: o.dataDir,
      CAGE_HOST: '127.0.0.1',
      CAGE_CONTROL_PORT: '0',
      CAGE_SANDBOX_PORT: '0',
      ...(o.s3Endpoint === undefined
        ? {}
        : {
            CAGE_S3_ENDPOINT: o.s3Endpoint,
            CAGE_S3_ACCESS_KEY_ID: o.s3Credentials?.accessKeyId ?? 'S3RVER',
            CAGE_S3_SECRET_ACCESS_KEY: o.s3Credentials?.secretAccessKey ?? 'S3RVER',
            CAGE_S3_REGION: o.s3Credentials?.region ?? 'us-east-1',
            CAGE_S3_FORCE_PATH_STYLE: '1',
          }),
      CAGE_DEMO: '1',
      // Access log lines are info-level: off for the benchmark.
      CAGE_LOG_LEVEL: 'warn',
      // Figure 7 submits back to back from one job: the egress rate limit is not what it measures.
      CAGE_EGRESS_ATTEMPTS_PER_SECOND_PER_JOB: '1000',
      CAGE_EGRESS_ATTEMPTS_PER_SECOND_PER_TEAM: '1000',
      // Every client of the bench comes from 127.0.0.1: the per-address connection limit is not measured.
      CAGE_SANDBOX_MAX_CONNECTIONS_PER_ADDRESS: '100000',
      CAGE_SANDBOX_MAX_CONNECTIONS: '100000',
      ...o.extraEnv,
    },
  });
  const child = track(proc, 'gateway');
  const file = join(o.dataDir, 'bootstrap.json');
  // At warn level the "listening" line is not printed; bootstrap.json (renamed into place
  // after both listeners are up) is the readiness signal.
  const ready = (async () => {
    while (!existsSync(file)) await new Promise((r) => setTimeout(r, 100));
    return JSON.parse(readFileSync(file, 'utf8')) as Bootstrap;
  })();
  const bootstrap = await withTimeout(Promise.race([ready, exitError(proc, 'gateway', child.tail)]), 60_000, 'gateway');
  if (bootstrap.demoJob === undefined) throw new Error('gateway started without a demo job (CAGE_DEMO=1 expected)');
  return { ...child, bootstrap: { ...bootstrap, demoJob: bootstrap.demoJob } };
}

let clkTck: number | undefined;

/** Kernel clock ticks per second (`getconf CLK_TCK`, 100 on common Linux builds). */
export function clockTicksPerSecond(): number {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** CPU time (user + system) of a process so far, in microseconds, from /proc/<pid>/stat. */
export function processCpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at state (field 3).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1e6) / clockTicksPerSecond();
}

/** Resident set size of a process, in bytes, from /proc/<pid>/status. */
export function processRssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m?.[1] === undefined) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}
