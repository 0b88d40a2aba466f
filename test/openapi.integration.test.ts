import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type INestApplication, type Type } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { ModulesContainer } from '@nestjs/core';
import { type OpenAPIObject } from '@nestjs/swagger';
import { type Fixture, startFixture } from './support/fixture';
import { rawRequest } from './support/http';

const ROOT = join(__dirname, '..');
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head'] as const;

interface Operation {
  operationId: string;
  parameters?: { in: string; name: string; schema?: object }[];
  requestBody?: { content?: Record<string, { schema?: object }> };
  responses: Record<string, { content?: Record<string, { schema?: object }> }>;
}

/** Per operation id (`Controller_method`): whether the handler takes a body or a query argument. */
function handlerArguments(app: INestApplication): Map<string, { body: boolean; query: boolean }> {
  const out = new Map<string, { body: boolean; query: boolean }>();
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as Type;
      for (const method of Object.getOwnPropertyNames(controller.prototype)) {
        const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, method) ?? {}) as Record<string, unknown>;
        const types = Object.keys(args).map((k) => Number(k.split(':')[0]));
        out.set(`${controller.name}_${method}`, {
          body: types.includes(RouteParamtypes.BODY),
          query: types.includes(RouteParamtypes.QUERY),
        });
      }
    }
  }
  return out;
}

const empty = (schema: object | undefined) => schema === undefined || Object.keys(schema).length === 0;

/** What an operation of the document lacks: request schemas where the handler reads a body or query, 2xx schemas. */
function contractGaps(doc: OpenAPIObject, handlers: Map<string, { body: boolean; query: boolean }>): string[] {
  const gaps: string[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method] as Operation | undefined;
      if (op === undefined) continue;
      const where = `${method.toUpperCase()} ${path} (${op.operationId})`;
      const takes = handlers.get(op.operationId);
      if (takes === undefined) gaps.push(`${where}: no handler of that name`);
      const query = (op.parameters ?? []).filter((p) => p.in === 'query');
      if (takes?.query === true && query.length === 0) gaps.push(`${where}: reads a query, documents no query parameter`);
      for (const p of query) if (empty(p.schema)) gaps.push(`${where}: query parameter ${p.name} has no schema`);
      const body = Object.entries(op.requestBody?.content ?? {});
      if (takes?.body === true && body.length === 0) gaps.push(`${where}: reads a body, documents none`);
      for (const [type, m] of body) if (empty(m.schema)) gaps.push(`${where}: request body ${type} has no schema`);
      const ok = Object.entries(op.responses).filter(([status]) => /^2\d\d$/.test(status));
      if (ok.length === 0) gaps.push(`${where}: no 2xx answer`);
      for (const [status, r] of ok) {
        // A 204 and a HEAD answer have no body to describe.
        if (status === '204' || method === 'head') continue;
        const content = Object.entries(r.content ?? {});
        if (content.length === 0) gaps.push(`${where}: ${status} has no content`);
        for (const [type, m] of content) if (empty(m.schema)) gaps.push(`${where}: ${status} ${type} has no schema`);
      }
      for (const [status, r] of Object.entries(op.responses))
        if (Number(status) >= 400 && r.content === undefined) gaps.push(`${where}: ${status} has no error schema`);
    }
  }
  const named = new Set(Object.keys(doc.components?.schemas ?? {}));
  for (const [, name] of JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g))
    if (!named.has(name)) gaps.push(`$ref to a missing model ${name}`);
  return gaps;
}

describe('the committed OpenAPI documents', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await startFixture({ db: 'pglite' });
  });
  afterAll(async () => {
    await f?.stop();
  });

  it.each(['control', 'sandbox'] as const)(
    'openapi/%s.json is what the code serves (run `npm run openapi` after an API change)',
    async (name) => {
      const committed = JSON.parse(readFileSync(join(ROOT, 'openapi', `${name}.json`), 'utf8')) as unknown;
      expect(f.gateway.openapi[name]).toEqual(committed);
      const served = await rawRequest(
        f.gateway.controlUrl,
        'GET',
        name === 'control' ? '/docs/openapi.json' : '/docs/sandbox/openapi.json',
      );
      expect(JSON.parse(served.body.toString())).toEqual(committed);
    },
  );

  it.each(['control', 'sandbox'] as const)(
    '%s: every operation has a request schema where it reads a body or a query, and a schema for each 2xx and error answer',
    (name) => {
      expect(contractGaps(f.gateway.openapi[name], handlerArguments(f.gateway[name]))).toEqual([]);
    },
  );

  it('finds a route that reads a body without a schema (the check above is not vacuous)', () => {
    const doc = structuredClone(f.gateway.openapi.control);
    delete (doc.paths['/v1/teams'].post as Operation).requestBody;
    delete (doc.paths['/v1/teams'].get as Operation).responses['200'].content;
    expect(contractGaps(doc, handlerArguments(f.gateway.control))).toEqual([
      'GET /v1/teams (TeamsController_list): 200 has no content',
      'POST /v1/teams (TeamsController_create): reads a body, documents none',
    ]);
  });

  it('src/cli/api.generated.ts is what openapi-typescript makes of openapi/control.json (run `npm run openapi`)', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'openapi-cli-types.mjs'), '--check'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('keeps idle client connections open longer than common client pools do (not Node’s 5 s default)', () => {
    for (const app of [f.gateway.sandbox, f.gateway.control]) expect(app.getHttpServer().keepAliveTimeout).toBe(65_000);
  });

  it('should not serve any docs on the sandbox listener', async () => {
    for (const path of ['/docs', '/docs/openapi.json', '/docs/sandbox/openapi.json']) {
      // Paths the REST API does not claim belong to the S3 API, which wants a signature first.
      const r = await rawRequest(f.gateway.sandboxUrl, 'GET', path);
      expect(r.status).toBe(403);
      expect(r.body.toString()).toContain('<Code>AccessDenied</Code>');
      expect(r.body.toString()).not.toContain('"openapi"');
      expect(r.body.toString()).not.toMatch(/swagger-ui/i);
    }
  });
});
