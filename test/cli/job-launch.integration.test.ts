import { Job, type IJob } from 'kubernetes-models/batch/v1/Job';
import { type INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { type IContainer } from 'kubernetes-models/v1/Container';
import { type IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { Secret, type ISecret } from 'kubernetes-models/v1/Secret';
import { parseAllDocuments } from 'yaml';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Fixture, startFixture } from '../support/fixture';
import { bearer, rawRequest } from '../support/http';
import { cage } from './cli-harness';

/*
 * Issue 17, item 2: `cage job launch` renders a team's run as a Kubernetes Job (and its Secret)
 * confined as deploy/kubernetes expects: validated against the Kubernetes 1.33 schemas
 * (kubernetes-models, as test/deploy-manifests.test.ts), and one test per field the issue lists.
 */
interface Rendered {
  kind: string;
  items: [ISecret, IJob];
}

describe('cage job launch', () => {
  let f: Fixture;
  let secret: ISecret;
  let job: IJob;
  let pod: IPodSpec;
  let container: IContainer;
  let jobId: string;

  beforeAll(async () => {
    f = await startFixture({ db: 'pglite' });
    const r = await cage(
      [
        'job',
        'launch',
        '--team',
        'alpha',
        '--image',
        'registry.example.org/alpha/train:1',
        '--ttl',
        '6h',
        '--cpu',
        '2',
        '--memory',
        '8Gi',
        '--runtime-class',
        'gvisor',
        '--env',
        'EPOCHS=3',
        '--',
        'python3',
        'train.py',
      ],
      { env: { CAGE_URL: f.gateway.controlUrl, CAGE_TOKEN: f.organizerToken } },
    );
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
    const out = JSON.parse(r.stdout) as Rendered;
    expect(out.kind).toBe('List');
    [secret, job] = out.items;
    pod = job.spec!.template.spec!;
    container = pod.containers[0];
    jobId = job.metadata!.labels!['cage.io/job'];
  });
  afterAll(async () => {
    await f?.stop();
  });

  it('renders a Secret and a Job the Kubernetes 1.33 schemas accept', () => {
    expect(() => new Secret(secret).validate()).not.toThrow();
    expect(() => new Job(job).validate()).not.toThrow();
    expect([secret.kind, job.kind]).toEqual(['Secret', 'Job']);
  });

  it('labels the pod as the sandbox the NetworkPolicies of deploy/kubernetes confine', () => {
    const policies = parseAllDocuments(
      readFileSync(join(__dirname, '..', '..', 'deploy', 'kubernetes', 'network-policy.yaml'), 'utf8'),
    ).map((d) => d.toJSON() as INetworkPolicy);
    const selectors = policies.flatMap((p) => [
      p.spec!.podSelector,
      ...(p.spec!.ingress ?? []).flatMap((i) => (i.from ?? []).map((x) => x.podSelector)),
    ]);
    const sandboxSelector = selectors.find((sel) => sel?.matchLabels?.['cage.io/role'] !== undefined);
    expect(job.spec!.template.metadata!.labels).toMatchObject(sandboxSelector!.matchLabels!);
    expect(job.metadata!.namespace).toBe('cage');
  });

  it('hands the credential in from a Secret of its own, never inline', () => {
    const env = new Map((container.env ?? []).map((e) => [e.name, e]));
    for (const key of ['CAGE_JOB_TOKEN', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) {
      expect(env.get(key)?.value).toBeUndefined();
      expect(env.get(key)?.valueFrom?.secretKeyRef).toEqual({ name: secret.metadata!.name, key });
      expect(typeof secret.stringData![key]).toBe('string');
    }
    expect(env.get('EPOCHS')?.value).toBe('3');
  });

  it('mounts no service-account token', () => {
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  it('gives the pod no resolver: the gateway by address', () => {
    expect(pod.dnsPolicy).toBe('None');
    expect(pod.dnsConfig).toEqual({ nameservers: ['127.0.0.1'] });
    const url = (container.env ?? []).find((e) => e.name === 'CAGE_SANDBOX_URL')?.value;
    expect(url).toBe('http://$(CAGE_SANDBOX_SERVICE_HOST):$(CAGE_SANDBOX_SERVICE_PORT)');
    expect(pod.enableServiceLinks).toBe(true);
  });

  it('runs as non-root with the runtime default seccomp profile, no escalation, no capabilities', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65534, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
  });

  it('has a read-only root filesystem and a scratch volume', () => {
    expect(container.securityContext!.readOnlyRootFilesystem).toBe(true);
    expect(container.volumeMounts).toEqual([{ name: 'scratch', mountPath: '/scratch' }]);
    expect(pod.volumes).toEqual([{ name: 'scratch', emptyDir: { sizeLimit: '20Gi' } }]);
  });

  it('sets resources', () => {
    expect(container.resources).toEqual({
      requests: { cpu: '2', memory: '8Gi', 'ephemeral-storage': '20Gi' },
      limits: { cpu: '2', memory: '8Gi', 'ephemeral-storage': '20Gi' },
    });
  });

  it('ends by its deadline, the credential’s lifetime', async () => {
    expect(job.spec!.activeDeadlineSeconds).toBe(6 * 3600);
    expect(job.spec!.backoffLimit).toBe(0);
    const listed = JSON.parse(
      (await rawRequest(f.gateway.controlUrl, 'GET', '/v1/jobs?team=alpha', bearer(f.organizerToken))).body.toString(),
    ) as {
      jobs: { jobId: string; createdAt: string; expiresAt: string }[];
    };
    const issued = listed.jobs.find((j) => j.jobId === jobId)!;
    expect((Date.parse(issued.expiresAt) - Date.parse(issued.createdAt)) / 1000).toBeCloseTo(6 * 3600, -1);
  });

  it('takes an optional runtime class (a sandboxing runtime such as gVisor), and none when not asked', async () => {
    expect(pod.runtimeClassName).toBe('gvisor');
    const r = await cage(['job', 'launch', '--team', 'alpha', '--image', 'x:1', '--gateway-url', 'http://10.0.0.7:8081'], {
      env: { CAGE_URL: f.gateway.controlUrl, CAGE_TOKEN: f.organizerToken },
    });
    const plain = (JSON.parse(r.stdout) as Rendered).items[1].spec!.template.spec!;
    expect(plain.runtimeClassName).toBeUndefined();
    expect(plain.enableServiceLinks).toBe(false);
    expect(plain.containers[0].command).toBeUndefined();
    expect(plain.containers[0].env).toContainEqual({ name: 'CAGE_SANDBOX_URL', value: 'http://10.0.0.7:8081' });
  });

  it('should not render for a bad gateway URL, and issues no credential then', async () => {
    const before = JSON.parse(
      (await rawRequest(f.gateway.controlUrl, 'GET', '/v1/jobs?team=alpha', bearer(f.organizerToken))).body.toString(),
    ).jobs.length as number;
    const r = await cage(['job', 'launch', '--team', 'alpha', '--image', 'x:1', '--gateway-url', 'http://gw:8081/x?y'], {
      env: { CAGE_URL: f.gateway.controlUrl, CAGE_TOKEN: f.organizerToken },
    });
    expect(r.code).toBe(2);
    const after = JSON.parse(
      (await rawRequest(f.gateway.controlUrl, 'GET', '/v1/jobs?team=alpha', bearer(f.organizerToken))).body.toString(),
    ).jobs.length as number;
    expect(after).toBe(before);
  });
});
