/**
 * Strict parser for MetaImage (`.mhd`) headers, as used by LUNA16, plus the scan's world
 * bounding box.
 *
 * Why strict: headers come from dataset uploads and decide which bytes the gateway reads and
 * which world region a scan claims; anything ambiguous (duplicate keys, conflicting synonyms,
 * junk lines, paths in ElementDataFile) is rejected instead of guessed at.
 */

export type Vec3 = [number, number, number];

/** Row-major 9 numbers; triple i is the world direction of index axis i (ITK's MetaImageIO
 * reads it that way: `SetDirection(i, tm[3i..3i+2])`). */
export type TransformMatrix3 = [number, number, number, number, number, number, number, number, number];

/** Scalar MetaIO element types and their sizes, so callers can check a `.raw` file's length
 * (product of DimSize × bytes) before serving it. */
export const MET_ELEMENT_TYPE_BYTES = Object.freeze({
  MET_CHAR: 1,
  MET_UCHAR: 1,
  MET_SHORT: 2,
  MET_USHORT: 2,
  MET_INT: 4,
  MET_UINT: 4,
  MET_LONG: 4,
  MET_ULONG: 4,
  MET_LONG_LONG: 8,
  MET_ULONG_LONG: 8,
  MET_FLOAT: 4,
  MET_DOUBLE: 8,
});
export type MetElementType = keyof typeof MET_ELEMENT_TYPE_BYTES;

export interface MetaImageHeader {
  /** Every `Key = Value` pair exactly as written (values trimmed), in file order. */
  fields: ReadonlyMap<string, string>;
  nDims: 3;
  dimSize: Vec3;
  /** `ElementSpacing`, else `ElementSize`, else 1 1 1 (MetaIO's default). */
  elementSpacing: Vec3;
  /** `Offset` or its synonyms `Origin` / `Position`, else 0 0 0 (MetaIO's default). */
  offset: Vec3;
  /** `TransformMatrix` or its synonyms `Rotation` / `Orientation`, else identity. */
  transformMatrix: TransformMatrix3;
  elementType: MetElementType;
  /** A bare file name in the header's directory (no path, not LOCAL/LIST/pattern). */
  elementDataFile: string;
}

/** Axis-aligned world box (mm) covering voxel CENTRES; callers wanting the full voxel extent
 * pad each side by half a voxel (along each direction axis). */
export interface WorldBoundingBox {
  min: Vec3;
  max: Vec3;
}

/** Thrown for any header we refuse; the message names the offending key. */
export class MetaImageHeaderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetaImageHeaderError';
  }
}

/** 64 KiB: real headers are < 1 KiB; this only stops a hostile upload from costing memory. */
export const MAX_METAIMAGE_HEADER_BYTES = 64 * 1024;

