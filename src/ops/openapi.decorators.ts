import { Body, type PipeTransform, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBody, ApiQuery, ApiResponse, type SchemaObject } from '@nestjs/swagger';
import { type z } from 'zod';
import { modelName, modelRef, requestJsonSchema } from './openapi-models';
import { parseOrThrow } from './validation';

/** Validates a route argument with the schema the OpenAPI document shows for it. */
class ZodPipe implements PipeTransform {
  constructor(private readonly schema: z.ZodTypeAny) {}

  transform(value: unknown): unknown {
    return parseOrThrow(this.schema, value);
  }
}

type Documenter = (target: object, key: string | symbol, descriptor: PropertyDescriptor) => void;

/** Applies method-level OpenAPI decorators from a parameter decorator (they annotate the method). */
function onMethod(target: object, key: string | symbol | undefined, ...decorators: Documenter[]): void {
  if (key === undefined) throw new Error('ZodBody and ZodQuery decorate route handler arguments');
  const descriptor = Object.getOwnPropertyDescriptor(target, key);
  if (descriptor === undefined) throw new Error(`no method ${String(key)}`);
  for (const d of decorators) d(target, key, descriptor);
}

const BAD_INPUT = 'Bad input (the message names each field, unknown ones included); nothing changed';

/**
 * The request body, parsed by `schema` (400 naming what was wrong, unknown fields refused), and
 * documented by the same schema: a named request model as a `$ref`, otherwise inline.
 */
export function ZodBody(schema: z.ZodTypeAny): ParameterDecorator {
  const documented = modelName(schema) === undefined ? requestJsonSchema(schema) : modelRef(schema);
  return (target, key, index) => {
    Body(new ZodPipe(schema))(target, key, index);
    onMethod(target, key, ApiBody({ schema: documented, required: true }), ApiBadRequestResponse({ description: BAD_INPUT }));
  };
}

/** The query string, parsed by an object `schema` and documented one parameter per property. */
export function ZodQuery(schema: z.ZodTypeAny): ParameterDecorator {
  const json = requestJsonSchema(schema);
  const properties = (json.properties ?? {}) as Record<string, SchemaObject>;
  const required = new Set(json.required ?? []);
  return (target, key, index) => {
    Query(new ZodPipe(schema))(target, key, index);
    onMethod(
      target,
      key,
      ...Object.entries(properties).map(([name, { description, ...s }]) =>
        ApiQuery({ name, required: required.has(name), ...(description === undefined ? {} : { description }), schema: s }),
      ),
      ApiBadRequestResponse({ description: BAD_INPUT }),
    );
  };
}

/** A JSON answer of a named response model. */
export function ZodResponse(status: number, schema: z.ZodTypeAny, description = ''): MethodDecorator {
  return ApiResponse({ status, description, schema: modelRef(schema) });
}

/**
 * A non-JSON answer by media type: text (a checkpoint note, CSV) or bytes (an artifact, an
 * object). `json` adds a JSON alternative (a report served as JSON or CSV).
 */
export function ContentResponse(
  status: number,
  description: string,
  types: Record<string, 'text' | 'bytes'>,
  json?: z.ZodTypeAny,
): MethodDecorator {
  const content: Record<string, { schema: SchemaObject | { $ref: string } }> = {};
  if (json !== undefined) content['application/json'] = { schema: modelRef(json) };
  for (const [type, kind] of Object.entries(types))
    content[type] = { schema: kind === 'text' ? { type: 'string' } : { type: 'string', format: 'binary' } };
  return ApiResponse({ status, description, content });
}
