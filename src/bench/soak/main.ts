import 'reflect-metadata';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cleanupAll, installCleanupHandlers } from '../processes';
import { machine, machineLine } from '../report';
import { MiB } from '../stats';
import { auditBooks, type Books } from './ledger';
import { Load, type LoadShape, type Observation } from './load';
import { type EmbeddedRig, type PostgresRig, type Rig, STORE_TIMEOUT_MS, startEmbeddedRig, startPostgresRig } from './rigs';
import { type Sample, Sampler } from './sampler';

/**
 * `npm run soak`: the gateway under a long steady load, then under faults, with figures printed
 * and a verdict (exit 0 when every check holds, 1 when one does not).
 *
 * 1. Soak (PostgreSQL, S3 store): CAGE_SOAK_STREAMS (16) downloads paced at
 *    CAGE_SOAK_STREAM_MIBPS (4) each, and CAGE_SOAK_SMALL_PER_SECOND (50) 4 KiB ranged reads
 *    (REST and S3 API) with a refused read each second, for CAGE_SOAK_MINUTES (10); RSS, heap,
 *    open descriptors, active handles and event-loop delay sampled. Holds when: no error, memory
 *    flat, descriptors and handles back to where they were, the event loop answering.
 * 2. Faults under load, one after another, each cleared without restarting the gateway:
 *    PostgreSQL sessions terminated (pg_terminate_backend), the store slowed, the store hung
 *    (mid-body too); then, on the embedded default, its data dir's disk full. Holds when: every
 *    answer is served whole, refused, 503, or (mid-body) cut, never anything else; the gateway
 *    serves again within 30 s of the fault's end and then makes no error; the hang and the full
 *    disk are felt (503s).
 * 3. The books, per system: the audit log exported and verified offline against its signed
 *    checkpoints; every answer that carried object bytes has its allow leaf, every decided answer
 *    exactly one leaf.
 *
 * CAGE_SOAK_ONLY=soak,postgres,store,disk picks parts; CAGE_SOAK_DATABASE_URL (else
 * CAGE_TEST_DATABASE_URL, else the CI's postgres://postgres@127.0.0.1:5432/test) is where the
 * suite creates and drops its database; CAGE_SOAK_OUT=<file> writes the figures as JSON. The
 * disk fault mounts a tmpfs, so the suite runs itself again under `unshare` (a private mount
 * namespace; a user namespace too when not root).
 */

const log = (msg: string) => process.stderr.write(`soak: ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const num = (name: string, fallback: number) => {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number (got ${v})`);
  return n;
};

const settings = {
  minutes: num('CAGE_SOAK_MINUTES', 10),
  shape: {
    streams: num('CAGE_SOAK_STREAMS', 16),
    streamMiBps: num('CAGE_SOAK_STREAM_MIBPS', 4),
    smallPerSecond: num('CAGE_SOAK_SMALL_PER_SECOND', 50),
    refusalsPerSecond: 1,
  } satisfies LoadShape,
  largeMiB: num('CAGE_SOAK_LARGE_MIB', 64),
  databaseUrl: process.env.CAGE_SOAK_DATABASE_URL ?? process.env.CAGE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  only: new Set(
    (process.env.CAGE_SOAK_ONLY ?? 'soak,postgres,store,disk')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  ),
};
/** The load while faults come and go: lighter, so a phase's answers are about the fault. */
const FAULT_SHAPE: LoadShape = { streams: 4, streamMiBps: 8, smallPerSecond: 30, refusalsPerSecond: 1 };
const RECOVERY_LIMIT_MS = 30_000;
const AFTER_WINDOW_MS = 5_000;

interface Check {
  what: string;
  ok: boolean;
  figure: string;
}

interface Section {
  title: string;
  checks: Check[];
}

const sections: Section[] = [];
const check = (section: Section, what: string, ok: boolean, figure: string) => section.checks.push({ what, ok, figure });

const mib = (b: number) => `${(b / MiB).toFixed(1)} MiB`;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : (s[Math.floor((s.length - 1) / 2)] ?? Number.NaN);
};

function tally(obs: Observation[]): Record<string, number> {
  const t: Record<string, number> = { ok: 0, refused: 0, unavailable: 0, cut: 0, error: 0 };
  for (const o of obs) t[o.outcome] = (t[o.outcome] ?? 0) + 1;
  return t;
}

const fmtTally = (t: Record<string, number>) =>
  Object.entries(t)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');

function firstUnavailable(obs: Observation[]): string {
  const u = obs.find((o) => o.outcome === 'unavailable' && o.detail !== undefined);
  return u === undefined ? '' : `; a 503 said: ${u.detail}`;
}