const LINE_RE = /^\s*([A-Za-z][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/;
const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const UINT_RE = /^\+?\d+$/;

function fail(message: string): never {
  throw new MetaImageHeaderError(message);
}

function numbers(key: string, value: string, count: number): number[] {
  const tokens = value.split(/\s+/).filter((t) => t !== '');
  if (tokens.length !== count) fail(`${key} must have ${count} numbers, got ${tokens.length} ("${value}")`);
  return tokens.map((t) => {
    const n = Number(t);
    if (!NUMBER_RE.test(t) || !Number.isFinite(n)) fail(`${key} has a non-finite or malformed number "${t}"`);
    return n;
  });
}

function vec3(key: string, value: string): Vec3 {
  const [a, b, c] = numbers(key, value, 3);
  return [a, b, c];
}

/** The single present key among synonyms, or undefined; two present is ambiguous. */
function synonym(fields: Map<string, string>, keys: string[]): [string, string] | undefined {
  const present = keys.flatMap((k): [string, string][] => {
    const v = fields.get(k);
    return v === undefined ? [] : [[k, v]];
  });
  if (present.length > 1) fail(`${present.map(([k]) => k).join(' and ')} are synonyms; give only one`);
  return present[0];
}

function hasControlChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

function required(fields: Map<string, string>, key: string): string {
  const v = fields.get(key);
  if (v === undefined) fail(`${key} is missing`);
  if (v === '') fail(`${key} is empty`);
  return v;
}

/** Parses and validates a 3-D MetaImage header (text of a `.mhd` file). */
export function parseMetaImageHeader(text: string): MetaImageHeader {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_METAIMAGE_HEADER_BYTES) fail(`header is ${bytes} bytes, over the ${MAX_METAIMAGE_HEADER_BYTES}-byte limit`);

  const fields = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    const m = LINE_RE.exec(line);
    if (!m) fail(`line ${i + 1} is not "Key = Value": ${JSON.stringify(line.slice(0, 80))}`);
    const [, key, value] = m;
    if (fields.has('ElementDataFile')) fail(`ElementDataFile must be the last field, but ${key} follows it (line ${i + 1})`);
    if (fields.has(key)) fail(`${key} appears more than once (line ${i + 1})`);
    fields.set(key, value);
  }

  const nDimsText = required(fields, 'NDims');
  if (!UINT_RE.test(nDimsText) || Number(nDimsText) !== 3) fail(`NDims must be 3 (only 3-D scans are served), got "${nDimsText}"`);

  const dimSize = vec3('DimSize', required(fields, 'DimSize'));
  for (const d of dimSize) {
    if (!Number.isSafeInteger(d) || d < 1) fail(`DimSize entries must be positive integers, got "${fields.get('DimSize')}"`);
  }

  // ElementSize is not a synonym (it is the voxel's physical extent) but MetaIO falls back to it.
  const spacingEntry = synonym(fields, ['ElementSpacing']) ?? synonym(fields, ['ElementSize']);
  const elementSpacing: Vec3 = spacingEntry ? vec3(spacingEntry[0], spacingEntry[1]) : [1, 1, 1];
  if (spacingEntry && elementSpacing.some((s) => !(s > 0))) fail(`${spacingEntry[0]} entries must be > 0, got "${spacingEntry[1]}"`);

  const offsetEntry = synonym(fields, ['Offset', 'Origin', 'Position']);
  const offset: Vec3 = offsetEntry ? vec3(offsetEntry[0], offsetEntry[1]) : [0, 0, 0];

  const tmEntry = synonym(fields, ['TransformMatrix', 'Rotation', 'Orientation']);
  const transformMatrix = (tmEntry ? numbers(tmEntry[0], tmEntry[1], 9) : [1, 0, 0, 0, 1, 0, 0, 0, 1]) as TransformMatrix3;

  const elementTypeText = required(fields, 'ElementType');
  if (!Object.hasOwn(MET_ELEMENT_TYPE_BYTES, elementTypeText)) {
    fail(`ElementType "${elementTypeText}" is not a supported scalar type (${Object.keys(MET_ELEMENT_TYPE_BYTES).join(', ')})`);
  }
  const elementType = elementTypeText as MetElementType;

  const elementDataFile = required(fields, 'ElementDataFile');
  if (elementDataFile === 'LOCAL' || /^LIST(\s|$)/.test(elementDataFile)) {
    fail(`ElementDataFile "${elementDataFile}" is not supported; the voxels must be in a separate file`);
  }
  // One bare name next to the header: no directories, no traversal, no "pattern min max step".
  if (/[/\\\s]/.test(elementDataFile) || hasControlChar(elementDataFile) || elementDataFile === '.' || elementDataFile === '..') {
    fail(`ElementDataFile must be a bare file name in the header's directory, got ${JSON.stringify(elementDataFile)}`);
  }

  return { fields, nDims: 3, dimSize, elementSpacing, offset, transformMatrix, elementType, elementDataFile };
}

/**
 * World box (mm) covering the voxel centres from index 0 to dim-1 on each axis, where
 * world = Offset + Σ_i (index_i × spacing_i) × direction_i. With identity direction that is
 * Offset + index × ElementSpacing; otherwise all 8 corners are mapped and min/max taken.
 * Covers voxel centres only: pad by half a voxel for the full extent.
 */
export function worldBoundingBox(h: Pick<MetaImageHeader, 'dimSize' | 'elementSpacing' | 'offset' | 'transformMatrix'>): WorldBoundingBox {
  const min: Vec3 = [Infinity, Infinity, Infinity];
  const max: Vec3 = [-Infinity, -Infinity, -Infinity];
  const tm = h.transformMatrix;
  for (let corner = 0; corner < 8; corner++) {
    const p: Vec3 = [h.offset[0], h.offset[1], h.offset[2]];
    for (let axis = 0; axis < 3; axis++) {
      const step = (corner >> axis) & 1 ? (h.dimSize[axis] - 1) * h.elementSpacing[axis] : 0;
      for (let w = 0; w < 3; w++) p[w] += step * tm[3 * axis + w];
    }
    for (let w = 0; w < 3; w++) {
      min[w] = Math.min(min[w], p[w]);
      max[w] = Math.max(max[w], p[w]);
    }
  }
  return { min, max };
}
