import { type SchemaObject } from '@nestjs/swagger';
import { z } from 'zod';
import { type Options, zodToJsonSchema } from 'zod-to-json-schema';

/**
 * The API's named shapes. A zod schema given a name here is the one source of a shape: the
 * controllers validate with it (requests) or declare it (responses), the OpenAPI documents carry
 * it as `components.schemas[name]`, and the CLI's types are generated from those documents.
 */
type Side = 'request' | 'response';
const models = new Map<string, { schema: z.ZodTypeAny; side: Side }>();
const names = new WeakMap<z.ZodTypeAny, string>();

function register<S extends z.ZodTypeAny>(name: string, schema: S, side: Side): S {
  if (!/^[A-Z][A-Za-z0-9]*$/.test(name)) throw new Error(`model name ${JSON.stringify(name)} must be PascalCase`);
  if (models.has(name)) throw new Error(`model ${name} is named twice`);
  models.set(name, { schema, side });
  names.set(schema, name);
  return schema;
}

/** Names a response shape (what the gateway sends). */
export function responseModel<S extends z.ZodTypeAny>(name: string, schema: S): S {
  return register(name, schema, 'response');
}

/** Names a request body shape; documented as its input (defaults optional, transforms as what they accept). */
export function requestModel<S extends z.ZodTypeAny>(name: string, schema: S): S {
  return register(name, schema, 'request');
}

const COMPONENTS = '#/components/schemas/';

/** `{$ref}` to a named model; an unnamed schema is a programming error (every answer is named). */
export function modelRef(schema: z.ZodTypeAny): { $ref: string } {
  const name = names.get(schema);
  if (name === undefined) throw new Error('a schema referred to must be named with responseModel() or requestModel()');
  return { $ref: `${COMPONENTS}${name}` };
}

export function modelName(schema: z.ZodTypeAny): string | undefined {
  return names.get(schema);
}

/** zod-to-json-schema, typed loosely: its own generics over zod's types are too deep for tsc. */
type ConvertOptions = Omit<Partial<Options<'openApi3'>>, 'definitions'> & { definitions?: Record<string, z.ZodTypeAny> };
const toJsonSchema = zodToJsonSchema as unknown as (schema: z.ZodTypeAny, options: ConvertOptions) => Record<string, unknown>;

const BASE: ConvertOptions = {
  target: 'openApi3',
  $refStrategy: 'root',
  basePath: ['#'],
  definitionPath: 'components/schemas',
  // A .strict() object refuses unknown fields (additionalProperties: false); a plain one ignores them.
  removeAdditionalStrategy: 'strict',
  effectStrategy: 'input',
  pipeStrategy: 'input',
};

/** A request schema (body or query) as JSON Schema: its input side, nothing referenced. */
export function requestJsonSchema(schema: z.ZodTypeAny): SchemaObject {
  const json = toJsonSchema(schema, BASE);
  return inlineLocalRefs(json, json) as SchemaObject;
}

/**
 * `components.schemas` for the named models `wanted` refers to, directly or through each other,
 * in name order. Responses are converted together, so one model inside another is a `$ref`;
 * a request model stands alone.
 */
export function componentSchemas(wanted: Iterable<string>): Record<string, SchemaObject> {
  const responses = Object.fromEntries(
    [...models]
      .filter(([, m]) => m.side === 'response')
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, m]) => [name, m.schema]),
  );
  const converted = toJsonSchema(z.object({}), { ...BASE, pipeStrategy: 'output', definitions: responses });
  const root = { components: { schemas: converted['components/schemas'] as Record<string, unknown> } };
  const all = new Map<string, unknown>(Object.entries(root.components.schemas).map(([name, s]) => [name, inlineLocalRefs(s, root)]));
  for (const [name, m] of models) if (m.side === 'request') all.set(name, requestJsonSchema(m.schema));

  const out = new Map<string, unknown>();
  const visit = (name: string) => {
    if (out.has(name)) return;
    const s = all.get(name);
    if (s === undefined) throw new Error(`no model named ${name}`);
    out.set(name, s);
    for (const ref of refsIn(s)) visit(ref);
  };
  for (const name of wanted) visit(name);
  return Object.fromEntries([...out].sort(([a], [b]) => (a < b ? -1 : 1))) as Record<string, SchemaObject>;
}

/** The model names a document fragment refers to. */
export function refsIn(node: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(node)) node.forEach((n) => refsIn(n, found));
  else if (typeof node === 'object' && node !== null) {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string' && v.startsWith(COMPONENTS)) found.add(v.slice(COMPONENTS.length));
      else refsIn(v, found);
    }
  }
  return found;
}

/**
 * zod-to-json-schema writes a schema object met twice as a `$ref` to where it was met first
 * (`#/properties/index`); in an OpenAPI document only refs to components resolve, so the others
 * are replaced by a copy of what they point at.
 */
function inlineLocalRefs(node: unknown, root: unknown): unknown {
  if (Array.isArray(node)) return node.map((n) => inlineLocalRefs(n, root));
  if (typeof node !== 'object' || node === null) return node;
  const { $ref, ...rest } = node as Record<string, unknown>;
  if (typeof $ref === 'string' && !/^#\/components\/schemas\/[^/]+$/.test($ref)) {
    const target = $ref
      .slice(2)
      .split('/')
      .reduce<unknown>((at, seg) => (at as Record<string, unknown> | undefined)?.[seg.replace(/~1/g, '/').replace(/~0/g, '~')], root);
    if (target === undefined) throw new Error(`unresolvable $ref ${$ref}`);
    return inlineLocalRefs({ ...(target as object), ...rest }, root);
  }
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, inlineLocalRefs(v, root)]));
}
