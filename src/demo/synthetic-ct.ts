/**
 * Deterministic synthetic chest-CT dataset in LUNA16-style MetaImage format.
 *
 * Why: the demo competition must be runnable without any real patient data, and every
 * install must see byte-identical scans so that audit hashes, leaderboards and tests agree.
 * Everything here is derived from a seed with a small integer PRNG (no Math.random, no
 * transcendental Math functions whose last bits may differ between engines).
 */

/** A nodule annotation in WORLD millimetres, as in LUNA16's annotations.csv. */
export interface Nodule {
  coordX: number;
  coordY: number;
  coordZ: number;
  diameterMm: number;
}

export type Vec3 = [number, number, number];

/** One generated scan: the `.mhd` header text, the `.raw` voxel bytes and the ground truth. */
export interface SyntheticScan {
  /** DICOM-UID-looking id; also the base name of both files. */
  seriesuid: string;
  mhdFileName: string;
  rawFileName: string;
  /** Header text, `\n` line ends, `ElementDataFile` last. */
  mhd: string;
  /** int16 little-endian voxels, x fastest then y then z. */
  raw: Buffer;
  dimSize: Vec3;
  elementSpacing: Vec3;
  offset: Vec3;
  nodules: Nodule[];
}

export interface DemoCompetitionSpec {
  readonly seed: number;
  readonly trainScans: number;
  readonly testScans: number;
  /** Voxels per axis (x, y, z). */
  readonly dimSize: readonly [number, number, number];
}

/** 8 train + 4 test scans of 128x128x80 int16 (2.5 MiB each, 30 MiB total): big enough to
 * exercise streaming and quotas, small enough to generate in well under a second. */
export const DEFAULT_DEMO_SPEC: DemoCompetitionSpec = Object.freeze({
  seed: 16,
  trainScans: 8,
  testScans: 4,
  dimSize: Object.freeze([128, 128, 80] as const),
});

/** Nominal intensities (HU) of each tissue class; voxels deviate by at most `noise`.
 * Exported so tests and demo scoring code can classify voxels without magic numbers. */
export const DEMO_HU = Object.freeze({
  air: -1000,
  softTissue: 40,
  lung: -850,
  nodule: 50,
  noise: 15,
});

/** Nodule diameters are drawn uniformly from this range (mm), like LUNA16's 3-30 mm. */
export const NODULE_DIAMETER_RANGE_MM = Object.freeze([4, 20] as const);

/** UID root: the TCIA prefix LUNA16 uses, with an arc (7777) that no real LIDC series uses,
 * so synthetic ids look familiar but can never be mistaken for a real series. */
const UID_ROOT = '1.3.6.1.4.1.14519.5.2.1.7777';
const SPLIT_CODE = { train: 1, test: 2 } as const;
/** Smallest axis we accept: the body/lung/nodule geometry needs some room. */
const MIN_DIM = 16;

export type DemoSplit = keyof typeof SPLIT_CODE;

/** mulberry32: tiny, fast, well-distributed 32-bit PRNG; returns floats in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** xorshift32 noise source returning integers in [-amp, amp] using only integer operators:
 * called once per voxel, and Math.* builtins are slow when called across realms (e.g. under
 * jest's VM context), which made the generator ~20x slower there. */
function intNoise(seed: number, amp: number): () => number {
  let x = seed | 0 || 0x2545f491; // xorshift state must be non-zero
  const span = 2 * amp + 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return ((x >>> 0) % span) - amp;
  };
}

/** Mixes (seed, split, index, stream) into one 32-bit seed (murmur3 finaliser per word),
 * so neighbouring scans and streams get unrelated PRNG sequences. */