/** What the gateway logged at error level (why it answered 503), most frequent first. */
function gatewaySaid(rig: Rig, since: Map<string, number>): string {
  const counts = [...rig.gateway.errorsLogged()]
    .map(([why, n]) => [why, n - (since.get(why) ?? 0)] as const)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 4);
  return counts.length === 0 ? '' : `; the gateway logged: ${counts.map(([why, n]) => `${n}× ${why}`).join(' | ')}`;
}

function firstErrors(obs: Observation[]): string {
  const errs = obs.filter((o) => o.outcome === 'error').slice(0, 3);
  return errs.length === 0 ? '' : `; first: ${errs.map((o) => `${o.kind} ${o.status} ${o.detail ?? ''}`).join(' | ')}`;
}

/** Soak: the long steady load, and what the process looks like through it. */
async function soak(rig: PostgresRig, load: Load, sampler: Sampler): Promise<void> {
  const s: Section = { title: `soak: ${settings.minutes} min, ${rig.name}`, checks: [] };
  sections.push(s);
  const before = await sampler.sample();
  const durationMs = settings.minutes * 60_000;
  const t0 = load.now();
  const logged = rig.gateway.errorsLogged();
  load.start(settings.shape);
  sampler.start(Math.max(2000, Math.min(10_000, durationMs / 60)));
  log(
    `soak: ${settings.shape.streams} streams at ${settings.shape.streamMiBps} MiB/s each, ${settings.shape.smallPerSecond} small reads/s, for ${settings.minutes} min`,
  );
  for (let left = durationMs; left > 0; left -= 60_000) {
    await sleep(Math.min(60_000, left));
    const last = sampler.samples[sampler.samples.length - 1];
    if (last !== undefined)
      log(
        `  ${Math.round((load.now() - t0) / 1000)} s: rss ${mib(last.rssBytes)}, heap ${mib(last.heapUsedBytes)}, fds ${last.openFds}, ${fmtTally(tally(load.sentBetween(t0)))}`,
      );
  }
  const t1 = load.now();
  await load.stop();
  await sampler.stop();
  const obs = load.sentBetween(t0, t1);
  const t = tally(obs);
  const bytes = obs.reduce((a, o) => a + o.bytes, 0);
  const seconds = (load.now() - t0) / 1000;
  check(
    s,
    'no errors',
    t.error === 0 && t.unavailable === 0 && t.cut === 0,
    `${obs.length} requests (${fmtTally(t)}), ${mib(bytes)} served, ${mib(bytes / seconds)}/s${firstErrors(obs)}${firstUnavailable(obs)}${gatewaySaid(rig, logged)}`,
  );

  // Memory: the last third against the first third, after a warm-up.
  const warm = t0 + Math.min(60_000, durationMs / 4);
  const during = sampler.between(warm, t1);
  const third = Math.max(1, Math.floor(during.length / 3));
  const early = median(during.slice(0, third).map((x) => x.rssBytes));
  const late = median(during.slice(-third).map((x) => x.rssBytes));
  const maxRss = Math.max(...sampler.between(t0, t1).map((x) => x.rssBytes));
  const allowed = Math.max(early * 0.15, 32 * MiB);
  check(
    s,
    'memory flat',
    late - early <= allowed,
    `RSS ${mib(before.rssBytes)} before, ${mib(early)} early → ${mib(late)} late (allowed +${mib(allowed)}), max ${mib(maxRss)}; heap ${mib(median(during.slice(0, third).map((x) => x.heapUsedBytes)))} → ${mib(median(during.slice(-third).map((x) => x.heapUsedBytes)))}; ${during.length} samples`,
  );
  const eld = sampler.between(t0, t1);
  const p99s = eld.map((x) => x.eventLoopP99Ms);
  const worst = Math.max(...eld.map((x) => x.eventLoopMaxMs));
  check(
    s,
    'event loop answering',
    Math.max(...p99s) <= 1000,
    `event-loop delay p99 per interval: median ${median(p99s).toFixed(1)} ms, worst ${Math.max(...p99s).toFixed(1)} ms; max ${worst.toFixed(1)} ms`,
  );
  await settle(s, load, sampler, before, 'after the soak');
}

/** Handles and descriptors back where they were once the clients are gone. */
async function settle(s: Section, load: Load, sampler: Sampler, before: Sample, when: string): Promise<void> {
  load.dropConnections();
  let after = await sampler.sample();
  // Idle connections close on both sides' keep-alive timeouts; give them time.
  for (let i = 0; i < 20 && (after.openFds > before.openFds + 16 || after.activeHandles > before.activeHandles + 16); i++) {
    await sleep(1000);
    after = await sampler.sample();
  }
  check(
    s,
    `handles and descriptors back ${when}`,
    after.openFds <= before.openFds + 16 && after.activeHandles <= before.activeHandles + 16,
    `open fds ${before.openFds} → ${after.openFds}, active handles ${before.activeHandles} → ${after.activeHandles}, RSS ${mib(after.rssBytes)}`,
  );
}

