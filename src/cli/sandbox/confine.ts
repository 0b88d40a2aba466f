import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * How `cage run` confines a job on one Linux host, with bubblewrap (Debian's `bubblewrap`):
 * new user, PID, IPC, UTS, cgroup and network namespaces (the network one holds only its own
 * loopback: no route, no resolver that answers, no host port), and a mount namespace that shows
 * the system's programs and libraries read-only, the job's directory and a scratch directory
 * writable, a fresh /tmp — and nothing else of the host: not the gateway's data dir, not the
 * policies, not anyone's home. The job runs as an unprivileged user of its own namespace.
 * Limits: a cgroup (v2, or v1's memory/cpu/pids controllers) where the caller may make one,
 * rlimits (prlimit) otherwise.
 */

export const DOOR_PORT = 8081;
export const INSIDE = { job: '/job', scratch: '/scratch', socket: '/run/cage/sandbox.sock', relay: '/run/cage/relay.js' } as const;

export interface RunLimits {
  memoryBytes: number;
  cpus: number;
  pids: number;
}

/** Why this host cannot confine a job, or undefined when it can (a trial sandbox ran). */
export function cannotConfine(bwrap = 'bwrap'): string | undefined {
  if (process.platform !== 'linux') return `confinement needs Linux namespaces; this is ${process.platform}`;
  const probe = spawnSync(bwrap, ['--unshare-all', '--unshare-user', '--ro-bind', '/', '/', '--', 'true'], { encoding: 'utf8' });
  if (probe.error !== undefined) return 'bubblewrap (bwrap) is not installed: on Debian or Ubuntu, apt-get install bubblewrap';
  if (probe.status !== 0)
    return `bubblewrap cannot make namespaces here (${probe.stderr.trim() || `exit ${probe.status}`}): user namespaces may be disabled (sysctl kernel.unprivileged_userns_clone) or the container forbids them`;
  return undefined;
}

export interface SandboxSpec {
  workdir: string;
  scratch: string;
  socket: string;
  relay: string;
  env: Record<string, string>;
  command: string[];
}

/** The bwrap command line for a job (the relay first, then the job's command). */
export function bwrapArgs(s: SandboxSpec): string[] {
  const a = ['--unshare-all', '--unshare-user', '--uid', '65534', '--gid', '65534', '--die-with-parent', '--new-session'];
  a.push('--hostname', 'cage-job', '--ro-bind', '/usr', '/usr');
  // Merged-/usr systems have /bin, /lib, … as links into /usr: the same links inside.
  for (const d of ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32']) {
    if (!existsSync(d)) continue;
    if (lstatSync(d).isSymbolicLink()) a.push('--symlink', readlinkSync(d), d);
    else a.push('--ro-bind', d, d);
  }
  // What programs need of /etc, and no more (no keys, no service configuration).
  for (const f of [
    '/etc/alternatives',
    '/etc/ssl',
    '/etc/ca-certificates',
    '/etc/passwd',
    '/etc/group',
    '/etc/nsswitch.conf',
    '/etc/localtime',
    '/etc/mime.types',
  ])
    a.push('--ro-bind-try', f, f);
  // Node itself, when it is not a system package (nvm, a tarball under /opt).
  const nodeRoot = dirname(dirname(process.execPath));
  if (!process.execPath.startsWith('/usr/')) a.push('--ro-bind', nodeRoot, nodeRoot);
  a.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp', '--tmpfs', '/run', '--dir', '/run/cage');
  a.push('--bind', s.workdir, INSIDE.job, '--bind', s.scratch, INSIDE.scratch, '--chdir', INSIDE.job);
  a.push('--bind', s.socket, INSIDE.socket, '--ro-bind', s.relay, INSIDE.relay);
  // Nothing else of the sandbox's own root is writable (only /tmp, /job and /scratch are).
  a.push('--remount-ro', '/');
  a.push('--clearenv');
  for (const [k, v] of Object.entries(s.env)) a.push('--setenv', k, v);
  a.push('--', process.execPath, INSIDE.relay, INSIDE.socket, String(DOOR_PORT), '--', ...s.command);
  return a;
}

/** A cgroup of the run's own: its limits, its peak memory, whether the kernel killed for memory. */
export interface RunCgroup {
  /** The shell prefix that moves the sandbox into the cgroup before it starts. */
  procs: string[];
  peakBytes(): number | undefined;
  oomKilled(): boolean;
  remove(): void;
}

const CGROUP_ROOT = '/sys/fs/cgroup';

/** A cgroup for the run with its limits, or undefined where this process may not make one. */
export function makeCgroup(name: string, limits: RunLimits): RunCgroup | undefined {
  try {
    if (existsSync(join(CGROUP_ROOT, 'cgroup.controllers'))) return v2(name, limits);
    if (['memory', 'cpu', 'pids'].every((c) => existsSync(join(CGROUP_ROOT, c)))) return v1(name, limits);
  } catch {
    // Not permitted (not root, a read-only cgroupfs): rlimits instead.
  }
  return undefined;
}

function v2(name: string, limits: RunLimits): RunCgroup {
  const enabled = readFileSync(join(CGROUP_ROOT, 'cgroup.subtree_control'), 'utf8');
  if (!['memory', 'pids', 'cpu'].every((c) => enabled.includes(c))) throw new Error('controllers not delegated');
  const dir = join(CGROUP_ROOT, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'memory.max'), String(limits.memoryBytes));
  writeFileSync(join(dir, 'memory.swap.max'), '0');
  writeFileSync(join(dir, 'pids.max'), String(limits.pids));
  writeFileSync(join(dir, 'cpu.max'), `${Math.round(limits.cpus * 100_000)} 100000`);
  return {
    procs: [join(dir, 'cgroup.procs')],
    peakBytes: () => numberIn(join(dir, 'memory.peak')),
    oomKilled: () => /oom_kill (\d+)/.exec(safeRead(join(dir, 'memory.events')))?.[1] !== '0',
    remove: () => rmdirSync(dir),
  };
}

function v1(name: string, limits: RunLimits): RunCgroup {
  const dirs = { memory: join(CGROUP_ROOT, 'memory', name), cpu: join(CGROUP_ROOT, 'cpu', name), pids: join(CGROUP_ROOT, 'pids', name) };
  for (const d of Object.values(dirs)) mkdirSync(d);
  writeFileSync(join(dirs.memory, 'memory.limit_in_bytes'), String(limits.memoryBytes));
  if (existsSync(join(dirs.memory, 'memory.memsw.limit_in_bytes')))
    writeFileSync(join(dirs.memory, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes));
  writeFileSync(join(dirs.pids, 'pids.max'), String(limits.pids));
  writeFileSync(join(dirs.cpu, 'cpu.cfs_period_us'), '100000');
  writeFileSync(join(dirs.cpu, 'cpu.cfs_quota_us'), String(Math.round(limits.cpus * 100_000)));
  return {
    procs: Object.values(dirs).map((d) => join(d, 'cgroup.procs')),
    peakBytes: () => numberIn(join(dirs.memory, 'memory.max_usage_in_bytes')),
    oomKilled: () =>
      (numberIn(join(dirs.memory, 'memory.failcnt')) ?? 0) > 0 &&
      /oom_kill (\d+)/.exec(safeRead(join(dirs.memory, 'memory.oom_control')))?.[1] !== '0',
    remove: () => {
      for (const d of Object.values(dirs)) rmdirSync(d);
    },
  };
}

function safeRead(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function numberIn(file: string): number | undefined {
  const n = Number(safeRead(file).trim());
  return Number.isFinite(n) && safeRead(file).trim() !== '' ? n : undefined;
}
