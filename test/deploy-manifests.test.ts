/**
 * deploy/kubernetes (issue 14, item 5): every document of every manifest is checked against the
 * Kubernetes schema of its apiVersion/kind, the kustomize base lists files that exist, and the
 * rules the deployment depends on are checked as behaviour: probes and resources, policies from
 * the image, keys from the Secret, the cage's network policies, the sandbox job's DNS, the Secret
 * template, the disruption budget, and that the gateway knows every CAGE_* variable it is given.
 *
 * Schemas: `kubernetes-models@4.5.1` (devDependency), the Kubernetes v1.33.0 OpenAPI schemas
 * precompiled into one JSON-schema validator per apiVersion/kind, with a TypeScript interface for
 * each. Chosen because it is plain JavaScript with no install script or native build, runs on
 * Node 20 (its 5.x needs Node 22), is widely used and kept up to date, and needs no network at
 * test time. The OpenAPI schemas allow unknown fields; the API server (and kubectl) refuse them.
 * So each document is also type-checked as an object literal against the package's interface:
 * TypeScript's excess-property check refuses a misspelt or unknown field anywhere in it.
 * Custom resources it has no schema for are skipped only when listed in CUSTOM_RESOURCES.
 */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join, posix } from 'node:path';
import * as ts from 'typescript';
import { parseAllDocuments } from 'yaml';
import { Deployment, type IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import { Job, type IJob } from 'kubernetes-models/batch/v1/Job';
import { NetworkPolicy, type INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { type INetworkPolicyPeer } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyPeer';
import { type INetworkPolicyPort } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyPort';
import { PodDisruptionBudget, type IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { type IContainer } from 'kubernetes-models/v1/Container';
import { type IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { Secret, type ISecret } from 'kubernetes-models/v1/Secret';
import { Service, type IService } from 'kubernetes-models/v1/Service';

const ROOT = join(__dirname, '..');
const DIR = join(ROOT, 'deploy', 'kubernetes');
const KUBERNETES_VERSION = '1.33.0'; // what kubernetes-models@4.5.1 was generated from

/** The kinds the manifests may use: each one validated by its model (apiVersion/kind -> class). */
const MODELS: Record<string, { new (data: object): { validate(): void } }> = {
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};
/** Custom resources without a schema here (the Prometheus Operator's, monitoring.yaml): skipped by name only. */
const CUSTOM_RESOURCES = new Set(['monitoring.coreos.com/v1/ServiceMonitor', 'monitoring.coreos.com/v1/PrometheusRule']);
/** Read by kustomize, never sent to the API server: checked by the kustomization tests instead. */
const KUSTOMIZATION = 'kustomize.config.k8s.io/v1beta1/Kustomization';
/** Files deliberately left out of the base, each for a reason given in kustomization.yaml. */
const NOT_IN_BASE = ['monitoring.yaml', 'sandbox-job.example.yaml', 'secret.template.yaml'];

const SECRET = 'cage-secrets';
const GATEWAY_LABELS = { app: 'cage-gateway' };
const SANDBOX_LABELS = { 'cage.io/role': 'sandbox' };
const SANDBOX_PORT = 8081;

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}
interface Doc {
  file: string;
  index: number;
  obj: Manifest;
}
const where = (d: Doc) => `${d.file} #${d.index + 1} (${d.obj.kind} ${d.obj.metadata?.name ?? '?'})`;
const typeKey = (o: { apiVersion: string; kind: string }) => `${o.apiVersion}/${o.kind}`;

function loadDocs(): Doc[] {
  const files = readdirSync(DIR)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
  const docs: Doc[] = [];
  for (const file of files) {
    // YAML 1.1, as kubectl reads it (sigs.k8s.io/yaml): 0440 is octal, `on` is a boolean.
    const parsed = parseAllDocuments(readFileSync(join(DIR, file), 'utf8'), { version: '1.1', uniqueKeys: true });
    if (!Array.isArray(parsed)) throw new Error(`${file}: not a YAML stream`);
    parsed.forEach((d, index) => {
      if (d.errors.length > 0) throw new Error(`${file} #${index + 1}: ${d.errors.map((e) => e.message).join('; ')}`);
      const obj: unknown = d.toJS();
      if (obj === null || obj === undefined) return; // a document of comments only
      docs.push({ file, index, obj: obj as Manifest });
    });
  }
  return docs;
}

/** TypeScript's excess-property check: one program, each document a literal of its interface. */
function unknownFieldErrors(docs: { label: string; apiVersion: string; kind: string; obj: unknown }[]): Map<string, string[]> {
  const fileName = join(ROOT, 'test', '__deploy-manifests.generated.ts');
  let text = '';
  const spans: { label: string; start: number; end: number }[] = [];
  docs.forEach((d, i) => {
    text += `import type { I${d.kind} as T${i} } from 'kubernetes-models/${d.apiVersion}/${d.kind}';\n`;
  });
  docs.forEach((d, i) => {
    const start = text.length;
    text += `export const d${i}: T${i} = ${JSON.stringify(d.obj, null, 1)};\n`;
    spans.push({ label: d.label, start, end: text.length });
  });
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, ...rest) => (name === fileName ? source : getSourceFile(name, ...rest));
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === fileName || fileExists(name);
  const program = ts.createProgram([fileName], options, host);
  const found = new Map<string, string[]>(docs.map((d) => [d.label, []]));
  for (const diag of [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]) {
    const message = ts.flattenDiagnosticMessageText(diag.messageText, ' ');
    const span = spans.find((s) => diag.start !== undefined && diag.start >= s.start && diag.start < s.end);
    if (span === undefined) throw new Error(`the generated type check itself fails: ${message}`);
    found.get(span.label)!.push(message);
  }
  return found;
}

function schemaErrors(obj: Manifest): string | undefined {
  const Model = MODELS[typeKey(obj)];
  try {
    new Model(obj).validate();
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

function kustomizationResources(): string[] {
  const k = parseAllDocuments(readFileSync(join(DIR, 'kustomization.yaml'), 'utf8'), { version: '1.1' });
  const obj = (Array.isArray(k) ? k[0] : k).toJS() as { resources?: string[] };
  return obj.resources ?? [];
}

/** Does `selector` (matchLabels only; matchExpressions are refused here) select a pod with `labels`? */
function selects(
  selector: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] } | undefined,
  labels: Record<string, string>,
) {
  if (selector?.matchExpressions !== undefined && selector.matchExpressions.length > 0) {
    throw new Error('matchExpressions: teach this test to read them before using them');
  }
  return Object.entries(selector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
}
const isEmptySelector = (s: { matchLabels?: object; matchExpressions?: unknown[] } | undefined) =>
  s !== undefined && Object.keys(s.matchLabels ?? {}).length === 0 && (s.matchExpressions ?? []).length === 0;

/** The names config.ts reads: the keys of its zod schema object (`  CAGE_X: z...`). */
function configVariables(): Set<string> {
  const text = readFileSync(join(ROOT, 'src', 'config', 'config.ts'), 'utf8');
  return new Set([...text.matchAll(/^\s+(CAGE_[A-Z0-9_]+):/gm)].map((m) => m[1]));
}

/** The variables Kubernetes gives pods for a Service (service links), e.g. CAGE_CONTROL_PORT. */
function serviceLinkVariables(svc: IService): string[] {
  const base = svc.metadata!.name!.toUpperCase().replace(/-/g, '_');
  const names = [`${base}_SERVICE_HOST`, `${base}_SERVICE_PORT`, `${base}_PORT`];
  for (const p of svc.spec?.ports ?? []) {
    const proto = (p.protocol ?? 'TCP').toUpperCase();
    if (p.name !== undefined) names.push(`${base}_SERVICE_PORT_${p.name.toUpperCase().replace(/-/g, '_')}`);
    const prefix = `${base}_PORT_${p.port}_${proto}`;
    names.push(prefix, `${prefix}_PROTO`, `${prefix}_PORT`, `${prefix}_ADDR`);
  }
  return names;
}

const portsOf = (ports: INetworkPolicyPort[] | undefined) => (ports ?? []).map((p) => `${String(p.port)}/${p.protocol ?? 'TCP'}`);

describe('deploy/kubernetes', () => {
  const docs = loadDocs();
  const base = new Set(kustomizationResources());
  const inBase = (d: Doc) => base.has(d.file);
  const find = <T>(kind: string, name: string, pred: (d: Doc) => boolean = () => true): T => {
    const hits = docs.filter((d) => d.obj.kind === kind && d.obj.metadata?.name === name && pred(d));
    if (hits.length !== 1) throw new Error(`expected one ${kind} ${name}, found ${hits.length}`);
    return hits[0].obj as unknown as T;
  };
  const gateway = find<IDeployment>('Deployment', 'cage-gateway', inBase);
  const gatewayPod = gateway.spec!.template.spec!;
  const gatewayContainers = [...(gatewayPod.initContainers ?? []), ...gatewayPod.containers];
  const policies = docs.filter((d) => inBase(d) && d.obj.kind === 'NetworkPolicy').map((d) => d.obj as unknown as INetworkPolicy);
  const envOf = (c: IContainer, name: string) => c.env?.find((e) => e.name === name);

  describe('schemas (Kubernetes ' + KUBERNETES_VERSION + ')', () => {
    const apiObjects = docs.filter((d) => typeKey(d.obj) !== KUSTOMIZATION);

    it('finds the manifests', () => {
      expect(docs.length).toBeGreaterThanOrEqual(8);
      expect(docs.filter((d) => typeKey(d.obj) === KUSTOMIZATION).map((d) => d.file)).toEqual(['kustomization.yaml']);
    });

    it('knows the kind of every document, or lists it as a custom resource it skips', () => {
      const unknown = apiObjects.filter((d) => MODELS[typeKey(d.obj)] === undefined && !CUSTOM_RESOURCES.has(typeKey(d.obj)));
      expect(unknown.map((d) => `${where(d)}: no schema for ${typeKey(d.obj)}`)).toEqual([]);
    });

    it('every document is valid against the schema of its apiVersion/kind', () => {
      const failures = apiObjects
        .filter((d) => MODELS[typeKey(d.obj)] !== undefined)
        .map((d) => ({ d, error: schemaErrors(d.obj) }))
        .filter((r) => r.error !== undefined)
        .map((r) => `${where(r.d)}: ${r.error}`);
      expect(failures).toEqual([]);
    });

    it('no document has a field its kind does not define (what kubectl refuses)', () => {
      const checked = apiObjects.filter((d) => MODELS[typeKey(d.obj)] !== undefined);
      const found = unknownFieldErrors(
        checked.map((d) => ({ label: where(d), apiVersion: d.obj.apiVersion, kind: d.obj.kind, obj: d.obj })),
      );
      expect([...found].flatMap(([label, errors]) => errors.map((e) => `${label}: ${e}`))).toEqual([]);
    });

    it('custom resources it skips still name themselves', () => {
      for (const d of apiObjects.filter((x) => CUSTOM_RESOURCES.has(typeKey(x.obj)))) {
        expect({ at: where(d), name: typeof d.obj.metadata?.name }).toEqual({ at: where(d), name: 'string' });
      }
    });

    it('the checks themselves refuse a wrong type and a misspelt field', () => {
      const bad = structuredClone(gateway) as unknown as Manifest & IDeployment;
      (bad.spec as unknown as Record<string, unknown>).replicas = 'three';
      expect(schemaErrors(bad)).toMatch(/replicas/);
      const typo = structuredClone(gateway);
      const c = typo.spec!.template.spec!.containers[0] as unknown as Record<string, unknown>;
      c.securityContext = { readOnlyRootFilesytem: true };
      const found = unknownFieldErrors([{ label: 'typo', apiVersion: 'apps/v1', kind: 'Deployment', obj: typo }]);
      expect(found.get('typo')!.join('\n')).toMatch(/readOnlyRootFilesytem/);
    });
  });

  describe('kustomization', () => {
    it('lists files that exist, and every manifest here is either in the base or left out on purpose', () => {
      for (const r of base) {
        expect({ resource: r, exists: existsSync(join(DIR, r)), local: !posix.isAbsolute(r) && !r.includes('..') }).toEqual({
          resource: r,
          exists: true,
          local: true,
        });
      }
      const manifests = readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml');
      expect(manifests.filter((f) => !base.has(f) && !NOT_IN_BASE.includes(f))).toEqual([]);
      expect([...base].sort()).toEqual(['gateway.yaml', 'network-policy.yaml', 'pdb.yaml']);
    });

    it('holds no custom resource, no Secret and no example', () => {
      const inBaseDocs = docs.filter(inBase);
      expect(inBaseDocs.filter((d) => CUSTOM_RESOURCES.has(typeKey(d.obj)) || d.obj.kind === 'Secret' || d.obj.kind === 'Job')).toEqual([]);
    });
  });

  describe('the gateway Deployment', () => {
    it('every container has resource requests and limits, and startup, readiness and liveness probes', () => {
      for (const c of gatewayContainers) {
        for (const kind of ['requests', 'limits'] as const) {
          expect({
            container: c.name,
            kind,
            cpu: c.resources?.[kind]?.cpu !== undefined,
            memory: c.resources?.[kind]?.memory !== undefined,
          }).toEqual({ container: c.name, kind, cpu: true, memory: true });
        }
        expect({ container: c.name, startup: !!c.startupProbe, readiness: !!c.readinessProbe, liveness: !!c.livenessProbe }).toEqual({
          container: c.name,
          startup: true,
          readiness: true,
          liveness: true,
        });
      }
      const gw = gatewayPod.containers.find((c) => c.name === 'gateway')!;
      expect(gw.readinessProbe!.httpGet).toMatchObject({ path: '/readyz', port: 'control' });
      expect(gw.livenessProbe!.httpGet).toMatchObject({ path: '/healthz', port: 'control' });
      expect(gw.startupProbe!.httpGet).toMatchObject({ path: '/healthz', port: 'control' });
      // Replicas take turns through start-up: a slow start must not be killed by liveness.
      const startupSeconds = (gw.startupProbe!.periodSeconds ?? 10) * (gw.startupProbe!.failureThreshold ?? 3);
      expect(startupSeconds).toBeGreaterThanOrEqual(120);
    });

    it('reads the policies from the image, not from a ConfigMap', () => {
      const volumes = gatewayPod.volumes ?? [];
      expect(volumes.filter((v) => v.configMap !== undefined || v.projected?.sources?.some((s) => s.configMap !== undefined))).toEqual([]);
      for (const c of gatewayContainers) {
        const dir = envOf(c, 'CAGE_POLICY_DIR')?.value;
        if (dir === undefined) continue;
        expect(dir).toBe('/etc/cage/policies');
        const over = (c.volumeMounts ?? []).filter(
          (m) => dir === m.mountPath || dir.startsWith(`${m.mountPath}/`) || m.mountPath.startsWith(`${dir}/`),
        );
        expect(over).toEqual([]);
      }
      // ...where the image has the whole directory, subdirectories included.
      expect(readFileSync(join(ROOT, 'deploy', 'Dockerfile'), 'utf8')).toMatch(/^COPY policies \/etc\/cage\/policies$/m);
    });

    it('takes the signing key and the pseudonym key from the Secret, read-only, and never inline', () => {
      for (const c of gatewayContainers) {
        expect(envOf(c, 'CAGE_SIGNING_KEY')).toBeUndefined();
        for (const [variable, key] of [
          ['CAGE_SIGNING_KEY_FILE', 'signing-key.pem'],
          ['CAGE_PSEUDONYM_KEY_FILE', 'pseudonym-key'],
        ]) {
          const file = envOf(c, variable)?.value;
          expect({ variable, file }).toEqual({ variable, file: expect.stringMatching(/^\//) });
          const mount = (c.volumeMounts ?? []).find((m) => file!.startsWith(`${m.mountPath}/`));
          expect({ variable, readOnly: mount?.readOnly }).toEqual({ variable, readOnly: true });
          const secret = gatewayPod.volumes?.find((v) => v.name === mount!.name)?.secret;
          expect({ variable, secret: secret?.secretName }).toEqual({ variable, secret: SECRET });
          const path = file!.slice(mount!.mountPath.length + 1);
          const items = secret!.items;
          if (items === undefined) expect(path).toBe(key);
          else expect(items.find((i) => i.path === path)?.key).toBe(key);
        }
      }
    });

    it('gives the data dir a writable volume, since the root filesystem is read-only', () => {
      const gw = gatewayPod.containers.find((c) => c.name === 'gateway')!;
      expect(gw.securityContext?.readOnlyRootFilesystem).toBe(true);
      expect(gw.securityContext?.allowPrivilegeEscalation).toBe(false);
      expect(gatewayPod.securityContext?.runAsNonRoot).toBe(true);
      const dataDir = envOf(gw, 'CAGE_DATA_DIR')?.value;
      const mount = gw.volumeMounts?.find((m) => m.mountPath === dataDir);
      expect(mount?.readOnly).not.toBe(true);
      expect(gatewayPod.volumes?.find((v) => v.name === mount?.name)?.emptyDir).toBeDefined();
      expect(envOf(gw, 'CAGE_DEMO')?.value).toBe('0');
    });

    it('is given only CAGE_* variables the gateway knows (src/config/config.ts)', () => {
      const known = configVariables();
      const names = gatewayContainers.flatMap((c) => (c.env ?? []).map((e) => e.name)).filter((n) => n.startsWith('CAGE_'));
      expect(names.filter((n) => !known.has(n))).toEqual([]);
      expect(names).toContain('CAGE_DATABASE_POOL_SIZE');
    });

    it('gets no service-link variable the gateway would read as its configuration', () => {
      const known = configVariables();
      const services = docs.filter((d) => inBase(d) && d.obj.kind === 'Service').map((d) => d.obj as unknown as IService);
      const clashes = services.flatMap(serviceLinkVariables).filter((n) => known.has(n));
      expect(clashes.sort()).toEqual(['CAGE_CONTROL_PORT', 'CAGE_SANDBOX_PORT']); // from cage-control and cage-sandbox
      expect(gatewayPod.enableServiceLinks).toBe(false);
    });

    it('is reached through the two Services, each on its own named port', () => {
      const labels = gateway.spec!.template.metadata!.labels!;
      const portNames = new Set(gatewayPod.containers.flatMap((c) => (c.ports ?? []).map((p) => p.name)));
      for (const [name, port, target] of [
        ['cage-control', 8080, 'control'],
        ['cage-sandbox', SANDBOX_PORT, 'sandbox'],
      ] as const) {
        const svc = find<IService>('Service', name, inBase);
        expect(Object.entries(svc.spec!.selector!).every(([k, v]) => labels[k] === v)).toBe(true);
        expect(svc.spec!.ports!.map((p) => [p.port, p.targetPort])).toEqual([[port, target]]);
        expect(portNames.has(target)).toBe(true);
      }
    });
  });

  it('a PodDisruptionBudget selects the gateway pods', () => {
    const pdbs = docs.filter((d) => inBase(d) && d.obj.kind === 'PodDisruptionBudget').map((d) => d.obj as unknown as IPodDisruptionBudget);
    const labels = gateway.spec!.template.metadata!.labels!;
    const mine = pdbs.filter((p) => !isEmptySelector(p.spec?.selector) && selects(p.spec?.selector, labels));
    expect(mine).toHaveLength(1);
    expect(mine[0].spec!.maxUnavailable).toBe(1);
  });

  describe('network policies', () => {
    const sandboxPolicies = () => policies.filter((p) => selects(p.spec!.podSelector, SANDBOX_LABELS));

    it('deny everything by default: one policy selects all pods, for both directions, and allows nothing', () => {
      const deny = policies.filter((p) => isEmptySelector(p.spec!.podSelector));
      expect(deny).toHaveLength(1);
      expect([...(deny[0].spec!.policyTypes ?? [])].sort()).toEqual(['Egress', 'Ingress']);
      expect(deny[0].spec!.ingress ?? []).toEqual([]);
      expect(deny[0].spec!.egress ?? []).toEqual([]);
    });

    it('let sandbox pods reach nothing but port 8081 of the gateway pods: no DNS, no other peer, no ingress', () => {
      const applying = sandboxPolicies();
      expect(applying.length).toBeGreaterThanOrEqual(2); // the default deny and the sandbox's own
      expect(JSON.stringify(applying)).not.toMatch(/"port":\s*"?53\b/);
      for (const p of applying) {
        expect(p.spec!.ingress ?? []).toEqual([]);
        for (const rule of p.spec!.egress ?? []) {
          expect(rule.to?.length).toBeGreaterThan(0); // a rule without peers allows every address
          for (const peer of rule.to!) {
            expect(peer).toEqual<INetworkPolicyPeer>({ podSelector: { matchLabels: GATEWAY_LABELS } });
          }
          expect(portsOf(rule.ports)).toEqual([`${SANDBOX_PORT}/TCP`]);
        }
      }
      const own = applying.filter((p) => (p.spec!.egress ?? []).length > 0);
      expect(own).toHaveLength(1);
      expect([...(own[0].spec!.policyTypes ?? [])].sort()).toEqual(['Egress', 'Ingress']);
    });

    it("let only sandbox pods reach the gateway's sandbox port, and them nothing else of it", () => {
      const rules = policies.filter((p) => selects(p.spec!.podSelector, GATEWAY_LABELS)).flatMap((p) => p.spec!.ingress ?? []);
      for (const rule of rules) {
        const ports = portsOf(rule.ports);
        expect(ports.length).toBeGreaterThan(0); // a rule without ports admits every port
        expect(rule.from?.length).toBeGreaterThan(0); // a rule without peers admits every address
        const fromSandbox = (rule.from ?? []).some((peer) => peer.podSelector !== undefined && selects(peer.podSelector, SANDBOX_LABELS));
        if (ports.includes(`${SANDBOX_PORT}/TCP`)) {
          expect(rule.from).toEqual([{ podSelector: { matchLabels: SANDBOX_LABELS } }]);
          expect(ports).toEqual([`${SANDBOX_PORT}/TCP`]);
        } else {
          expect(fromSandbox).toBe(false);
        }
      }
    });

    it('let the gateway reach PostgreSQL, its S3 endpoint and the cluster DNS only', () => {
      const rules = policies
        .filter((p) => !isEmptySelector(p.spec!.podSelector) && selects(p.spec!.podSelector, GATEWAY_LABELS))
        .flatMap((p) => p.spec!.egress ?? []);
      const gw = gatewayPod.containers.find((c) => c.name === 'gateway')!;
      const s3 = new URL(envOf(gw, 'CAGE_S3_ENDPOINT')!.value!);
      const s3Port = s3.port !== '' ? s3.port : s3.protocol === 'https:' ? '443' : '80';
      const allowed = new Set(rules.flatMap((r) => portsOf(r.ports)));
      expect(allowed.has('5432/TCP')).toBe(true);
      expect(allowed.has(`${s3Port}/TCP`)).toBe(true);
      for (const rule of rules) {
        const ports = portsOf(rule.ports);
        expect(ports.length).toBeGreaterThan(0); // a rule without ports allows every port
        if (ports.some((p) => p.startsWith('53/'))) {
          expect(rule.to).toEqual([
            {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
              podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
            },
          ]);
          expect([...ports].sort()).toEqual(['53/TCP', '53/UDP']);
        } else {
          expect(ports.every((p) => p === '5432/TCP' || p === `${s3Port}/TCP`)).toBe(true);
        }
      }
    });
  });

  describe('the sandbox job example', () => {
    const job = find<IJob>('Job', 'cage-job-team-042');
    const pod: IPodSpec = job.spec!.template.spec!;

    it('is an example only, and its pods are the ones the network policy confines', () => {
      expect(base.has('sandbox-job.example.yaml')).toBe(false);
      expect(selects({ matchLabels: SANDBOX_LABELS }, job.spec!.template.metadata!.labels!)).toBe(true);
    });

    it('has no resolver to reach and no service account token', () => {
      expect(pod.dnsPolicy).toBe('None');
      expect(pod.dnsConfig?.nameservers).toEqual(['127.0.0.1']);
      expect(pod.dnsConfig?.searches ?? []).toEqual([]);
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(pod.hostNetwork ?? false).toBe(false);
    });

    it('finds the gateway by the cage-sandbox Service variables, which need service links', () => {
      expect(pod.enableServiceLinks).toBe(true);
      const svc = find<IService>('Service', 'cage-sandbox', inBase);
      const vars = new Set(serviceLinkVariables(svc));
      const c = pod.containers[0];
      for (const name of ['CAGE_SANDBOX_URL', 'AWS_ENDPOINT_URL']) {
        const value = envOf(c, name)?.value ?? '';
        const refs = [...value.matchAll(/\$\(([A-Z0-9_]+)\)/g)].map((m) => m[1]);
        expect({ name, refs }).toEqual({ name, refs: ['CAGE_SANDBOX_SERVICE_HOST', 'CAGE_SANDBOX_SERVICE_PORT'] });
        expect(refs.every((r) => vars.has(r))).toBe(true);
        expect(value).toMatch(/^http:\/\//);
      }
      // CAGE_* here are the job's own conventions, read by the examples, not gateway settings.
      const examples = readdirSync(join(ROOT, 'examples'))
        .map((f) => readFileSync(join(ROOT, 'examples', f), 'utf8'))
        .join('\n');
      const cage = (c.env ?? []).map((e) => e.name).filter((n) => n.startsWith('CAGE_'));
      expect(cage.filter((n) => !examples.includes(n))).toEqual([]);
    });

    it('takes the job credential from a Secret, runs non-root on a read-only root, bounded in time and resources', () => {
      const c = pod.containers[0];
      for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'CAGE_JOB_TOKEN']) {
        expect({ name, secret: envOf(c, name)?.valueFrom?.secretKeyRef?.key }).toEqual({ name, secret: name });
      }
      expect(pod.securityContext?.runAsNonRoot).toBe(true);
      expect(pod.securityContext?.runAsUser).not.toBe(0);
      expect(c.securityContext).toMatchObject({
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
      });
      expect(c.resources?.requests?.memory).toBeDefined();
      expect(c.resources?.limits?.memory).toBeDefined();
      expect(job.spec!.activeDeadlineSeconds).toBeGreaterThan(0);
      expect(job.spec!.activeDeadlineSeconds).toBeLessThanOrEqual(24 * 3600); // a job credential lives 24 h at most
    });
  });

  it('the Secret template has every key the manifests read from cage-secrets, and is not in the base', () => {
    const template = find<ISecret>('Secret', SECRET);
    expect(base.has('secret.template.yaml')).toBe(false);
    const has = new Set([...Object.keys(template.stringData ?? {}), ...Object.keys(template.data ?? {})]);
    const read = new Set<string>();
    for (const c of gatewayContainers) {
      for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef?.name === SECRET) read.add(e.valueFrom.secretKeyRef.key);
      expect((c.envFrom ?? []).filter((e) => e.secretRef?.name === SECRET)).toEqual([]); // keys would be implicit
    }
    for (const v of gatewayPod.volumes ?? []) {
      if (v.secret?.secretName !== SECRET) continue;
      expect(v.secret.items).toBeDefined(); // every key the pod sees, named
      for (const i of v.secret.items!) read.add(i.key);
    }
    // The ServiceMonitor's scrape token (monitoring.yaml, a custom resource: read as text).
    for (const m of readFileSync(join(DIR, 'monitoring.yaml'), 'utf8').matchAll(/\{\s*name:\s*cage-secrets,\s*key:\s*([\w.-]+)\s*\}/g))
      read.add(m[1]);
    expect([...read].sort()).toEqual([
      'database-url',
      'metrics-token',
      'pseudonym-key',
      's3-access-key-id',
      's3-secret-access-key',
      'signing-key.pem',
    ]);
    expect([...read].filter((k) => !has.has(k))).toEqual([]);
  });

  it('the image carries the backup and restore scripts and their PostgreSQL client, and runs non-root', () => {
    const dockerfile = readFileSync(join(ROOT, 'deploy', 'Dockerfile'), 'utf8');
    const runtime = dockerfile.split(/^FROM /m).pop()!;
    for (const script of ['scripts/backup', 'scripts/restore', 'scripts/backup-objects.mjs']) {
      expect(existsSync(join(ROOT, script))).toBe(true);
      expect(runtime).toMatch(new RegExp(`^COPY [^\\n]*\\b${script.replace('.', '\\.')}\\b[^\\n]*\\./scripts/$`, 'm'));
    }
    expect(runtime).toMatch(/apt-get install[^\n]*\bpostgresql-client\b/);
    const users = [...runtime.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
    expect(users.length).toBeGreaterThan(0);
    expect(['root', '0']).not.toContain(users[users.length - 1]);
  });
});