interface Fault {
  name: string;
  /** Injects the fault, holds it, and clears it; returns what it did, for the report. */
  run: () => Promise<string>;
  /** The fault must show as 503s or cut bodies (a hang, a full disk); a slow store must show as latency. */
  felt: 'unavailable' | 'latency' | 'none';
}

/** One fault under load: healthy before, the fault, recovery, a clean window after. */
async function underFault(s: Section, rig: Rig, load: Load, fault: Fault): Promise<void> {
  await sleep(3000);
  const logged = rig.gateway.errorsLogged();
  const before = load.now();
  const what = await fault.run();
  const cleared = load.now();
  let recovered: number | undefined;
  while (load.now() - cleared < RECOVERY_LIMIT_MS) {
    const p = await load.probe();
    if (p.outcome === 'ok') {
      recovered = load.now();
      break;
    }
    await sleep(200);
  }
  if (recovered === undefined) {
    check(s, `${fault.name}: recovers`, false, `no successful read within ${RECOVERY_LIMIT_MS / 1000} s of the fault's end (${what})`);
    return;
  }
  await sleep(AFTER_WINDOW_MS);
  const during = load.sentBetween(before, cleared);
  const t = tally(during);
  const small = during.filter((o) => o.kind !== 'stream' && o.outcome === 'ok').map((o) => o.at - o.started);
  const latency = median(small);
  const felt =
    fault.felt === 'unavailable' ? t.unavailable + t.cut > 0 : fault.felt === 'latency' ? latency >= 1000 || t.unavailable > 0 : true;
  check(
    s,
    `${fault.name}: answers served, refused, 503 or cut, never wrong`,
    t.error === 0 && felt,
    `${what}; during: ${fmtTally(t)}; small-read p50 ${latency.toFixed(0)} ms${firstErrors(during)}${firstUnavailable(during)}`,
  );
  const after = load.sentBetween(recovered, recovered + AFTER_WINDOW_MS).filter((o) => o.kind !== 'stream');
  const ta = tally(after);
  check(
    s,
    `${fault.name}: recovers without a restart`,
    after.length > 0 && ta.ok + ta.refused === after.length && rig.gateway.exited() === undefined,
    `first read served ${((recovered - cleared) / 1000).toFixed(1)} s after the fault ended; next ${AFTER_WINDOW_MS / 1000} s: ${fmtTally(ta)}${firstErrors(after)}${ta.unavailable > 0 ? gatewaySaid(rig, logged) : ''}`,
  );
}

async function faults(rig: Rig, load: Load, sampler: Sampler, list: Fault[]): Promise<void> {
  const s: Section = { title: `faults under load: ${rig.name}`, checks: [] };
  sections.push(s);
  const before = await sampler.sample();
  load.start(FAULT_SHAPE);
  for (const f of list) {
    log(`fault: ${f.name}`);
    await underFault(s, rig, load, f);
  }
  await load.stop();
  const all = load.sentBetween(0);
  check(
    s,
    'no wrong answer over the whole run',
    tally(all).error === 0,
    `${all.length} requests: ${fmtTally(tally(all))}${firstErrors(all)}`,
  );
  await settle(s, load, sampler, before, 'after the faults');
}

async function books(rig: Rig, load: Load): Promise<void> {
  const s: Section = { title: `books: ${rig.name}`, checks: [] };
  sections.push(s);
  let b: Books;
  try {
    b = await auditBooks(rig.controlUrl, rig.auditorToken, load.observations);
  } catch (err) {
    check(s, 'audit log exported', false, (err as Error).message);
    return;
  }
  check(
    s,
    'the log verifies offline',
    b.verifyError === undefined && b.covered === b.leaves,
    `${b.leaves} leaves, ${b.covered} under a verified checkpoint${b.verifyError === undefined ? '' : `: ${b.verifyError}`}`,
  );
  check(
    s,
    'nothing served unlogged, one leaf per decision',
    b.servedUnlogged === 0 && b.wrongLeafCount === 0,
    `${load.observations.length} answers checked: ${b.servedUnlogged} served unlogged, ${b.wrongLeafCount} without exactly one leaf${b.problems.length > 0 ? `; ${b.problems.join(' | ')}` : ''}`,
  );
  check(
    s,
    'the gateway never restarted',
    rig.gateway.exited() === undefined,
    rig.gateway.exited() ?? `pid ${rig.gateway.pid} ran throughout`,
  );
}

