import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditRepository } from '../src/audit/audit.repository';
import { cannotConfine } from '../src/cli/sandbox/confine';
import { cage } from './cli/cli-harness';
import { type Fixture, POLICY_DIR, startFixture } from './support/fixture';
import { bearer, rawRequest } from './support/http';

/*
 * Issue 17: `cage run` confines a job on this host — real namespaces (bubblewrap), a real
 * gateway, the sample jobs as contestants write them. CI runs as root with bubblewrap installed
 * (scripts/test installs it); a host that cannot confine fails this suite, it does not skip it.
 */
const ROOT = join(__dirname, '..');

describe('cage run: a job confined, the sandbox listener its only door', () => {
  let f: Fixture;
  let work: string;
  let env: Record<string, string>;
  const run = (args: string[], command: string[]) =>
    cage(['run', '--team', 'demo', '--workdir', work, ...args, '--json', '--', ...command], { env, cwd: work });

  beforeAll(async () => {
    const why = cannotConfine();
    if (why !== undefined) throw new Error(`this host cannot confine a job (${why}): run the suite as root with bubblewrap installed`);
    // The demo seeded: team "demo", dataset lung-demo, which the sample jobs read.
    f = await startFixture({ db: 'pglite', env: { CAGE_DEMO: '1' } });
    env = { CAGE_URL: f.gateway.controlUrl, CAGE_TOKEN: f.organizerToken, CAGE_DATA_DIR: f.config.dataDir };
    work = mkdtempSync(join(tmpdir(), 'cage-run-work-'));
    cpSync(join(ROOT, 'examples'), work, { recursive: true });
  }, 120_000);
  afterAll(async () => {
    await f?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('runs the sample jobs (REST, and boto3 through the S3 API) through the door, every read and release logged under the run’s job', async () => {
    for (const command of [
      ['node', 'nodule-job.mjs'],
      ['python3', 'nodule_job_boto3.py'],
    ]) {
      const r = await run(['--timeout', '300'], command);
      expect({ code: r.code, stderr: r.stderr.slice(-2000) }).toMatchObject({ code: 0 });
      const report = JSON.parse(r.stdout) as {
        jobId: string;
        exitCode: number;
        credentialRevoked: boolean;
        peakMemoryBytes: number | null;
      };
      expect(report).toMatchObject({ exitCode: 0, credentialRevoked: true });
      const leaves = (await f.gateway.get(AuditRepository).find({ principal: `job:${report.jobId}`, limit: 10_000 })).map((l) => l.leaf);
      expect(leaves.filter((l) => l.action === 'read' && l.decision === 'allow').length).toBeGreaterThan(0);
      expect(leaves.filter((l) => l.action.startsWith('egress') && l.decision === 'allow').length).toBeGreaterThanOrEqual(2);
    }
  }, 600_000);

  it('should not reach anything but the door from inside: no other port, no host, no name, no data dir, no policies, nothing writable outside', async () => {
    const control = new URL(f.gateway.controlUrl);
    const sandbox = new URL(f.gateway.sandboxUrl);
    writeFileSync(
      join(work, 'probe.mjs'),
      `
import { connect } from 'node:net';
import { lookup } from 'node:dns/promises';
import { readdirSync, writeFileSync } from 'node:fs';
const reach = (host, port) => new Promise((r) => { const s = connect({ host, port, timeout: 2000 }); s.on('connect', () => { s.destroy(); r('open'); }); s.on('error', (e) => r(e.code)); s.on('timeout', () => { s.destroy(); r('timeout'); }); });
const tryIt = async (f) => { try { await f(); return 'ok'; } catch (e) { return e.code ?? e.message; } };
const out = {
  door: (await fetch(process.env.CAGE_SANDBOX_URL + '/v1/datasets', { headers: { authorization: 'Bearer ' + process.env.CAGE_JOB_TOKEN } })).status,
  control: await reach('127.0.0.1', ${control.port}),
  sandboxTcp: await reach('127.0.0.1', ${sandbox.port}),
  postgres: await reach('127.0.0.1', 5432),
  outside: await reach('1.1.1.1', 443),
  dns: await tryIt(() => lookup('example.com')),
  dataDir: await tryIt(() => readdirSync(${JSON.stringify(f.config.dataDir)})),
  policies: await tryIt(() => readdirSync(${JSON.stringify(POLICY_DIR)})),
  root: await tryIt(() => readdirSync('/root')),
  writeUsr: await tryIt(() => writeFileSync('/usr/cage-probe', 'x')),
  writeEtc: await tryIt(() => writeFileSync('/etc/cage-probe', 'x')),
  writeScratch: await tryIt(() => writeFileSync('/scratch/x', 'x')),
  writeJob: await tryIt(() => writeFileSync('/job/probe-out', 'x')),
  token: process.env.CAGE_JOB_TOKEN,
};
writeFileSync('/job/probe.json', JSON.stringify(out));
`,
    );
    const r = await run(['--timeout', '60'], ['node', 'probe.mjs']);
    expect({ code: r.code, stderr: r.stderr.slice(-2000) }).toMatchObject({ code: 0 });
    const seen = JSON.parse(readFileSync(join(work, 'probe.json'), 'utf8')) as Record<string, unknown>;
    expect(seen).toMatchObject({
      door: 200,
      control: 'ECONNREFUSED',
      sandboxTcp: 'ECONNREFUSED',
      postgres: 'ECONNREFUSED',
      dataDir: 'ENOENT',
      policies: 'ENOENT',
      root: 'ENOENT',
      writeUsr: 'EROFS',
      writeScratch: 'ok',
      writeJob: 'ok',
    });
    expect(seen.outside).not.toBe('open');
    expect(seen.dns).not.toBe('ok');
    expect(seen.writeEtc).not.toBe('ok');
    // The run's credential died with it.
    const after = await rawRequest(f.gateway.sandboxUrl, 'GET', '/v1/datasets', bearer(String(seen.token)));
    expect(after.status).toBe(401);
  }, 120_000);

  it('should not let a job take the host: a memory hog and a fork bomb are contained, a run over its time is killed', async () => {
    const hog = await run(
      ['--memory', '128MiB', '--timeout', '60'],
      ['python3', '-c', 'x = bytearray(512 * 1024 * 1024); print("allocated")'],
    );
    expect(hog.code).toBe(137);
    expect(hog.stdout).not.toContain('allocated');
    const log = join(work, 'bomb.log');
    const bomb = await run(
      ['--pids', '32', '--timeout', '60', '--log', log],
      ['sh', '-c', 'i=0; while [ $i -lt 200 ]; do sleep 30 & i=$((i+1)); done; wait'],
    );
    expect(bomb.code).not.toBe(0);
    expect(readFileSync(log, 'utf8')).toMatch(/fork/i); // the job's output went to the organizer's log, not to a contestant
    const t0 = Date.now();
    const slow = await run(['--timeout', '2'], ['sleep', '60']);
    expect(slow.code).toBe(124);
    expect(JSON.parse(slow.stdout)).toMatchObject({ timedOut: true, credentialRevoked: true });
    expect(Date.now() - t0).toBeLessThan(15_000);
  }, 180_000);

  it('says why when the host cannot confine, and runs nothing', async () => {
    const r = await cage(['run', '--team', 'demo', '--workdir', work, '--', 'touch', join(work, 'ran-unconfined')], {
      env: { ...env, CAGE_BWRAP: '/nonexistent/bwrap' },
      cwd: work,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot confine a job on this host: bubblewrap \(bwrap\) is not installed.*nothing was run/);
    expect(() => readFileSync(join(work, 'ran-unconfined'))).toThrow();
  });
});
