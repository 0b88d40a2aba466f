import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Fixture, startFixture } from '../support/fixture';
import { bearer, rawRequest } from '../support/http';
import { type KubeApi, kubeconfigFor, startKubeApi } from '../support/kube-api';

/*
 * Issue 17, item 2: `cage job launch --apply` creates the run's Secret and Job through the
 * Kubernetes API with its npm client (@kubernetes/client-node), and `cage job wait` watches the
 * Job to its end, then revokes the credential and deletes the Secret. The API server is a
 * stand-in (test/support/kube-api.ts says why); the client, the gateway and the CLI are real.
 * The CLI runs as its built binary (dist/cli/main.js): the client is an ES module, which Node
 * loads and jest's module system does not.
 */
const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

interface JobRow {
  jobId: string;
  state: string;
}

describe('cage job launch --apply and cage job wait (Kubernetes API)', () => {
  let f: Fixture;
  let kube: KubeApi;
  let dir: string;
  let kubeconfig: string;

  const env = (extra: Record<string, string> = {}) => ({
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    CAGE_URL: f.gateway.controlUrl,
    CAGE_TOKEN: f.organizerToken,
    KUBECONFIG: kubeconfig,
    ...extra,
  });

  /** The built CLI as a process; `whileRunning` acts on the stand-in while it runs. */
  const cage = (args: string[], extra?: Record<string, string>): { done: Promise<Run>; pid: number } => {
    const child = spawn(process.execPath, [CLI, ...args], { env: env(extra), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const done = new Promise<Run>((resolve) => child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr })));
    return { done, pid: child.pid ?? -1 };
  };
  const run = (args: string[], extra?: Record<string, string>) => cage(args, extra).done;

  const jobs = async (): Promise<JobRow[]> =>
    (
      JSON.parse((await rawRequest(f.gateway.controlUrl, 'GET', '/v1/jobs?team=alpha', bearer(f.organizerToken))).body.toString()) as {
        jobs: JobRow[];
      }
    ).jobs;
  const stateOf = async (jobId: string) => (await jobs()).find((j) => j.jobId === jobId)?.state;

  const until = async (what: string, ok: () => boolean, ms = 20_000) => {
    const end = Date.now() + ms;
    while (!ok()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const launch = async (extra: string[] = []) => {
    const r = await run([
      'job',
      'launch',
      '--team',
      'alpha',
      '--image',
      'registry.example.org/alpha/train:1',
      '--apply',
      '--json',
      ...extra,
    ]);
    expect(`${r.code} ${r.stderr}`).toBe('0 ');
    return JSON.parse(r.stdout) as { jobId: string; kubernetes: { name: string; namespace: string; uid: string } };
  };

  beforeAll(async () => {
    const built = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-if-changed.mjs')], { cwd: ROOT, encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`the build failed:\n${built.stdout}${built.stderr}`);
    f = await startFixture({ db: 'pglite' });
    kube = await startKubeApi();
    dir = mkdtempSync(join(tmpdir(), 'cage-kube-'));
    kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, kubeconfigFor(kube), { mode: 0o600 });
  });
  afterAll(async () => {
    await kube?.close();
    await f?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('creates the Secret, then the Job, and makes the Job own the Secret; prints no secret', async () => {
    const before = kube.requests.length;
    const launched = await launch();
    const writes = kube.requests.slice(before).filter((r) => r.method !== 'GET');
    expect(writes.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /api/v1/namespaces/cage/secrets',
      'POST /apis/batch/v1/namespaces/cage/jobs',
      `PUT /api/v1/namespaces/cage/secrets/${launched.kubernetes.name}-credential`,
    ]);
    const secret = kube.secrets.get(`cage/${launched.kubernetes.name}-credential`)!;
    expect(secret.metadata.ownerReferences).toEqual([
      {
        apiVersion: 'batch/v1',
        kind: 'Job',
        name: launched.kubernetes.name,
        uid: kube.jobs.get(`cage/${launched.kubernetes.name}`)!.metadata.uid,
      },
    ]);
    expect(secret.metadata.labels).toMatchObject({ 'cage.io/role': 'sandbox', 'cage.io/job': launched.jobId });
    const job = kube.jobs.get(`cage/${launched.kubernetes.name}`)! as unknown as {
      spec: { template: { spec: { automountServiceAccountToken: boolean } } };
    };
    expect(job.spec.template.spec.automountServiceAccountToken).toBe(false);
    expect(await stateOf(launched.jobId)).toBe('active');
  });

  it('keeps the credential out of what it prints (it lives in the Secret only)', async () => {
    const r = await run(['job', 'launch', '--team', 'alpha', '--image', 'train:1', '--apply']);
    expect(r.code).toBe(0);
    const name = /Kubernetes Job cage\/(\S+)/.exec(r.stdout)![1];
    const data = kube.secrets.get(`cage/${name}-credential`)!.data as Record<string, string>;
    const values = Object.values(data).map((v) => Buffer.from(v, 'base64').toString());
    expect(values).toHaveLength(3);
    for (const v of values) {
      expect(r.stdout).not.toContain(v);
      expect(r.stderr).not.toContain(v);
    }
  });

  it('cage job wait: watches the Job to its end, then revokes the credential and deletes the Secret (exit 0)', async () => {
    const launched = await launch();
    const w = cage(['job', 'wait', launched.jobId]);
    await until('the watch', () => kube.watching() === 1);
    expect(await stateOf(launched.jobId)).toBe('active');
    kube.endJob('cage', launched.kubernetes.name, 'Complete');
    const r = await w.done;
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
    expect(r.stdout).toContain('the Kubernetes Job completed');
    expect(r.stdout).toContain('credential revoked; 1 Secret(s) deleted');
    expect(await stateOf(launched.jobId)).toBe('revoked');
    expect(kube.secrets.has(`cage/${launched.kubernetes.name}-credential`)).toBe(false);
  });

  it('a failed Job: exit 1 with its reason, the credential revoked all the same', async () => {
    const launched = await launch();
    const w = cage(['job', 'wait', launched.jobId, '--json']);
    await until('the watch', () => kube.watching() === 1);
    kube.endJob('cage', launched.kubernetes.name, 'Failed', 'DeadlineExceeded');
    const r = await w.done;
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('failed (DeadlineExceeded)');
    expect(JSON.parse(r.stdout)).toMatchObject({
      jobId: launched.jobId,
      outcome: 'failed',
      reason: 'DeadlineExceeded',
      credential: 'revoked',
    });
    expect(await stateOf(launched.jobId)).toBe('revoked');
  });

  it('a watch the server ends is taken up again; the end is not missed', async () => {
    const launched = await launch();
    const w = cage(['job', 'wait', launched.jobId]);
    await until('the watch', () => kube.watching() === 1);
    kube.closeWatches();
    await until('the watch again', () => kube.watching() === 1);
    expect(await stateOf(launched.jobId)).toBe('active');
    kube.endJob('cage', launched.kubernetes.name, 'Complete');
    expect((await w.done).code).toBe(0);
    expect(await stateOf(launched.jobId)).toBe('revoked');
  });

  it('a Job deleted before it ended: exit 1, revoked', async () => {
    const launched = await launch();
    const w = cage(['job', 'wait', launched.jobId]);
    await until('the watch', () => kube.watching() === 1);
    kube.deleteJob('cage', launched.kubernetes.name);
    const r = await w.done;
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('was deleted before it ended');
    expect(await stateOf(launched.jobId)).toBe('revoked');
  });

  it('launch --apply --wait: one command from launch to revocation', async () => {
    const w = cage(['job', 'launch', '--team', 'alpha', '--image', 'train:1', '--apply', '--wait']);
    await until('the watch', () => kube.watching() === 1);
    const name = [...kube.jobs.keys()].at(-1)!.split('/')[1];
    const jobId = kube.jobs.get(`cage/${name}`)!.metadata.labels!['cage.io/job'];
    expect(await stateOf(jobId)).toBe('active');
    kube.endJob('cage', name, 'Complete');
    expect((await w.done).code).toBe(0);
    expect(await stateOf(jobId)).toBe('revoked');
  });

  it('should not leave a credential behind when the API server refuses the Job: revoked, the Secret deleted, exit 4', async () => {
    const before = new Set((await jobs()).map((j) => j.jobId));
    const secretsBefore = kube.secrets.size;
    kube.failNext('POST', '/apis/batch/v1/namespaces/cage/jobs', 403);
    const r = await run(['job', 'launch', '--team', 'alpha', '--image', 'train:1', '--apply']);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('Kubernetes refused creating the Job (HTTP 403)');
    const issued = (await jobs()).filter((j) => !before.has(j.jobId));
    expect(issued.map((j) => j.state)).toEqual(['revoked']);
    expect(kube.secrets.size).toBe(secretsBefore);
  });

  it('should not issue a credential when the cluster cannot be configured', async () => {
    const before = (await jobs()).length;
    const r = await run(['job', 'launch', '--team', 'alpha', '--image', 'train:1', '--apply'], { KUBECONFIG: join(dir, 'missing') });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('cannot load the Kubernetes configuration');
    const none = await run(['job', 'launch', '--team', 'alpha', '--image', 'train:1', '--apply'], {
      KUBECONFIG: '',
      HOME: join(dir, 'nohome'),
    });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no Kubernetes configuration');
    expect((await jobs()).length).toBe(before);
  });

  it('should not accept --wait without --apply', async () => {
    const r = await run(['job', 'launch', '--team', 'alpha', '--image', 'train:1', '--wait']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--wait needs --apply');
  });

  it('cage job wait for a job whose Kubernetes Job is gone revokes it at once', async () => {
    const launched = await launch();
    kube.deleteJob('cage', launched.kubernetes.name);
    const r = await run(['job', 'wait', launched.jobId]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`no Kubernetes Job in cage runs job ${launched.jobId}`);
    expect(await stateOf(launched.jobId)).toBe('revoked');
    // The Secret the Job owned goes too (a cluster's garbage collector would; wait deletes it).
    expect([...kube.secrets.values()].some((s) => s.metadata.labels?.['cage.io/job'] === launched.jobId)).toBe(false);
  });
});