async function postgresPart(): Promise<void> {
  const rig = await startPostgresRig(settings.databaseUrl, settings.largeMiB * MiB, log);
  const load = new Load(rig.target);
  const sampler = new Sampler(rig.gateway.pid, rig.controlUrl, rig.organizerToken, () => load.now());
  try {
    if (settings.only.has('soak')) await soak(rig, load, sampler);
    const list: Fault[] = [];
    if (settings.only.has('postgres'))
      list.push({
        name: 'PostgreSQL sessions terminated',
        felt: 'none',
        run: async () => {
          let n = 0;
          for (let i = 0; i < 3; i++) {
            n += await rig.terminateBackends();
            await sleep(1000);
          }
          return `${n} sessions terminated in three rounds 1 s apart`;
        },
      });
    if (settings.only.has('store'))
      list.push(
        {
          name: 'store slowed',
          felt: 'latency',
          run: async () => {
            rig.store.fault = { delayMs: 1500 };
            await sleep(6000);
            rig.store.fault = undefined;
            return `every store request delayed 1.5 s for 6 s (the gateway’s store timeout: ${STORE_TIMEOUT_MS / 1000} s)`;
          },
        },
        {
          name: 'store hung',
          felt: 'unavailable',
          run: async () => {
            rig.store.fault = 'stall';
            rig.store.hold = true;
            await sleep(STORE_TIMEOUT_MS * 2);
            rig.store.fault = undefined;
            rig.store.hold = false;
            rig.store.proxy.release();
            return `the store stopped answering, bodies in flight included, for ${(STORE_TIMEOUT_MS * 2) / 1000} s`;
          },
        },
      );
    if (list.length > 0) await faults(rig, load, sampler, list);
    await books(rig, load);
  } finally {
    load.close();
    await rig.stop();
  }
}

async function embeddedPart(): Promise<void> {
  const rig: EmbeddedRig = await startEmbeddedRig(256, 8 * MiB, log);
  const load = new Load(rig.target);
  const sampler = new Sampler(rig.gateway.pid, rig.controlUrl, rig.organizerToken, () => load.now());
  try {
    await faults(rig, load, sampler, [
      {
        name: 'data dir disk full',
        felt: 'unavailable',
        run: async () => {
          const written = rig.fillDisk();
          await sleep(8000);
          rig.freeDisk();
          return `the data dir's file system filled to the last byte (${mib(written)} written) for 8 s`;
        },
      },
    ]);
    await books(rig, load);
  } finally {
    load.close();
    await rig.stop();
  }
}

/** The disk fault needs a mount of its own: run again in a private mount namespace. */
function inNamespace(): number | undefined {
  if (process.env.CAGE_SOAK_NAMESPACE === '1' || !settings.only.has('disk')) return undefined;
  const root = process.getuid?.() === 0;
  const args = [
    ...(root ? [] : ['--user', '--map-root-user']),
    '--mount',
    '--propagation',
    'private',
    '--',
    process.execPath,
    ...process.execArgv,
    ...process.argv.slice(1),
  ];
  const r = spawnSync('unshare', args, { stdio: 'inherit', env: { ...process.env, CAGE_SOAK_NAMESPACE: '1' } });
  if (r.error !== undefined) {
    log(
      `cannot run the disk fault: unshare (util-linux) did not start: ${r.error.message}. Install util-linux, or leave the disk fault out with CAGE_SOAK_ONLY=soak,postgres,store`,
    );
    return 1;
  }
  return r.status ?? 1;
}

function report(): boolean {
  const m = machine();
  const lines = [``, `Cage soak and fault suite — ${new Date().toISOString()}`, machineLine(m), ''];
  let ok = true;
  for (const s of sections) {
    lines.push(s.title);
    for (const c of s.checks) {
      ok &&= c.ok;
      lines.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.what}: ${c.figure}`);
    }
  }
  lines.push('', ok ? 'soak: every check holds' : 'soak: FAILED', '');
  process.stdout.write(lines.join('\n'));
  if (process.env.CAGE_SOAK_OUT)
    writeFileSync(
      process.env.CAGE_SOAK_OUT,
      `${JSON.stringify({ machine: m, settings: { ...settings, only: [...settings.only] }, sections }, null, 2)}\n`,
    );
  return ok;
}

async function main(): Promise<number> {
  const again = inNamespace();
  if (again !== undefined) return again;
  installCleanupHandlers();
  try {
    if (['soak', 'postgres', 'store'].some((p) => settings.only.has(p))) await postgresPart();
    if (settings.only.has('disk')) await embeddedPart();
  } catch (err) {
    sections.push({
      title: 'the suite itself',
      checks: [{ what: 'ran to the end', ok: false, figure: (err as Error).stack ?? String(err) }],
    });
  } finally {
    await cleanupAll();
  }
  return report() ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    log(err.stack ?? err.message);
    process.exit(1);
  },
);
