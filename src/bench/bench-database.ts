import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { onCleanup, processCpuUs } from './processes';

/**
 * A database of its own on the PostgreSQL server at CAGE_TEST_DATABASE_URL, for a gateway run as
 * production runs it (audit leaves committed by PostgreSQL, durable before bytes), dropped after.
 * When the server runs on this machine its processes' CPU is counted too: moving the audit commit
 * out of the gateway's process moves its cost, it does not remove it.
 */
export interface BenchDatabase {
  /** The gateway's CAGE_DATABASE_URL. */
  url: string;
  name: string;
  /** "PostgreSQL 16.4, fsync on, synchronous_commit on". */
  describe: string;
  /**
   * Starts counting the CPU of the server's processes on this machine; the returned function
   * answers the µs they spent since (undefined when the server is not found here).
   */
  serverCpu: () => () => number | undefined;
  drop: () => Promise<void>;
}

export async function createBenchDatabase(adminUrl: string): Promise<BenchDatabase> {
  const name = `cage_bench_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  let describe: string;
  try {
    const { rows } = await admin.query<{ name: string; setting: string }>(
      "SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'server_version')",
    );
    const s = Object.fromEntries(rows.map((r) => [r.name, r.setting]));
    describe = `PostgreSQL ${s.server_version ?? '?'}, fsync ${s.fsync ?? '?'}, synchronous_commit ${s.synchronous_commit ?? '?'}`;
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    const c = new Client({ connectionString: adminUrl });
    await c.connect();
    try {
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await c.end();
    }
  };
  onCleanup(drop);
  const local = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  const serverCpu = () => {
    const before = local ? serverProcessesCpu() : undefined;
    return () => {
      if (before === undefined || before.size === 0) return undefined;
      let spent = 0;
      // A backend that started meanwhile counts from zero; one that exited is lost (an idle pool connection closing).
      for (const [pid, us] of serverProcessesCpu()) spent += us - (before.get(pid) ?? 0);
      return spent;
    };
  };
  return { url: url.toString(), name, describe, serverCpu, drop };
}

/** CPU (µs) so far of every `postgres` process on this machine, by pid. */
function serverProcessesCpu(): Map<number, number> {
  const r = spawnSync('pgrep', ['-x', 'postgres'], { encoding: 'utf8' });
  const out = new Map<number, number>();
  for (const pid of (r.stdout ?? '').split('\n').map(Number)) {
    if (!Number.isInteger(pid) || pid <= 0) continue;
    try {
      out.set(pid, processCpuUs(pid));
    } catch {
      // Exited between pgrep and the read.
    }
  }
  return out;
}
