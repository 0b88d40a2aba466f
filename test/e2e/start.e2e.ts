import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMetaImageHeader, worldBoundingBox } from '../../src/datasets/metaimage-header';
import { type Bootstrap } from '../../src/demo/bootstrap-file';
import { ensureDebianClients, PYTHON } from '../support/debian-clients';
import { bearer, rawRequest } from '../support/http';

const ROOT = join(__dirname, '..', '..');

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** A port nothing listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createNetServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** `npm start`, exactly as the README says, in its own process group (as a terminal runs it). */
function npmStart(dataDir: string, ports: { control: number; sandbox: number } = { control: 0, sandbox: 0 }): Promise<Started> {
  const child = spawn('npm', ['start'], {
    cwd: ROOT,
    detached: true,
    env: { ...process.env, CAGE_DATA_DIR: dataDir, CAGE_CONTROL_PORT: String(ports.control), CAGE_SANDBOX_PORT: String(ports.sandbox) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      if (out.includes('cage gateway listening')) {
        clearInterval(timer);
        resolve({ child, output: () => out, exited });
      }
    }, 100);
    void exited.then((code) => {
      clearInterval(timer);
      reject(new Error(`npm start exited with ${code}:\n${out}`));
    });
  });
}

/** Ctrl-C: SIGINT to the whole process group; resolves once the gateway has logged a clean stop. */
async function interrupt(s: Started): Promise<string> {
  process.kill(-(s.child.pid as number), 'SIGINT');
  await s.exited;
  // npm itself may die of the signal; what matters is that the gateway under it stopped cleanly.
  const deadline = Date.now() + 15_000;
  while (!s.output().includes('stopped cleanly') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  return s.output();
}

describe('end to end: the README start command, a job reading over HTTP', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cage-e2e-'));
  let running: Started | undefined;
  afterAll(() => {
    try {
      if (running !== undefined) process.kill(-(running.child.pid as number), 'SIGKILL');
    } catch {
      // already gone
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts on the embedded default, seeds the demo, serves the job, stops cleanly, and restarts on the same data', async () => {
    const file = join(dataDir, 'bootstrap.json');
    // Readiness: from the moment the process starts, /readyz is never 200 before bootstrap.json
    // is written whole (a script that waits for readiness then reads it must not fail).
    const ports = { control: await freePort(), sandbox: await freePort() };
    const readiness: { status: number; bootstrapped: boolean }[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const r = await rawRequest(`http://127.0.0.1:${ports.control}`, 'GET', '/readyz').catch(() => undefined);
        if (r !== undefined) {
          const bootstrapped =
            existsSync(file) &&
            (() => {
              try {
                return typeof (JSON.parse(readFileSync(file, 'utf8')) as Bootstrap).organizerToken === 'string';
              } catch {
                return false;
              }
            })();
          readiness.push({ status: r.status, bootstrapped });
          if (r.status === 200) return;
        }
        await new Promise((res) => setTimeout(res, 20));
      }
    })();
    running = await npmStart(dataDir, ports);
    await poller;
    polling = false;
    expect(readiness.length).toBeGreaterThan(0);
    for (const r of readiness) expect(r.status === 200 ? r.bootstrapped : r.status === 503).toBe(true);
    expect(readiness[readiness.length - 1].status).toBe(200);
    // People read the console: no line per route mapped at the default level.
    expect(running.output()).not.toContain('Mapped {');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const boot = JSON.parse(readFileSync(file, 'utf8')) as Bootstrap;
    expect(Object.keys(boot).sort()).toEqual([
      'auditorToken',
      'controlUrl',
      'demoJob',
      'organizerToken',
      's3Endpoint',
      's3Region',
      'sandboxUrl',
    ]);
    expect(boot.s3Endpoint).toBe(boot.sandboxUrl);
    expect(Object.keys(boot.demoJob!).sort()).toEqual(['accessKeyId', 'expiresAt', 'jobId', 'secretAccessKey', 'team', 'token']);
    // The path is printed, never a secret.
    expect(running.output()).toContain(file);
    for (const secret of [boot.organizerToken, boot.auditorToken, boot.demoJob!.token, boot.demoJob!.secretAccessKey]) {
      expect(running.output()).not.toContain(secret);
    }

    const auth = bearer(boot.demoJob!.token);
    const datasets = JSON.parse((await rawRequest(boot.sandboxUrl, 'GET', '/v1/datasets', auth)).body.toString()) as {
      datasets: { id: string }[];
    };
    expect(datasets.datasets.map((d) => d.id)).toEqual(['lung-demo']);

    const annotations = await rawRequest(boot.sandboxUrl, 'GET', '/v1/datasets/lung-demo/objects/train/annotations.csv', auth);
    expect(annotations.status).toBe(200);
    const rows = annotations.body.toString().trim().split('\n');
    expect(rows[0]).toBe('seriesuid,coordX,coordY,coordZ,diameter_mm');
    const [uid, x, y, z] = rows[1].split(',');

    // The nodule of the first annotation lies inside its scan, read through the gateway.
    const mhd = await rawRequest(boot.sandboxUrl, 'GET', `/v1/datasets/lung-demo/objects/train/${uid}.mhd`, auth);
    const header = parseMetaImageHeader(mhd.body.toString());
    const box = worldBoundingBox(header);
    [x, y, z].map(Number).forEach((v, i) => {
      expect(v).toBeGreaterThanOrEqual(box.min[i]);
      expect(v).toBeLessThanOrEqual(box.max[i]);
    });
    const slice = await rawRequest(boot.sandboxUrl, 'GET', `/v1/datasets/lung-demo/objects/train/${header.elementDataFile}`, {
      ...auth,
      range: 'bytes=0-1023',
    });
    expect(slice.status).toBe(206);
    expect(slice.body.length).toBe(1024);

    // No job reads the test labels.
    expect((await rawRequest(boot.sandboxUrl, 'GET', '/v1/datasets/lung-demo/objects/labels/test_annotations.csv', auth)).status).toBe(404);

    expect((await rawRequest(boot.controlUrl, 'GET', '/healthz')).status).toBe(200);
    expect((await rawRequest(boot.controlUrl, 'GET', '/readyz')).status).toBe(200);
    expect((await rawRequest(boot.controlUrl, 'GET', '/docs/openapi.json')).status).toBe(200);
    const audit = JSON.parse(
      (await rawRequest(boot.controlUrl, 'GET', '/v1/audit?limit=1000', bearer(boot.auditorToken))).body.toString(),
    ) as {
      leaves: { leaf: { action: string; decision: string } }[];
    };
    const leavesBefore = audit.leaves.length;
    expect(audit.leaves.some((l) => l.leaf.action === 'read' && l.leaf.decision === 'deny')).toBe(true);

    // The sample contestant job, as the README runs it, end to end: reads, predicts, egresses.
    const job = spawnSync(process.execPath, [join(ROOT, 'examples', 'nodule-job.mjs')], {
      cwd: ROOT,
      env: { ...process.env, CAGE_BOOTSTRAP: file },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(job.stderr).toBe('');
    expect(job.status).toBe(0);
    expect(job.stdout).toMatch(/submission: 201 public score \d(\.\d+)? .*"status":"released"/);
    expect(job.stdout).toMatch(/egress metrics: 201 .*"status":"released"/);

    // The same job in Python with Debian's boto3, through the S3-compatible API and the outbox bucket.
    ensureDebianClients();
    const py = spawnSync(PYTHON, [join(ROOT, 'examples', 'nodule_job_boto3.py')], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: dataDir, AWS_CONFIG_FILE: join(dataDir, 'none'), CAGE_BOOTSTRAP: file },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(py.stderr).toBe('');
    expect(py.status).toBe(0);
    // Same bytes through either door: the same score on the train split.
    expect(py.stdout.split('\n')[0]).toBe(job.stdout.split('\n').find((l) => l.startsWith('train:')));
    expect(py.stdout).toMatch(/egress submissions: released receipt egr-.*, public score \d/);
    expect(py.stdout).toMatch(/egress metrics: released receipt egr-/);
    const released = JSON.parse(
      (await rawRequest(boot.controlUrl, 'GET', '/v1/egress?status=released', bearer(boot.auditorToken))).body.toString(),
    ) as { artifacts: { kind: string }[] };
    expect(released.artifacts.map((a) => a.kind).sort()).toEqual(['metrics', 'metrics', 'submissions', 'submissions']);
    // The demo competition's leaderboard, as the README shows it after the quick start.
    const board = JSON.parse(
      (await rawRequest(boot.controlUrl, 'GET', '/v1/leaderboard', bearer(boot.organizerToken))).body.toString(),
    ) as {
      public: { team: string; submissions: number }[];
    };
    expect(board.public).toEqual([expect.objectContaining({ rank: 1, submissions: 2 })]);

    // The demo's synthetic raw export, ingested with the CLI as the README says.
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, [join(ROOT, 'dist', 'cli', 'main.js'), ...args], {
        cwd: ROOT,
        env: { ...process.env, CAGE_URL: boot.controlUrl, CAGE_TOKEN: boot.organizerToken },
        encoding: 'utf8',
        timeout: 60_000,
      });
    expect(
      cli('dataset', 'add', 'lung-ingested', '--bucket', 'cage-datasets', '--prefix', 'lung-ingested/', '--split', 'train:train:train/')
        .status,
    ).toBe(0);
    const ingested = cli(
      'ingest',
      'lung-ingested',
      'demo-export',
      '--target',
      'train/',
      '--csv-columns',
      'seriesuid,coordX,coordY,coordZ,diameter_mm',
      '--csv-pseudonymize',
      'seriesuid',
      '--json',
    );
    expect(ingested.stderr).toBe('');
    const runReport = JSON.parse(ingested.stdout) as {
      state: string;
      filesWritten: number;
      filesRefused: number;
      summary: { stripped: Record<string, number> };
    };
    expect(runReport).toMatchObject({ state: 'done', filesWritten: 4, filesRefused: 1 });
    expect(runReport.summary.stripped).toMatchObject({ 'MetaImage keys (X)': 15, 'CSV columns (X)': 2 });

    expect(await interrupt(running)).toContain('stopped cleanly');

    // Second start: same data, same tokens, nothing rebuilt, ready in seconds.
    const t0 = Date.now();
    running = await npmStart(dataDir);
    const restartMs = Date.now() - t0;
    process.stdout.write(`second npm start: listening and ready after ${(restartMs / 1000).toFixed(1)} s\n`);
    expect(running.output()).toContain('build is up to date');
    expect(restartMs).toBeLessThan(20_000);
    const again = JSON.parse(readFileSync(file, 'utf8')) as Bootstrap;
    expect(again.demoJob!.token).toBe(boot.demoJob!.token);
    expect(again.organizerToken).toBe(boot.organizerToken);
    expect(running.output()).not.toContain('demo competition seeded');
    const reread = await rawRequest(
      again.sandboxUrl,
      'GET',
      '/v1/datasets/lung-demo/objects/train/annotations.csv',
      bearer(boot.demoJob!.token),
    );
    expect(reread.body.equals(annotations.body)).toBe(true);
    const audit2 = JSON.parse(
      (await rawRequest(again.controlUrl, 'GET', '/v1/audit?limit=1000', bearer(boot.auditorToken))).body.toString(),
    ) as typeof audit;
    expect(audit2.leaves.length).toBeGreaterThan(leavesBefore);
    expect(await interrupt(running)).toContain('stopped cleanly');
  }, 240_000);
});
