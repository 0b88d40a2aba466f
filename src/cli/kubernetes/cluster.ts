import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type * as K8s from '@kubernetes/client-node';
import { CliError, ExitCode, UsageError } from '../cli-error';
import { type JobManifests } from './job-manifest';

/**
 * The Kubernetes API, through its npm client (@kubernetes/client-node): create a run's Secret
 * and Job, watch the Job to its end, delete the Secret. The client is an ES module, loaded when
 * a command needs it (Node 20.19+ requires ES modules), so the rest of the CLI never pays for it.
 */

export interface ClusterOptions {
  kubeconfig: string | undefined;
  context: string | undefined;
  env: Record<string, string | undefined>;
}

/** How a Job ended, from its status conditions. */
export interface JobEnd {
  outcome: 'succeeded' | 'failed' | 'deleted';
  /** The condition's reason (`DeadlineExceeded`, `BackoffLimitExceeded`, …) when it failed. */
  reason: string | undefined;
  startTime: string | undefined;
  completionTime: string | undefined;
}

export interface KubeJob {
  name: string;
  namespace: string;
  uid: string;
  secretName: string;
}

export interface Cluster {
  /** The API server's address, for messages. */
  server: string;
  /** Creates the Secret, then the Job, then makes the Job the Secret's owner (deleted with it). */
  launch(manifests: JobManifests): Promise<KubeJob>;
  /** The Job a cage job id runs as (its `cage.io/job` label), or undefined. */
  findJob(namespace: string, jobId: string): Promise<KubeJob | undefined>;
  /** Resolves when the Job has a Complete or Failed condition, or is gone. */
  waitForEnd(job: KubeJob, signal?: AbortSignal): Promise<JobEnd>;
  /** Deletes the Secrets labelled with a cage job id; how many there were. */
  deleteSecretsOf(namespace: string, jobId: string): Promise<number>;
}

type V1Job = K8s.V1Job;

export async function openCluster(o: ClusterOptions): Promise<Cluster> {
  const file = o.kubeconfig ?? o.env.KUBECONFIG?.split(':').find((p) => p !== '') ?? defaultKubeconfig(o.env);
  if (file === undefined && o.env.KUBERNETES_SERVICE_HOST === undefined)
    throw new UsageError('no Kubernetes configuration: pass --kubeconfig <file>, or set KUBECONFIG');
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  try {
    if (file !== undefined) kc.loadFromFile(file);
    else kc.loadFromCluster();
    if (o.context !== undefined) kc.setCurrentContext(o.context);
  } catch (err) {
    throw new CliError(
      ExitCode.Unreachable,
      `cannot load the Kubernetes configuration${file === undefined ? '' : ` ${file}`}: ${(err as Error).message}`,
    );
  }
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new CliError(ExitCode.Unreachable, 'the Kubernetes configuration names no cluster for its current context');
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const batch = kc.makeApiClient(k8s.BatchV1Api);
  const watcher = new k8s.Watch(kc);
  const call = <T>(what: string, p: Promise<T>) => p.catch((err: unknown) => Promise.reject(apiError(what, err, k8s.ApiException)));

  const kubeJob = (j: V1Job): KubeJob => ({
    name: j.metadata?.name ?? '',
    namespace: j.metadata?.namespace ?? '',
    uid: j.metadata?.uid ?? '',
    secretName: secretNameOf(j),
  });

  const endOf = (j: V1Job): JobEnd | undefined => {
    const done = (j.status?.conditions ?? []).find((c) => c.status === 'True' && (c.type === 'Complete' || c.type === 'Failed'));
    if (done === undefined) return undefined;
    return {
      outcome: done.type === 'Complete' ? 'succeeded' : 'failed',
      reason: done.type === 'Failed' ? done.reason : undefined,
      startTime: iso(j.status?.startTime),
      completionTime: iso(j.status?.completionTime ?? done.lastTransitionTime),
    };
  };

  return {
    server: cluster.server,

    async launch(m) {
      const [secret, job] = m.items;
      const ns = job.metadata.namespace;
      await call('creating the Secret', core.createNamespacedSecret({ namespace: ns, body: secret }));
      let created: V1Job;
      try {
        created = await call('creating the Job', batch.createNamespacedJob({ namespace: ns, body: job }));
      } catch (err) {
        await core.deleteNamespacedSecret({ namespace: ns, name: secret.metadata.name }).catch(() => undefined);
        throw err;
      }
      // The Job owns its Secret: deleting the Job (or its TTL after finishing) deletes the credential.
      const current = await call('reading the Secret', core.readNamespacedSecret({ namespace: ns, name: secret.metadata.name }));
      current.metadata = {
        ...current.metadata,
        ownerReferences: [
          { apiVersion: 'batch/v1', kind: 'Job', name: created.metadata?.name ?? job.metadata.name, uid: created.metadata?.uid ?? '' },
        ],
      };
      await call(
        'making the Job own its Secret',
        core.replaceNamespacedSecret({ namespace: ns, name: secret.metadata.name, body: current }),
      );
      return kubeJob(created);
    },

    async findJob(namespace, jobId) {
      const list = await call('listing Jobs', batch.listNamespacedJob({ namespace, labelSelector: `cage.io/job=${jobId}` }));
      const j = list.items[0];
      return j === undefined ? undefined : kubeJob(j);
    },

    async waitForEnd(job, signal) {
      // Read, then watch from that version; a watch the server ends is read and watched again.
      for (;;) {
        signal?.throwIfAborted();
        let current: V1Job;
        try {
          current = await batch.readNamespacedJob({ namespace: job.namespace, name: job.name });
        } catch (err) {
          if (err instanceof k8s.ApiException && err.code === 404)
            return { outcome: 'deleted', reason: undefined, startTime: undefined, completionTime: undefined };
          throw apiError('reading the Job', err, k8s.ApiException);
        }
        const ended = endOf(current);
        if (ended !== undefined) return ended;
        let onAbort = () => undefined as void;
        const seen = await new Promise<JobEnd | 'again'>((resolve, reject) => {
          let controller: AbortController | undefined;
          const stop = () => controller?.abort();
          onAbort = () => {
            stop();
            reject(signal?.reason as Error);
          };
          signal?.addEventListener('abort', onAbort, { once: true });
          watcher
            .watch(
              `/apis/batch/v1/namespaces/${encodeURIComponent(job.namespace)}/jobs`,
              { fieldSelector: `metadata.name=${job.name}`, resourceVersion: current.metadata?.resourceVersion, allowWatchBookmarks: true },
              (phase, obj: V1Job) => {
                if (phase === 'ERROR') {
                  // e.g. 410 Gone: the version read is too old to watch from; read again.
                  stop();
                  return resolve('again');
                }
                if (phase === 'DELETED') {
                  stop();
                  return resolve({
                    outcome: 'deleted',
                    reason: undefined,
                    startTime: iso(obj.status?.startTime),
                    completionTime: undefined,
                  });
                }
                const end = phase === 'ADDED' || phase === 'MODIFIED' ? endOf(obj) : undefined;
                if (end !== undefined) {
                  stop();
                  resolve(end);
                }
              },
              () => resolve('again'),
            )
            .then(
              (c) => (controller = c),
              () => resolve('again'),
            );
        });
        signal?.removeEventListener('abort', onAbort);
        if (seen !== 'again') return seen;
        await new Promise((r) => setTimeout(r, 1000));
      }
    },

    async deleteSecretsOf(namespace, jobId) {
      const list = await call('listing Secrets', core.listNamespacedSecret({ namespace, labelSelector: `cage.io/job=${jobId}` }));
      let deleted = 0;
      for (const secret of list.items) {
        try {
          await core.deleteNamespacedSecret({ namespace, name: secret.metadata?.name ?? '' });
          deleted++;
        } catch (err) {
          if (!(err instanceof k8s.ApiException && err.code === 404)) throw apiError('deleting the Secret', err, k8s.ApiException);
        }
      }
      return deleted;
    },
  };
}

