// The CLI's API types, generated from the committed OpenAPI document of the control listener:
// `node scripts/openapi-cli-types.mjs` writes src/cli/api.generated.ts (`npm run openapi` runs it
// after writing openapi/*.json); with --check it only says whether the committed file is current.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';
import * as prettier from 'prettier';

const source = fileURLToPath(new URL('../openapi/control.json', import.meta.url));
const target = fileURLToPath(new URL('../src/cli/api.generated.ts', import.meta.url));

const HEADER = `/*
 * Generated from openapi/control.json by scripts/openapi-cli-types.mjs (npm run openapi): do not
 * edit. The shapes come from the zod models the controllers validate with and declare; the CLI
 * names the ones it uses in api-types.ts.
 */

`;

// A property with a default is optional to send (openapi-typescript would make it required).
const ast = await openapiTS(JSON.parse(readFileSync(source, 'utf8')), { defaultNonNullable: false });
const text = await prettier.format(HEADER + astToString(ast), { ...(await prettier.resolveConfig(target)), filepath: target });

if (process.argv.includes('--check')) {
  if (readFileSync(target, 'utf8') !== text) {
    console.error(`${target} is not what openapi/control.json generates: run npm run openapi`);
    process.exit(1);
  }
} else {
  writeFileSync(target, text);
}
