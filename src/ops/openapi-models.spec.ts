import { z } from 'zod';
import { componentSchemas, modelRef, requestJsonSchema, requestModel, responseModel } from './openapi-models';

describe('zod models as OpenAPI schemas', () => {
  const part = responseModel('SpecPart', z.object({ name: z.string() }).strict());
  responseModel('SpecWhole', z.object({ parts: z.array(part), first: part.nullable(), note: z.string().optional() }).strict());
  requestModel(
    'SpecNew',
    z
      .object({
        at: z
          .string()
          .datetime()
          .transform((v) => new Date(v)),
        ttl: z.number().int().default(60),
      })
      .strict()
      .refine(() => true),
  );

  it('refers to a named model inside another by $ref, and brings along what it refers to', () => {
    expect(componentSchemas(['SpecWhole'])).toEqual({
      SpecPart: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'], additionalProperties: false },
      SpecWhole: {
        type: 'object',
        properties: {
          parts: { type: 'array', items: { $ref: '#/components/schemas/SpecPart' } },
          first: { allOf: [{ $ref: '#/components/schemas/SpecPart' }], nullable: true },
          note: { type: 'string' },
        },
        required: ['parts', 'first'],
        additionalProperties: false,
      },
    });
  });

  it('documents a request as what it accepts: a transform by its input, a default as optional', () => {
    expect(componentSchemas(['SpecNew']).SpecNew).toEqual({
      type: 'object',
      properties: { at: { type: 'string', format: 'date-time' }, ttl: { type: 'integer', default: 60 } },
      required: ['at'],
      additionalProperties: false,
    });
  });

  it('copies a schema met twice instead of a $ref that would not resolve in the document', () => {
    const index = z.coerce.number().int().min(0);
    expect(requestJsonSchema(z.object({ from: index, to: index.optional() }))).toEqual({
      type: 'object',
      properties: { from: { type: 'integer', minimum: 0 }, to: { type: 'integer', minimum: 0 } },
      required: ['from'],
      additionalProperties: true,
    });
  });

  it('should not refer to a model that has no name, nor name two models alike', () => {
    expect(() => modelRef(z.object({}))).toThrow(/must be named/);
    expect(() => responseModel('SpecPart', z.object({}))).toThrow(/named twice/);
  });
});
