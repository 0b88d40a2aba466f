import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';

export class PolicyLoadError extends Error {}

/** A parsed and schema-validated policy directory, ready to be preparsed. */
export interface PolicyFiles {
  sha256: string;
  schema: string;
  /** Policy id (its `@id` annotation, or `<file>#<n>`) → policy text. */
  policies: Record<string, string>;
  files: string[];
}

const SCHEMA_FILE = 'schema.cedarschema';

function messages(errors: { message: string }[]): string {
  return errors.map((e) => e.message).join('; ');
}

/**
 * Reads `schema.cedarschema` and every `*.cedar` in dir; parses each file and validates the
 * whole set against the schema in strict mode. Throws PolicyLoadError naming the file and the
 * problem: a set that fails here never becomes active.
 */
export function loadPolicyFiles(dir: string): PolicyFiles {
  let names: string[];
  try {
    names = readdirSync(dir).filter((f) => f.endsWith('.cedar')).sort();
  } catch (err) {
    throw new PolicyLoadError(`cannot read policy directory ${dir}: ${(err as Error).message}`);
  }
  let schema: string;
  try {
    schema = readFileSync(join(dir, SCHEMA_FILE), 'utf8');
  } catch {
    throw new PolicyLoadError(`${SCHEMA_FILE} is missing in ${dir}`);
  }
  const texts = new Map(names.map((n) => [n, readFileSync(join(dir, n), 'utf8')]));
  return compilePolicyFiles(schema, texts);
}

/** Same as loadPolicyFiles, from text already in memory (policy submissions, tests). */
export function compilePolicyFiles(schema: string, files: Map<string, string>): PolicyFiles {
  const schemaCheck = cedar.checkParseSchema(schema);
  if (schemaCheck.type === 'failure') throw new PolicyLoadError(`${SCHEMA_FILE}: ${messages(schemaCheck.errors)}`);

  const policies: Record<string, string> = {};
  const hash = createHash('sha256').update(`${SCHEMA_FILE}\0${schema}\0`);
  for (const [file, text] of [...files.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    hash.update(`${file}\0${text}\0`);
    const parts = cedar.policySetTextToParts(text);
    if (parts.type === 'failure') throw new PolicyLoadError(`${file}: ${messages(parts.errors)}`);
    if (parts.policy_templates.length > 0) throw new PolicyLoadError(`${file}: templates are not allowed in policy files`);
    parts.policies.forEach((p, n) => {
      const json = cedar.policyToJson(p);
      if (json.type === 'failure') throw new PolicyLoadError(`${file}: ${messages(json.errors)}`);
      const id = json.json.annotations?.id ?? `${file}#${n}`;
      if (id.startsWith('grant:')) throw new PolicyLoadError(`${file}: policy id ${id} is reserved for grants`);
      if (policies[id] !== undefined) throw new PolicyLoadError(`${file}: duplicate policy id ${id}`);
      policies[id] = p;
    });
  }
  const validation = cedar.validate({ schema, policies: { staticPolicies: policies }, validationSettings: { mode: 'strict' } });
  if (validation.type === 'failure') throw new PolicyLoadError(`validation failed: ${messages(validation.errors)}`);
  if (validation.validationErrors.length > 0) {
    const detail = validation.validationErrors.map((e) => `${e.policyId}: ${e.error.message}`).join('; ');
    throw new PolicyLoadError(`policies do not match the schema: ${detail}`);
  }
  return { sha256: hash.digest('hex'), schema, policies, files: [SCHEMA_FILE, ...files.keys()] };
}
