/**
 * A team's run as a Kubernetes Job in the sandbox namespace, confined as `cage run` confines one
 * on a single host: the pod label the NetworkPolicies of deploy/kubernetes select (the gateway's
 * sandbox port its only destination), the run's credential from a Secret of its own, no
 * service-account token, no resolver (the gateway by address), a non-root user, the runtime's
 * default seccomp profile, no privilege escalation and no capabilities, a read-only root
 * filesystem with a scratch volume, resources, a deadline, and optionally a runtime class (gVisor).
 * Plain objects in the Kubernetes API's JSON shape: `kubectl apply -f -` takes them as they are.
 */

export interface LaunchSpec {
  name: string;
  namespace: string;
  team: string;
  jobId: string;
  image: string;
  command: string[];
  credentials: { token: string; accessKeyId: string; secretAccessKey: string };
  /** The gateway's sandbox listener as the pod reaches it (http://host:port); default: the cage-sandbox Service's variables. */
  gatewayUrl: string | undefined;
  region: string;
  deadlineSeconds: number;
  cpu: string;
  memory: string;
  scratch: string;
  runtimeClassName: string | undefined;
  env: Record<string, string>;
}

export const SANDBOX_LABEL = { 'cage.io/role': 'sandbox' } as const;
const SERVICE_URL = 'http://$(CAGE_SANDBOX_SERVICE_HOST):$(CAGE_SANDBOX_SERVICE_PORT)';

/** An object of the Kubernetes API as the launch renders it: what the CLI reads of it is typed. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  [field: string]: unknown;
}

export interface JobManifests {
  apiVersion: 'v1';
  kind: 'List';
  /** The run's Secret (its credential), then the Job. */
  items: [Manifest, Manifest];
}

export function jobManifests(s: LaunchSpec): JobManifests {
  const labels: Record<string, string> = { ...SANDBOX_LABEL, 'cage.io/team': s.team, 'cage.io/job': s.jobId };
  const secretName = `${s.name}-credential`;
  const url = s.gatewayUrl ?? SERVICE_URL;
  const fromSecret = (name: string) => ({ name, valueFrom: { secretKeyRef: { name: secretName, key: name } } });
  const secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: secretName, namespace: s.namespace, labels },
    type: 'Opaque',
    stringData: {
      CAGE_JOB_TOKEN: s.credentials.token,
      AWS_ACCESS_KEY_ID: s.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s.credentials.secretAccessKey,
    },
  };
  const job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: s.name, namespace: s.namespace, labels },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: s.deadlineSeconds,
      ttlSecondsAfterFinished: 86_400,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          // The Service's variables give the gateway's address (only when no URL is given).
          enableServiceLinks: s.gatewayUrl === undefined,
          dnsPolicy: 'None',
          dnsConfig: { nameservers: ['127.0.0.1'] },
          ...(s.runtimeClassName === undefined ? {} : { runtimeClassName: s.runtimeClassName }),
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 65534,
            runAsGroup: 65534,
            fsGroup: 65534,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: 'job',
              image: s.image,
              ...(s.command.length === 0 ? {} : { command: s.command }),
              env: [
                ...Object.entries(s.env).map(([name, value]) => ({ name, value })),
                { name: 'CAGE_SANDBOX_URL', value: url },
                { name: 'CAGE_S3_ENDPOINT', value: url },
                { name: 'AWS_ENDPOINT_URL', value: url },
                { name: 'AWS_REGION', value: s.region },
                { name: 'AWS_DEFAULT_REGION', value: s.region },
                { name: 'AWS_EC2_METADATA_DISABLED', value: 'true' },
                { name: 'CAGE_JOB_ID', value: s.jobId },
                { name: 'HOME', value: '/scratch' },
                { name: 'TMPDIR', value: '/scratch' },
                fromSecret('CAGE_JOB_TOKEN'),
                fromSecret('AWS_ACCESS_KEY_ID'),
                fromSecret('AWS_SECRET_ACCESS_KEY'),
              ],
              resources: {
                requests: { cpu: s.cpu, memory: s.memory, 'ephemeral-storage': s.scratch },
                limits: { cpu: s.cpu, memory: s.memory, 'ephemeral-storage': s.scratch },
              },
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
              volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }],
            },
          ],
          volumes: [{ name: 'scratch', emptyDir: { sizeLimit: s.scratch } }],
        },
      },
    },
  };
  return { apiVersion: 'v1', kind: 'List', items: [secret, job] };
}