function defaultKubeconfig(env: Record<string, string | undefined>): string | undefined {
  const home = env.HOME;
  if (home === undefined) return undefined;
  const file = join(home, '.kube', 'config');
  return existsSync(file) ? file : undefined;
}

function secretNameOf(j: V1Job): string {
  const env = j.spec?.template.spec?.containers[0]?.env ?? [];
  return env.find((e) => e.valueFrom?.secretKeyRef !== undefined)?.valueFrom?.secretKeyRef?.name ?? `${j.metadata?.name ?? ''}-credential`;
}

function iso(d: Date | string | undefined): string | undefined {
  if (d === undefined) return undefined;
  return d instanceof Date ? d.toISOString() : d;
}

/** The API server's refusal as a CLI error with its exit code: 401/403 → 4, 404 → 5, 409 → 6, unreachable → 3. */
function apiError(what: string, err: unknown, ApiException: typeof K8s.ApiException): CliError {
  if (err instanceof CliError) return err;
  if (err instanceof ApiException) {
    const status = (err as K8s.ApiException<unknown>).code;
    const body = (err as K8s.ApiException<unknown>).body;
    const message = typeof body === 'string' ? statusMessage(body) : undefined;
    const code =
      status === 401 || status === 403
        ? ExitCode.Auth
        : status === 404
          ? ExitCode.NotFound
          : status === 409
            ? ExitCode.Conflict
            : ExitCode.Failed;
    return new CliError(code, `Kubernetes refused ${what} (HTTP ${status})${message === undefined ? '' : `: ${message}`}`);
  }
  return new CliError(ExitCode.Unreachable, `cannot reach the Kubernetes API while ${what}: ${(err as Error).message}`);
}

/** The `message` of a Kubernetes Status body, if it is one. */
function statusMessage(body: string): string | undefined {
  try {
    const s = JSON.parse(body) as { kind?: string; message?: unknown };
    return s.kind === 'Status' && typeof s.message === 'string' ? s.message : undefined;
  } catch {
    return undefined;
  }
}
