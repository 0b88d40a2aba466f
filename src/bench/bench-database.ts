import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { onCleanup, processCpuUs } from './processes';

/**
 * A database of its own on the PostgreSQL server at CAGE_TEST_DATABASE_URL, for a gateway run as
 * production runs it (audit leaves committed by PostgreSQL, durable before bytes), dropped after.
 * When the server runs on this machine, the CPU of the processes that work for that database is
 * counted too: moving the audit commit out of the gateway's process moves its cost, it does not
 * remove it.
 */
export interface BenchDatabase {
  /** The gateway's CAGE_DATABASE_URL. */
  url: string;
  name: string;
  /** "PostgreSQL 16.4, fsync on, synchronous_commit on". */
  describe: string;
  /**
   * Starts counting the CPU of the database's backends and of the server's background processes
   * (WAL writer, checkpointer, background writer); the returned function answers the µs they
   * spent since, or undefined when they cannot be read here (the server on another host or in
   * another PID namespace).
   */
  serverCpu: () => Promise<() => Promise<number | undefined>>;
  drop: () => Promise<void>;
}

/** The server's processes that work for every database, the bench's included (pg_stat_activity.backend_type). */
const SHARED_PROCESSES = ['walwriter', 'checkpointer', 'background writer'];

export async function createBenchDatabase(adminUrl: string): Promise<BenchDatabase> {
  const name = `cage_bench_${randomBytes(6).toString('hex')}`;
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    const c = new Client({ connectionString: adminUrl });
    await c.connect();
    try {
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      dropped = true;
    } finally {
      await c.end();
    }
  };
  // Before it exists: an interrupted run drops it whatever point it reached.
  onCleanup(drop);
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
  const local = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);

  /** CPU (µs) so far of the processes working for the database, by pid; undefined when not readable here. */
  const processesCpu = async (): Promise<Map<number, number> | undefined> => {
    if (!local) return undefined;
    const c = new Client({ connectionString: adminUrl });
    await c.connect();
    let pids: number[];
    try {
      const { rows } = await c.query<{ pid: number }>(
        'SELECT pid FROM pg_stat_activity WHERE datname = $1 OR backend_type = ANY($2::text[])',
        [name, SHARED_PROCESSES],
      );
      pids = rows.map((r) => Number(r.pid));
    } finally {
      await c.end();
    }
    // The pids are the server's: they name its processes here only when it shares this machine's
    // PID namespace (a server in a container has pids that here are other processes, or none).
    if (pids.length === 0 || !pids.every(isPostgres)) return undefined;
    const out = new Map<number, number>();
    for (const pid of pids) {
      try {
        out.set(pid, processCpuUs(pid));
      } catch {
        // Exited between the query and the read.
      }
    }
    return out;
  };
  const serverCpu = async () => {
    const before = await processesCpu();
    return async () => {
      const after = before === undefined ? undefined : await processesCpu();
      if (before === undefined || after === undefined) return undefined;
      let spent = 0;
      // A backend that started meanwhile counts from zero; one that exited is lost (a pool connection closing).
      for (const [pid, us] of after) spent += us - (before.get(pid) ?? 0);
      return spent;
    };
  };
  return { url: url.toString(), name, describe, serverCpu, drop };
}

function isPostgres(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres';
  } catch {
    return false;
  }
}
