import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Secret } from 'kubernetes-models/v1/Secret';

/*
 * A stand-in for a Kubernetes API server, for `cage job launch --apply` and `cage job wait`:
 * no kube-apiserver can run on the test machines (Debian does not package one; no container
 * registry is reachable), so this speaks the part of the API those commands use — Secrets and
 * Jobs created, read, replaced, listed by label, deleted, and a Job watched — as the API server
 * does: bearer authentication, 201/404/409 with Status bodies, resourceVersions, label and field
 * selectors, a watch stream of newline-delimited events, over TLS with a certificate of its own
(made with openssl; the client refuses plain HTTP). Every object it is sent is checked
 * against the Kubernetes 1.33 schemas (kubernetes-models) and refused 422 when invalid, as the
 * API server's validation would. What the real client sends is what is recorded.
 */

type Obj = Record<string, unknown> & {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    uid?: string;
    resourceVersion?: string;
    ownerReferences?: unknown[];
    creationTimestamp?: string;
  };
  status?: Record<string, unknown>;
};

export interface KubeRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
}

export interface KubeApi {
  url: string;
  token: string;
  /** The server's self-signed certificate (PEM), the kubeconfig's certificate authority. */
  ca: string;
  requests: KubeRequest[];
  secrets: Map<string, Obj>;
  jobs: Map<string, Obj>;
  /** How many watch streams are open now. */
  watching: () => number;
  /** Marks a Job ended, as the Job controller would, and tells its watchers. */
  endJob: (namespace: string, name: string, type: 'Complete' | 'Failed', reason?: string) => void;
  /** Deletes a Job (as a TTL or an operator would), telling its watchers. */
  deleteJob: (namespace: string, name: string) => void;
  /** Ends every open watch from the server side, as an API server does when a watch times out. */
  closeWatches: () => void;
  /** The next request to this method and path prefix is answered with this status. */
  failNext: (method: string, pathPrefix: string, status: number) => void;
  close: () => Promise<void>;
}

