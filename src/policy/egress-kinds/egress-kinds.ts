import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';
import type { EgressKind, EgressKinds, MetricsKind } from './egress-kind.types';
import { StrictJsonError, parseStrictJson, toPlainJson } from './strict-json';

/** A kind file we refuse; names the file and, when there is one, the field. */
export class EgressKindError extends Error {
  constructor(
    readonly file: string,
    readonly field: string | undefined,
    detail: string,
  ) {
    super(`${file}${field === undefined ? '' : `: ${field}`}: ${detail}`);
    this.name = 'EgressKindError';
  }
}

/** Kind files are a few hundred bytes; this only bounds a hostile policy submission. */
export const MAX_KIND_FILE_BYTES = 64 * 1024;
/** Kind names appear in URLs (`POST /v1/egress/{kind}`) and file names. */
const KIND_NAME_RE = /^[a-z][a-z0-9-]{0,62}$/;
/** Metric names are JSON keys in submissions and canonical output; no `__proto__` and friends. */
const METRIC_NAME_RE = /^[a-z][a-z0-9_]{0,63}$/;
/** Largest maxCohort: the metrics checker treats anything from 10^15 up as too large. */
const MAX_COHORT_LIMIT = 1e12;
/** Largest |exponent|: keeps every rounded value a normal double that prints back exactly. */
const MAX_EXPONENT = 300;

const kindName = z.string().regex(KIND_NAME_RE, 'must be lowercase letters, digits and "-", starting with a letter (at most 63)');
const positiveInt = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const review = z.enum(['none', 'two-person']);
const exponent = z.number().int().min(-MAX_EXPONENT).max(MAX_EXPONENT);

const predictionsSchema = z
  .object({
    kind: kindName,
    format: z.literal('predictions-csv'),
    maxBytes: positiveInt,
    maxRows: positiveInt,
    maxCandidatesPerScan: positiveInt,
    coordinateQuantumMm: z
      .number()
      .finite()
      .positive()
      .max(1000)
      // The canonical decimals are the quantum's fraction digits, so it must have a short one.
      .refine((q) => /^\d+(?:\.\d{1,6})?$/.test(String(q)), 'must be a plain decimal with at most 6 fraction digits'),
    probabilityDecimals: z.number().int().min(0).max(6),
    review,
  })
  .strict();

const metricsSchema = z
  .object({
    kind: kindName,
    format: z.literal('metrics-json'),
    maxBytes: positiveInt,
    metrics: z
      .array(z.string().regex(METRIC_NAME_RE, 'must be lowercase letters, digits and "_", starting with a letter (at most 64)'))
      .min(1),
    maxSeriesLength: positiveInt,
    significantDigits: z.number().int().min(1).max(15),
    minCohort: z.number().int().min(0).max(MAX_COHORT_LIMIT),
    maxCohort: z.number().int().min(1).max(MAX_COHORT_LIMIT),
    exponentRange: z.tuple([exponent, exponent]),
    review,
  })
  .strict();

const opaqueSchema = z
  .object({
    kind: kindName,
    format: z.literal('opaque'),
    maxBytes: positiveInt,
    review,
  })
  .strict();

/** Object keys of a dataset's bucket: no leading slash, no `..` segment. */
const objectKey = z
  .string()
  .min(1)
  .max(1024)
  .refine((k) => !k.startsWith('/') && !k.split('/').includes('..'), 'must be an object key of the dataset (no leading "/", no "..")');

const submissionsSchema = predictionsSchema
  .omit({ format: true })
  .extend({
    format: z.literal('predictions-score'),
    metric: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be a metric name such as luna16-froc'),
    labels: z.object({ dataset: z.string().min(1).max(128), annotations: objectKey, excluded: objectKey.optional() }).strict(),
    publicFraction: z.number().gt(0).lt(1),
    ladderStep: z.number().gt(0).max(1),
    selections: z.number().int().min(1).max(10),
  })
  .strict();

const kindSchema = z.discriminatedUnion('format', [predictionsSchema, metricsSchema, opaqueSchema, submissionsSchema]);