function mixSeed(...words: number[]): number {
  let h = 0x9e3779b9;
  for (const w of words) {
    h = Math.imul(h ^ (w >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

function round(x: number, decimals: number): number {
  const f = 10 ** decimals;
  const r = Math.round(x * f) / f;
  return r === 0 ? 0 : r; // no "-0" in headers or CSV
}

function uniform(rand: () => number, lo: number, hi: number): number {
  return lo + (hi - lo) * rand();
}

function validateSpec(spec: DemoCompetitionSpec): void {
  if (!Number.isInteger(spec.seed)) throw new RangeError(`seed must be an integer, got ${spec.seed}`);
  for (const [name, n] of [
    ['trainScans', spec.trainScans],
    ['testScans', spec.testScans],
  ] as const) {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`${name} must be a non-negative integer, got ${n}`);
  }
  if (spec.dimSize.length !== 3 || spec.dimSize.some((d) => !Number.isInteger(d) || d < MIN_DIM || d > 2048)) {
    throw new RangeError(`dimSize must be 3 integers in [${MIN_DIM}, 2048], got ${spec.dimSize.join(' ')}`);
  }
}

/** Deterministic LUNA16-looking series UID; the split is its own component, so train and test
 * UIDs can never collide. At most 64 characters and no leading zeros, as DICOM requires. */
function makeSeriesUid(rand: () => number, split: DemoSplit): string {
  let digits = String(1 + Math.floor(rand() * 9));
  while (digits.length < 30) digits += String(Math.floor(rand() * 10));
  return `${UID_ROOT}.${SPLIT_CODE[split]}.${digits}`;
}

function formatHeader(uid: string, dim: readonly number[], spacing: Vec3, offset: Vec3): string {
  return [
    'ObjectType = Image',
    'NDims = 3',
    'BinaryData = True',
    'BinaryDataByteOrderMSB = False',
    'CompressedData = False',
    'TransformMatrix = 1 0 0 0 1 0 0 0 1',
    `Offset = ${offset.join(' ')}`,
    'CenterOfRotation = 0 0 0',
    'AnatomicalOrientation = RAI',
    `ElementSpacing = ${spacing.join(' ')}`,
    `DimSize = ${dim.join(' ')}`,
    'ElementType = MET_SHORT',
    `ElementDataFile = ${uid}.raw`,
    '',
  ].join('\n');
}

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Ellipsoid in voxel-index space: centre and semi-axes, per axis. */
interface Ellipsoid {
  c: Vec3;
  a: Vec3;
}

function buildScan(spec: DemoCompetitionSpec, split: DemoSplit, index: number): SyntheticScan {
  const [nx, ny, nz] = spec.dimSize;
  const rand = mulberry32(mixSeed(spec.seed, SPLIT_CODE[split], index, 0));
  const seriesuid = makeSeriesUid(rand, split);

  // Geometry. In-plane spacing is a multiple of 1/1024 mm (like 0.703125 in real scanners),
  // slice spacing one of the usual reconstruction intervals; both exact in decimal.
  const inPlane = Math.round(uniform(rand, 0.6, 0.8) * 1024) / 1024;
  const slice = [1.0, 1.25, 1.5, 2.0, 2.5][Math.floor(rand() * 5)];
  const spacing: Vec3 = [inPlane, inPlane, slice];
  const offset: Vec3 = [round(uniform(rand, -220, -180), 3), round(uniform(rand, -220, -180), 3), round(uniform(rand, -340, -260), 3)];

  // Anatomy in index space, scaled to the volume so any dimSize gets a plausible picture.
  const bodyCx = nx * uniform(rand, 0.48, 0.52);
  const bodyCy = ny * uniform(rand, 0.5, 0.54);
  const bodyAx = nx * uniform(rand, 0.42, 0.46);
  const bodyAy = ny * uniform(rand, 0.3, 0.36);
  const lungDx = nx * uniform(rand, 0.21, 0.23);
  const lungs: Ellipsoid[] = [-1, 1].map((side) => ({
    c: [bodyCx + side * lungDx, bodyCy - ny * uniform(rand, 0, 0.03), nz * uniform(rand, 0.48, 0.52)] as Vec3,
    a: [nx * uniform(rand, 0.16, 0.18), ny * uniform(rand, 0.22, 0.26), nz * uniform(rand, 0.38, 0.44)] as Vec3,
  }));

  const body: Ellipsoid = { c: [bodyCx, bodyCy, 0], a: [bodyAx, bodyAy, Infinity] };
  const nodules = placeNodules(rand, body, lungs, spacing, offset);

  // Fill: one pass, typed arrays only, no per-voxel allocation. Noise has its own stream so
  // changing the anatomy draws does not reshuffle every voxel's noise.
  const noise = intNoise(mixSeed(spec.seed, SPLIT_CODE[split], index, 1), DEMO_HU.noise);
  const vox = new Int16Array(nx * ny * nz);
  const invBx2 = 1 / (bodyAx * bodyAx);
  const invBy2 = 1 / (bodyAy * bodyAy);
  const lungRem = new Float64Array(lungs.length);
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      const row = nx * (y + ny * z);
      const by = (y - bodyCy) * (y - bodyCy) * invBy2;
      // Per-lung remaining budget along x on this row: inside iff ((x-cx)/ax)^2 <= rem.
      for (let k = 0; k < lungs.length; k++) {
        const l = lungs[k];
        lungRem[k] = 1 - ((y - l.c[1]) / l.a[1]) ** 2 - ((z - l.c[2]) / l.a[2]) ** 2;
      }
      for (let x = 0; x < nx; x++) {
        let hu: number = DEMO_HU.air;
        if ((x - bodyCx) * (x - bodyCx) * invBx2 + by <= 1) {
          hu = DEMO_HU.softTissue;
          for (let k = 0; k < lungs.length; k++) {
            const d = (x - lungs[k].c[0]) / lungs[k].a[0];
            if (d * d <= lungRem[k]) {
              hu = DEMO_HU.lung;
              break;
            }
          }
        }
        vox[row + x] = hu + noise();
      }
    }
  }

  // Nodules: solid spheres in mm, painted over whatever is there.
  for (const n of nodules) {
    const c = [(n.coordX - offset[0]) / spacing[0], (n.coordY - offset[1]) / spacing[1], (n.coordZ - offset[2]) / spacing[2]];
    const r = n.diameterMm / 2;
    const lo = c.map((ci, i) => Math.max(0, Math.floor(ci - r / spacing[i])));
    const hi = c.map((ci, i) => Math.min(spec.dimSize[i] - 1, Math.ceil(ci + r / spacing[i])));
    for (let z = lo[2]; z <= hi[2]; z++) {
      const dz = (z - c[2]) * spacing[2];
      for (let y = lo[1]; y <= hi[1]; y++) {
        const dy = (y - c[1]) * spacing[1];
        const row = nx * (y + ny * z);
        for (let x = lo[0]; x <= hi[0]; x++) {
          const dx = (x - c[0]) * spacing[0];
          if (dx * dx + dy * dy + dz * dz <= r * r) vox[row + x] = DEMO_HU.nodule + noise();
        }
      }
    }
  }

  const raw = Buffer.from(vox.buffer, vox.byteOffset, vox.byteLength);
  if (!HOST_IS_LITTLE_ENDIAN) raw.swap16(); // MetaImage says BinaryDataByteOrderMSB = False

  return {
    seriesuid,
    mhdFileName: `${seriesuid}.mhd`,
    rawFileName: `${seriesuid}.raw`,
    mhd: formatHeader(seriesuid, spec.dimSize, spacing, offset),
    raw,
    dimSize: [nx, ny, nz], // a copy: the spec may be frozen
    elementSpacing: spacing,
    offset,
    nodules,
  };
}

/** Normalised ellipsoid distance: < 1 inside, 1 on the surface. */
function ellipsoidNorm(e: Ellipsoid, p: Vec3): number {
  return p.reduce((s, v, i) => s + ((v - e.c[i]) / e.a[i]) ** 2, 0);
}

/** 1-3 non-overlapping nodules whose centres sit on voxel centres well inside a lung (and the
 * body, which clips the lungs), so each reported world position maps back to a voxel that is
 * nodule-valued and surrounded by lung. */
function placeNodules(rand: () => number, body: Ellipsoid, lungs: Ellipsoid[], spacing: Vec3, offset: Vec3): Nodule[] {
  const want = 1 + Math.floor(rand() * 3);
  const placed: { idx: Vec3; r: number }[] = [];
  const [dMin, dMax] = NODULE_DIAMETER_RANGE_MM;
  for (let attempt = 0; placed.length < want && attempt < 200; attempt++) {
    const lung = lungs[Math.floor(rand() * lungs.length)];
    // Anatomy scales with dimSize but nodules are in mm: in small volumes cap the diameter so
    // a nodule stays mostly in lung (at the default size the cap is ~17-21 mm).
    const lungMinMm = Math.min(lung.a[0] * spacing[0], lung.a[1] * spacing[1], lung.a[2] * spacing[2]);
    const diameter = round(uniform(rand, dMin, Math.max(dMin, Math.min(dMax, 1.4 * lungMinMm))), 2);
    const r = diameter / 2;
    // Sample in the lung shrunk by the radius (but never below 30 %), to keep most of the
    // sphere in lung tissue; then require the snapped centre to be strictly inside the lung.
    const u: Vec3 = [rand() * 2 - 1, rand() * 2 - 1, rand() * 2 - 1];
    if (u[0] * u[0] + u[1] * u[1] + u[2] * u[2] > 1) continue;
    const idx = u.map((ui, i) => {
      const aMm = lung.a[i] * spacing[i];
      const shrunk = Math.max(aMm - r, 0.3 * aMm) / spacing[i];
      return Math.round(lung.c[i] + ui * shrunk);
    }) as Vec3;
    const inLung = ellipsoidNorm(lung, idx) < 0.9 && ellipsoidNorm(body, idx) < 0.9;
    const clear = placed.every((p) => {
      const d2 = p.idx.reduce((s, v, i) => s + ((v - idx[i]) * spacing[i]) ** 2, 0);
      return d2 > (p.r + r + 2) ** 2;
    });
    if (inLung && clear) placed.push({ idx, r: diameter / 2 });
  }
  if (placed.length === 0) throw new Error('could not place a nodule; dimSize too small for the demo anatomy');
  // World mm = Offset + index * ElementSpacing (identity direction), rounded to 1 µm so the
  // CSV and the in-memory value are the same number.
  return placed.map(({ idx, r }) => ({
    coordX: round(offset[0] + idx[0] * spacing[0], 3),
    coordY: round(offset[1] + idx[1] * spacing[1], 3),
    coordZ: round(offset[2] + idx[2] * spacing[2], 3),
    diameterMm: r * 2, // exact: r is diameter / 2
  }));
}

/** Yields the split's scans one at a time, so callers writing them to disk or object storage
 * hold only one volume (2.5 MiB by default) in memory. Scan i is the same regardless of how
 * many scans are requested. */
export function* generateScans(split: DemoSplit, spec: DemoCompetitionSpec = DEFAULT_DEMO_SPEC): Generator<SyntheticScan> {
  if (split !== 'train' && split !== 'test') throw new RangeError(`split must be 'train' or 'test', got ${String(split)}`);
  validateSpec(spec);
  const count = split === 'train' ? spec.trainScans : spec.testScans;
  for (let i = 0; i < count; i++) yield buildScan(spec, split, i);
}

/** LUNA16 `annotations.csv` for the given scans: one row per nodule, `\n` line ends and a
 * trailing newline, header `seriesuid,coordX,coordY,coordZ,diameter_mm`. */
export function annotationsCsv(scans: Iterable<Pick<SyntheticScan, 'seriesuid' | 'nodules'>>): string {
  const lines = ['seriesuid,coordX,coordY,coordZ,diameter_mm'];
  for (const s of scans) {
    if (/[",\r\n]/.test(s.seriesuid)) throw new RangeError(`seriesuid cannot be written to CSV: ${JSON.stringify(s.seriesuid)}`);
    for (const n of s.nodules) lines.push(`${s.seriesuid},${n.coordX},${n.coordY},${n.coordZ},${n.diameterMm}`);
  }
  return lines.join('\n') + '\n';
}
