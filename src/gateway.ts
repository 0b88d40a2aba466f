import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { type AddressInfo, createServer as createNetServer, type Server as NetServer } from 'node:net';
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { type Abstract, type DynamicModule, type INestApplicationContext, Logger, type LoggerService, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';
import { type CageConfig } from './config/config';
import { ControlModule } from './control.module';
import { CageModule } from './cage.module';
import { OutboxReconciler } from './egress/outbox-reconciler';
import { StartupTurn } from './db/startup-turn';
import { Checkpointer } from './audit/checkpointer.service';
import { Clock } from './clock/clock';
import { CageMetrics } from './metrics/metrics.registry';
import { HealthService } from './ops/health.service';
import { Lifecycle } from './ops/lifecycle';
import { PolicyStore } from './policy/policy-store';
import { PolicyWatcher } from './policy/policy-watcher';
import { type Database } from './db/database';
import { ensureBootstrap } from './demo/bootstrap';
import { type Bootstrap } from './demo/bootstrap-file';
import { openApiDocument } from './ops/openapi-document';
import { type ConnectionLimits, limitConnections, serverOptions } from './ops/connection-limits';
import { requestContext } from './ops/request-context';
import { SandboxModule } from './sandbox.module';

const SHUTDOWN_GRACE_MS = 10_000;

export interface GatewayOptions {
  logger?: LoggerService | false;
  clock?: Clock;
  db?: Database;
}

/** One gateway process: the container of its services (cage.module.ts) and its two listeners. */
export class Gateway {
  private constructor(
    /** Every service of the gateway, built once and shared by both listeners. */
    readonly services: INestApplicationContext,
    private readonly lifecycle: Lifecycle,
    readonly control: NestFastifyApplication,
    readonly sandbox: NestFastifyApplication,
    readonly controlUrl: string,
    readonly sandboxUrl: string,
    readonly bootstrap: Bootstrap | undefined,
    readonly bootstrapFile: string | undefined,
    /** The OpenAPI documents each listener serves at /docs/openapi.json. */
    readonly openapi: { control: OpenAPIObject; sandbox: OpenAPIObject },
  ) {}

  static async start(config: CageConfig, opts: GatewayOptions = {}): Promise<Gateway> {
    // It holds the signing key and bootstrap credentials: owner only, even if it existed before.
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    chmodSync(config.dataDir, 0o700);
    const lifecycle = new Lifecycle();
    let services: INestApplicationContext | undefined;
    try {
      services = await NestFactory.createApplicationContext(
        CageModule.forRoot({ config, clock: opts.clock ?? new Clock(), db: opts.db, lifecycle }),
        { logger: opts.logger === undefined ? undefined : opts.logger, abortOnError: false },
      );
      const metrics = services.get(CageMetrics);
      // Egress bodies are read raw, whatever their content type: the checker must see the exact
      // bytes (a JSON parser would drop duplicate keys and respell numbers), and the size cap is
      // applied while streaming, by the egress service.
      const limits = config.connections;
      const timeouts = { idleMs: limits.idleSeconds * 1000, headersMs: limits.headersSeconds * 1000 };
      // Access lines are info-level: below that they are not even built (a per-request cost).
      const accessLog = opts.logger !== false && (config.logLevel === 'info' || config.logLevel === 'debug');
      const sandbox = await createListener(SandboxModule.register(services), 'Cage sandbox API', opts.logger, {
        rawBodies: true,
        accessLog,
        metrics: { registry: metrics, listener: 'sandbox' },
        limits: { maxConnections: limits.sandboxMax, perAddress: limits.sandboxPerAddress, ...timeouts },
      });
      // People reach the control listener through an ingress, often from one address: its own
      // total limit only.
      const control = await createListener(ControlModule.register(services), 'Cage control API', opts.logger, {
        accessLog,
        metrics: { registry: metrics, listener: 'control' },
        limits: { maxConnections: limits.controlMax, perAddress: limits.controlMax, ...timeouts },
      });
      const openapi = { control: control.doc, sandbox: sandbox.doc };
      // Docs are served on the control listener only, both APIs' (the sandbox serves data, nothing else).
      SwaggerModule.setup('docs', control.app, control.doc, { jsonDocumentUrl: 'docs/openapi.json' });
      SwaggerModule.setup('docs/sandbox', control.app, sandbox.doc, { jsonDocumentUrl: 'docs/sandbox/openapi.json' });
      await Promise.all([sandbox.app.init(), control.app.init()]);
      await sandbox.app.listen(config.sandboxPort, config.host);
      // The same listener on a Unix socket: `cage run` bridges a confined job's only port to it.
      if (config.sandboxSocket !== undefined) {
        const door = await listenOnSocket(sandbox.app.getHttpServer(), config.sandboxSocket);
        lifecycle.onStop('sandbox socket', () => new Promise<void>((r) => door.close(() => r())));
      }
      await control.app.listen(config.controlPort, config.host);
      const controlUrl = urlOf(control.app, config.host);
      const sandboxUrl = urlOf(sandbox.app, config.host);
      const boot = await ensureBootstrap(services, { controlUrl, sandboxUrl, s3Endpoint: sandboxUrl, s3Region: config.s3Api.region });
      // The next replica waiting to start may go on: what a first start does is done.
      await services.get(StartupTurn).end();
      services.get(PolicyWatcher).start();
      services.get(PolicyStore).startSync();
      services.get(Checkpointer).start();
      services.get(OutboxReconciler).start();
      // Ready only now: a script waiting on /readyz may read bootstrap.json next.
      services.get(HealthService).markStarted();
      return new Gateway(services, lifecycle, control.app, sandbox.app, controlUrl, sandboxUrl, boot?.bootstrap, boot?.file, openapi);
    } catch (err) {
      // What was started before the failure is stopped again: nothing left listening, no database open.
      await services?.close().catch(() => undefined);
      await lifecycle.stop();
      throw err;
    }
  }

  /** One of the gateway's services (tests, tools): the instance both listeners use. */
  get<T>(token: Type<T> | Abstract<T>): T {
    return this.services.get(token, { strict: false });
  }

  /**
   * Clean shutdown: stop accepting and let in-flight requests finish (up to a grace period),
   * then flush pending audit leaves and close the stores.
   */
  async stop(): Promise<void> {
    const force = setTimeout(() => {
      new Logger('Gateway').warn('shutdown grace period over; closing open connections');
      for (const app of [this.sandbox, this.control]) app.getHttpServer().closeAllConnections();
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    try {
      await Promise.all([this.sandbox.close(), this.control.close()]);
    } finally {
      clearTimeout(force);
      // Then undo start-up, dependents first: background work stopped, pending leaves flushed,
      // the stores closed (ops/lifecycle.ts).
      await this.services.close();
      await this.lifecycle.stop();
    }
  }
}

async function createListener(
  module: DynamicModule,
  title: string,
  logger: LoggerService | false | undefined,
  opts: {
    rawBodies?: boolean;
    accessLog: boolean;
    metrics: { registry: CageMetrics; listener: 'control' | 'sandbox' };
    limits: ConnectionLimits;
  },
): Promise<{ app: NestFastifyApplication; doc: OpenAPIObject }> {
  const adapter = new FastifyAdapter({
    // Each request gets a fresh id; a client-sent id is never trusted as ours.
    genReqId: () => randomUUID(),
    // Object keys up to 1024 bytes, percent-encoded, must fit in a route parameter.
    routerOptions: { maxParamLength: 4096 },
    exposeHeadRoutes: false,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    bodyLimit: 1024 * 1024,
    // Errors Fastify raises before routing (a malformed URL, a bad header) get the same JSON shape.
    frameworkErrors: (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
      void reply
        .status(err.statusCode ?? 400)
        .header('content-type', 'application/json; charset=utf-8')
        .send({ error: 'bad_request', message: err.message, requestId: req.id });
    },
    // Every log line runs inside the request's context, so it carries the request id.
    serverFactory: (handler: (req: IncomingMessage, res: ServerResponse) => void) =>
      // requestTimeout bounds receiving a request (slow-loris), not streaming a response.
      // Fastify ignores its keepAliveTimeout option with a serverFactory: set here, longer than
      // the idle timeouts of common client pools, so a pooled connection is not cut under them.
      {
        const server = createServer(
          { requestTimeout: 300_000, keepAliveTimeout: Math.min(65_000, opts.limits.idleMs), ...serverOptions(opts.limits) },
          (req, res) => {
            requestContext.run({ requestId: '' }, () => handler(req, res));
          },
        );
        limitConnections(server, opts.limits, (reason) => opts.metrics.registry.connectionRefused(opts.metrics.listener, reason));
        return server;
      },
  });
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, {
    logger: logger === undefined ? undefined : logger,
    abortOnError: false,
    bodyParser: opts.rawBodies !== true,
  });
  if (opts.rawBodies === true) {
    const fastify = app.getHttpAdapter().getInstance();
    fastify.removeAllContentTypeParsers();
    fastify.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
  }
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', (req, reply, done) => {
    const store = requestContext.getStore();
    if (store !== undefined) store.requestId = req.id;
    void reply.header('x-request-id', req.id);
    done();
  });
  const access = new Logger('Access');
  fastify.addHook('onResponse', (req, reply, done) => {
    // The path only: query strings may carry presigned signatures.
    if (opts.accessLog)
      access.log({
        message: 'request',
        method: req.method,
        path: (req.raw.url ?? '').split('?')[0],
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 100) / 100,
        requestId: req.id,
      });
    // By route pattern, never by URL: object keys and dataset names are not label values.
    opts.metrics.registry.observeRequest(
      opts.metrics.listener,
      req.routeOptions.url,
      req.method,
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
    done();
  });
  const doc = openApiDocument(app, title);
  return { app, doc };
}

function urlOf(app: NestFastifyApplication, host: string): string {
  const addr = app.getHttpServer().address() as AddressInfo;
  const h = host.includes(':') ? `[${host}]` : host;
  return `http://${h}:${addr.port}`;
}

/**
 * Accepts connections on a Unix socket and hands each to the listener's own HTTP server: the
 * same routes, limits and timeouts as its TCP port. The socket is 0666 in the 0700 data dir: no
 * other user of the host reaches it, a `cage run` sandbox does through the one bind mount it gets.
 */
async function listenOnSocket(http: HttpServer, path: string): Promise<NetServer> {
  rmSync(path, { force: true });
  const door = createNetServer((socket) => http.emit('connection', socket));
  await new Promise<void>((resolve, reject) => door.once('error', reject).listen(path, resolve));
  chmodSync(path, 0o666);
  return door;
}