function fieldOf(issue: z.ZodIssue): string | undefined {
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') path.push(issue.keys[0]);
  return path.length === 0 ? undefined : path.join('.');
}

/** Rules across fields, which zod's discriminated union cannot carry per option. */
function checkMetricsKind(file: string, k: MetricsKind): void {
  const seen = new Set<string>();
  k.metrics.forEach((name, i) => {
    if (seen.has(name)) throw new EgressKindError(file, `metrics.${i}`, `metric "${name}" is listed twice`);
    seen.add(name);
  });
  if (k.maxCohort < k.minCohort) throw new EgressKindError(file, 'maxCohort', 'must be ≥ minCohort');
  if (k.exponentRange[0] > k.exponentRange[1]) throw new EgressKindError(file, 'exponentRange', 'must be [low, high] with low ≤ high');
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Parses and validates one kind file; `file` is its name (the kind name plus `.json`). */
function compileKind(file: string, text: string): EgressKind {
  if (!file.endsWith('.json')) throw new EgressKindError(file, undefined, 'kind files must be named <kind>.json');
  if (Buffer.byteLength(text, 'utf8') > MAX_KIND_FILE_BYTES)
    throw new EgressKindError(file, undefined, `larger than ${MAX_KIND_FILE_BYTES} bytes`);
  let json: unknown;
  try {
    json = toPlainJson(parseStrictJson(text));
  } catch (err) {
    if (!(err instanceof StrictJsonError)) throw err;
    throw new EgressKindError(file, err.key, `invalid JSON at line ${err.line}: ${err.message}`);
  }
  const parsed = kindSchema.safeParse(json);
  if (!parsed.success) {
    const [first, ...rest] = parsed.error.issues;
    const also = rest.map((i) => `${fieldOf(i) ?? '(file)'}: ${i.message}`).join('; ');
    throw new EgressKindError(file, fieldOf(first), also === '' ? first.message : `${first.message} (also ${also})`);
  }
  const kind: EgressKind = parsed.data;
  const expected = file.slice(0, -'.json'.length);
  if (kind.kind !== expected) throw new EgressKindError(file, 'kind', `must be "${expected}", the file's name`);
  if (kind.format === 'metrics-json') checkMetricsKind(file, kind);
  return deepFreeze(kind);
}

/**
 * Validates a set of kind files held in memory (file name → text): strict schemas, unknown
 * fields refused, each kind named after its file, no kind twice. All or nothing: the first
 * invalid file throws EgressKindError and no part of the set is returned.
 */
export function compileEgressKinds(files: Map<string, string>): EgressKinds {
  const kinds = new Map<string, EgressKind>();
  const entries = [...files.entries()].map(([path, text]) => [basename(path), text] as const);
  for (const [file, text] of entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const kind = compileKind(file, text);
    if (kinds.has(kind.kind)) throw new EgressKindError(file, 'kind', `kind "${kind.kind}" is defined twice`);
    kinds.set(kind.kind, kind);
  }
  return kinds;
}

/**
 * Reads every `*.json` file in dir (other files, such as README.md, are ignored) and compiles
 * them with compileEgressKinds. A directory without kind files is an error: it is almost
 * certainly the wrong directory, and it would silently refuse every egress.
 */
export function loadEgressKinds(dir: string): EgressKinds {
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((f) => f.endsWith('.json') && statSync(join(dir, f)).isFile())
      .sort();
  } catch (err) {
    throw new EgressKindError(dir, undefined, `cannot read the egress kind directory: ${(err as Error).message}`);
  }
  if (names.length === 0) throw new EgressKindError(dir, undefined, 'no egress kind files (*.json)');
  const files = new Map<string, string>();
  for (const name of names) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(join(dir, name));
    } catch (err) {
      throw new EgressKindError(name, undefined, `cannot read: ${(err as Error).message}`);
    }
    try {
      // ignoreBOM keeps a BOM in the text, where the strict parser refuses it.
      files.set(name, new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes));
    } catch {
      throw new EgressKindError(name, undefined, 'not valid UTF-8');
    }
  }
  return compileEgressKinds(files);
}
