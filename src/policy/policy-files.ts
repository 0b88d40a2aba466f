import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { z } from 'zod';
// Kinds are pure definitions (no I/O beyond their text); they are validated and activated with
// the Cedar policies so one SHA-256 names everything that decides an egress.
import { type EgressKinds } from './egress-kinds/egress-kind.types';
import { compileEgressKinds } from './egress-kinds/egress-kinds';

export class PolicyLoadError extends Error {}

/** A parsed and schema-validated policy directory, ready to be preparsed. */
export interface PolicyFiles {
  sha256: string;
  schema: string;
  /** Policy id (its `@id` annotation, or `<file>#<n>`) → policy text. */
  policies: Record<string, string>;
  files: string[];
  /** Egress kinds (egress/*.json): format, limits, rounding, review. */
  egressKinds: EgressKinds;
  /** Daily information budget (budget.json). */
  budget: Budget;
  /** Policy expectations (tests/*.json): file name → text. Not part of the SHA-256. */
  tests?: Map<string, string>;
  /** The set as text, as a policy version stores it. */
  map?: PolicyMap;
}

/** Per team and UTC day: bits that may leave, and artifacts per kind. */
export interface Budget {
  dailyBits: number;
  dailySubmissions: Record<string, number>;
}

export interface EgressPolicyText {
  /** egress/<kind>.json file name → text. */
  kinds: Map<string, string>;
  budget: string;
}

const SCHEMA_FILE = 'schema.cedarschema';
const BUDGET_FILE = 'budget.json';
const EGRESS_DIR = 'egress';
const TESTS_DIR = 'tests';

const budgetSchema = z
  .object({
    dailyBits: z.number().int().min(0),
    dailySubmissions: z.record(z.string(), z.number().int().min(0)),
  })
  .strict();

function messages(errors: { message: string }[]): string {
  return errors.map((e) => e.message).join('; ');
}

/**
 * Reads `schema.cedarschema` and every `*.cedar` in dir; parses each file and validates the
 * whole set against the schema in strict mode. Throws PolicyLoadError naming the file and the
 * problem: a set that fails here never becomes active.
 */
export function loadPolicyFiles(dir: string): PolicyFiles {
  return compilePolicyMap(readPolicyDir(dir));
}

/** A policy set as text: relative path → content (what a policy version stores). */
export type PolicyMap = Record<string, string>;

const POLICY_PATH =
  /^(schema\.cedarschema|[A-Za-z0-9_.-]+\.cedar|budget\.json|egress\/[A-Za-z0-9_.-]+\.json|tests\/[A-Za-z0-9_.-]+\.json)$/;

/** Reads the files of a policy directory that make up a policy set (README files are left out). */
export function readPolicyDir(dir: string): PolicyMap {
  const out: PolicyMap = {};
  const read = (rel: string) => {
    out[rel] = readFileSync(join(dir, rel), 'utf8');
  };
  try {
    for (const f of readdirSync(dir).sort()) if (POLICY_PATH.test(f)) read(f);
    for (const sub of [EGRESS_DIR, TESTS_DIR]) {
      let names: string[] = [];
      try {
        names = readdirSync(join(dir, sub)).sort();
      } catch {
        continue;
      }
      for (const f of names) if (POLICY_PATH.test(`${sub}/${f}`)) read(`${sub}/${f}`);
    }
  } catch (err) {
    throw new PolicyLoadError(`cannot read policy directory ${dir}: ${(err as Error).message}`);
  }
  return out;
}

/**
 * Compiles a whole policy set from its files. Throws PolicyLoadError naming the file and the
 * problem; a set that fails here never becomes active.
 */
export function compilePolicyMap(map: PolicyMap): PolicyFiles {
  for (const path of Object.keys(map)) if (!POLICY_PATH.test(path)) throw new PolicyLoadError(`${path}: not a policy file name`);
  const schema = map[SCHEMA_FILE];
  if (schema === undefined) throw new PolicyLoadError(`${SCHEMA_FILE} is missing`);
  const budget = map[BUDGET_FILE];
  if (budget === undefined) throw new PolicyLoadError(`${BUDGET_FILE} is missing`);
  const pick = (re: RegExp, strip: string) =>
    new Map(
      Object.entries(map)
        .filter(([k]) => re.test(k))
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => [k.slice(strip.length), v]),
    );
  const files = compilePolicyFiles(schema, pick(/^[^/]+\.cedar$/, ''), { kinds: pick(/^egress\//, `${EGRESS_DIR}/`), budget });
  return { ...files, tests: pick(/^tests\//, `${TESTS_DIR}/`), map };
}

/** Same as loadPolicyFiles, from text already in memory (policy submissions, tests). */
export function compilePolicyFiles(
  schema: string,
  files: Map<string, string>,
  egress: EgressPolicyText = { kinds: new Map(), budget: '{"dailyBits":0,"dailySubmissions":{}}' },
): PolicyFiles {
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
  let egressKinds: EgressKinds;
  try {
    egressKinds = compileEgressKinds(egress.kinds);
  } catch (err) {
    throw new PolicyLoadError((err as Error).message);
  }
  const budget = parseBudget(egress.budget, egressKinds);
  for (const [name, text] of [...egress.kinds.entries()].sort(([a], [b]) => (a < b ? -1 : 1)))
    hash.update(`${EGRESS_DIR}/${name}\0${text}\0`);
  hash.update(`${BUDGET_FILE}\0${egress.budget}\0`);
  return {
    sha256: hash.digest('hex'),
    schema,
    policies,
    files: [SCHEMA_FILE, ...files.keys(), ...[...egress.kinds.keys()].map((k) => `${EGRESS_DIR}/${k}`), BUDGET_FILE],
    egressKinds,
    budget,
  };
}

function parseBudget(text: string, kinds: EgressKinds): Budget {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new PolicyLoadError(`${BUDGET_FILE}: not JSON`);
  }
  const r = budgetSchema.safeParse(raw);
  if (!r.success)
    throw new PolicyLoadError(`${BUDGET_FILE}: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  for (const kind of kinds.keys()) {
    if (r.data.dailySubmissions[kind] === undefined)
      throw new PolicyLoadError(`${BUDGET_FILE}: dailySubmissions has no entry for kind ${kind}`);
  }
  return r.data;
}