export async function startKubeApi(): Promise<KubeApi> {
  const token = `kube-${randomUUID()}`;
  const requests: KubeRequest[] = [];
  const secrets = new Map<string, Obj>();
  const jobs = new Map<string, Obj>();
  const watchers = new Set<{ namespace: string; name: string; res: ServerResponse }>();
  const failures: { method: string; prefix: string; status: number }[] = [];
  let version = 1000;

  const status = (res: ServerResponse, code: number, reason: string, message: string) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, message, code }));
  };
  const send = (res: ServerResponse, code: number, body: unknown) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const notify = (namespace: string, name: string, type: string, object: Obj) => {
    for (const w of watchers) if (w.namespace === namespace && w.name === name) w.res.write(`${JSON.stringify({ type, object })}\n`);
  };
  const selects = (o: Obj, selector: string | undefined) =>
    selector === undefined ||
    selector.split(',').every((term) => {
      const [k, v] = term.split('=');
      return o.metadata.labels?.[k] === v;
    });

  const validate = (kind: 'Secret' | 'Job', body: Obj): string | undefined => {
    try {
      if (kind === 'Secret') new Secret(body as never).validate();
      else new Job(body as never).validate();
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  };

  const collection = (kind: 'Secret' | 'Job') => (kind === 'Secret' ? secrets : jobs);

  const handle = (req: IncomingMessage, res: ServerResponse, raw: string) => {
    const url = new URL(req.url ?? '/', 'http://kube');
    const query = Object.fromEntries(url.searchParams);
    let body: unknown;
    try {
      body = raw === '' ? undefined : JSON.parse(raw);
    } catch {
      return status(res, 400, 'BadRequest', 'body is not JSON');
    }
    requests.push({ method: req.method ?? '', path: url.pathname, query, body });
    if (req.headers.authorization !== `Bearer ${token}`) return status(res, 401, 'Unauthorized', 'Unauthorized');
    const failure = failures.findIndex((f) => f.method === req.method && url.pathname.startsWith(f.prefix));
    if (failure >= 0) {
      const [f] = failures.splice(failure, 1);
      return status(res, f.status, 'Forbidden', `refused for the test (${f.status})`);
    }
    const m =
      /^\/api\/v1\/namespaces\/([^/]+)\/(secrets)(?:\/([^/]+))?$/.exec(url.pathname) ??
      /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/(jobs)(?:\/([^/]+))?$/.exec(url.pathname);
    if (m === null) return status(res, 404, 'NotFound', `the server could not find the requested resource (${url.pathname})`);
    const [, namespace, plural, name] = m;
    const kind = plural === 'secrets' ? 'Secret' : 'Job';
    const store = collection(kind);
    const key = (n: string) => `${namespace}/${n}`;

    if (name === undefined && req.method === 'POST') {
      const o = body as Obj;
      const invalid = validate(kind, o);
      if (invalid !== undefined) return status(res, 422, 'Invalid', `${kind} is invalid: ${invalid}`);
      if (o.metadata.namespace !== undefined && o.metadata.namespace !== namespace)
        return status(res, 400, 'BadRequest', 'the namespace of the object does not match the namespace on the request');
      if (store.has(key(o.metadata.name))) return status(res, 409, 'AlreadyExists', `${plural} "${o.metadata.name}" already exists`);
      const stored: Obj = {
        ...o,
        metadata: {
          ...o.metadata,
          namespace,
          uid: randomUUID(),
          resourceVersion: String(++version),
          creationTimestamp: new Date().toISOString(),
        },
        ...(kind === 'Job' ? { status: { startTime: new Date().toISOString(), active: 1 } } : {}),
      };
      if (kind === 'Secret' && o.stringData !== undefined) {
        stored.data = Object.fromEntries(
          Object.entries(o.stringData as Record<string, string>).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
        );
        delete stored.stringData;
      }
      store.set(key(o.metadata.name), stored);
      return send(res, 201, stored);
    }
    if (name === undefined && req.method === 'GET') {
      if (query.watch === 'true' || query.watch === '1') {
        const field = /^metadata\.name=(.+)$/.exec(query.fieldSelector ?? '');
        if (field === null) return status(res, 400, 'BadRequest', 'this stand-in watches one object by metadata.name');
        res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
        const w = { namespace, name: field[1], res };
        watchers.add(w);
        res.on('close', () => watchers.delete(w));
        // Events after the version the client read; a version behind the object's is answered with it.
        const current = store.get(key(field[1]));
        if (
          current !== undefined &&
          query.resourceVersion !== undefined &&
          Number(current.metadata.resourceVersion) > Number(query.resourceVersion)
        )
          res.write(`${JSON.stringify({ type: 'MODIFIED', object: current })}\n`);
        return;
      }
      const items = [...store.entries()]
        .filter(([k, o]) => k.startsWith(`${namespace}/`) && selects(o, query.labelSelector))
        .map(([, o]) => o);
      return send(res, 200, {
        apiVersion: kind === 'Job' ? 'batch/v1' : 'v1',
        kind: `${kind}List`,
        metadata: { resourceVersion: String(version) },
        items,
      });
    }
    if (name === undefined) return status(res, 405, 'MethodNotAllowed', 'method not allowed');
    const existing = store.get(key(name));
    if (existing === undefined) return status(res, 404, 'NotFound', `${plural} "${name}" not found`);
    if (req.method === 'GET') return send(res, 200, existing);
    if (req.method === 'PUT') {
      const o = body as Obj;
      const invalid = validate(kind, o);
      if (invalid !== undefined) return status(res, 422, 'Invalid', `${kind} is invalid: ${invalid}`);
      if (o.metadata.resourceVersion !== existing.metadata.resourceVersion)
        return status(res, 409, 'Conflict', 'the object has been modified; please apply your changes to the latest version and try again');
      const stored: Obj = { ...o, metadata: { ...o.metadata, uid: existing.metadata.uid, resourceVersion: String(++version) } };
      store.set(key(name), stored);
      return send(res, 200, stored);
    }
    if (req.method === 'DELETE') {
      store.delete(key(name));
      if (kind === 'Job') notify(namespace, name, 'DELETED', existing);
      return send(res, 200, { kind: 'Status', apiVersion: 'v1', status: 'Success', details: { name, kind: plural } });
    }
    return status(res, 405, 'MethodNotAllowed', 'method not allowed');
  };

  const tls = selfSigned();
  const server: Server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `https://127.0.0.1:${port}`,
    token,
    ca: tls.cert,
    requests,
    secrets,
    jobs,
    watching: () => watchers.size,
    endJob(namespace, name, type, reason) {
      const j = jobs.get(`${namespace}/${name}`);
      if (j === undefined) throw new Error(`no job ${namespace}/${name}`);
      const now = new Date().toISOString();
      j.metadata.resourceVersion = String(++version);
      j.status = {
        ...j.status,
        active: 0,
        ...(type === 'Complete' ? { succeeded: 1, completionTime: now } : { failed: 1 }),
        conditions: [{ type, status: 'True', reason, lastTransitionTime: now }],
      };
      notify(namespace, name, 'MODIFIED', j);
    },
    deleteJob(namespace, name) {
      const j = jobs.get(`${namespace}/${name}`);
      jobs.delete(`${namespace}/${name}`);
      if (j !== undefined) notify(namespace, name, 'DELETED', j);
    },
    closeWatches() {
      for (const w of watchers) w.res.end();
    },
    failNext(method, prefix, code) {
      failures.push({ method, prefix, status: code });
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const w of watchers) w.res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A key and a self-signed certificate for 127.0.0.1, from openssl (Debian's, on every test machine). */
function selfSigned(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'cage-kube-tls-'));
  try {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A kubeconfig file's text for the stand-in, with its bearer token. */
export function kubeconfigFor(api: KubeApi, namespace = 'cage'): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: stand-in`,
    `  cluster: {server: "${api.url}", certificate-authority-data: "${Buffer.from(api.ca).toString('base64')}"}`,
    'users:',
    `- name: organizer`,
    `  user: {token: "${api.token}"}`,
    'contexts:',
    `- name: stand-in`,
    `  context: {cluster: stand-in, user: organizer, namespace: ${namespace}}`,
    'current-context: stand-in',
    '',
  ].join('\n');
}
