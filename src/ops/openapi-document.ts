import { type INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, type ResponseObject, SwaggerModule } from '@nestjs/swagger';
import { apiError } from './error.dto';
import { componentSchemas, modelRef, refsIn } from './openapi-models';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/**
 * A listener's OpenAPI document, from the routes and their zod models: every error answer is
 * the one error shape (the global filter makes it so) unless the route names another, and the
 * named models the routes refer to are its `components.schemas`.
 */
export function openApiDocument(app: INestApplication, title: string): OpenAPIObject {
  const doc = SwaggerModule.createDocument(app, new DocumentBuilder().setTitle(title).setVersion('1').addBearerAuth().build());
  for (const item of Object.values(doc.paths)) {
    for (const method of METHODS) {
      for (const [status, response] of Object.entries(item[method]?.responses ?? {})) {
        const r = response as ResponseObject;
        if (Number(status) >= 400 && r.content === undefined) r.content = { 'application/json': { schema: modelRef(apiError) } };
      }
    }
  }
  doc.components = { ...doc.components, schemas: { ...doc.components?.schemas, ...componentSchemas(refsIn(doc.paths)) } };
  return doc;
}
