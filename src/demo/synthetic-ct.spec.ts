import { createHash } from 'node:crypto';
import {
  annotationsCsv,
  DEFAULT_DEMO_SPEC,
  DEMO_HU,
  DemoCompetitionSpec,
  generateScans,
  NODULE_DIAMETER_RANGE_MM,
  SyntheticScan,
} from './synthetic-ct';

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/** A small spec keeps the tests fast; the default spec is exercised once below. */
const SMALL: DemoCompetitionSpec = { seed: 7, trainScans: 3, testScans: 2, dimSize: [64, 64, 40] };

function voxel(scan: SyntheticScan, x: number, y: number, z: number): number {
  const [nx, ny] = scan.dimSize;
  return scan.raw.readInt16LE(2 * (x + nx * (y + ny * z)));
}

/** World mm -> nearest voxel index, identity direction. */
function toIndex(scan: SyntheticScan, world: [number, number, number]): [number, number, number] {
  return world.map((w, i) => Math.round((w - scan.offset[i]) / scan.elementSpacing[i])) as [number, number, number];
}

function headerFields(mhd: string): [string, string][] {
  return mhd
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const m = /^(\w+) = (.*)$/.exec(l);
      if (!m) throw new Error(`bad header line ${l}`);
      return [m[1], m[2]];
    });
}

describe('synthetic CT generator', () => {
  let defaultTrain: SyntheticScan[];
  let defaultTest: SyntheticScan[];
  let elapsedMs: number;

  beforeAll(() => {
    const t0 = performance.now();
    defaultTrain = [...generateScans('train')];
    defaultTest = [...generateScans('test')];
    elapsedMs = performance.now() - t0;
  });

  it('generates the default set: 8 train + 4 test scans of 128x128x80 int16', () => {
    expect(defaultTrain).toHaveLength(8);
    expect(defaultTest).toHaveLength(4);
    for (const s of [...defaultTrain, ...defaultTest]) {
      expect(s.dimSize).toEqual([128, 128, 80]);
      expect(s.raw.length).toBe(128 * 128 * 80 * 2);
    }
    // Generous bound: it takes a fraction of a second; this only catches an accidental blow-up.
    expect(elapsedMs).toBeLessThan(20_000);
  });

  it('is byte-identical for the same spec, pinned by SHA-256', () => {
    const again = generateScans('train').next().value as SyntheticScan;
    const first = defaultTrain[0];
    expect(sha256(again.raw)).toBe(sha256(first.raw));
    expect(again.mhd).toBe(first.mhd);
    // Pinned so that any change to the demo data (which would invalidate published hashes
    // and leaderboards) is a deliberate, reviewed change.
    expect(sha256(first.raw)).toBe(PINNED.raw);
    expect(sha256(first.mhd)).toBe(PINNED.mhd);
    expect(sha256(annotationsCsv([...defaultTrain, ...defaultTest]))).toBe(PINNED.csv);
  });

  it('depends on the seed and on the scan index', () => {
    const other = generateScans('train', { ...DEFAULT_DEMO_SPEC, seed: 17 }).next().value as SyntheticScan;
    expect(sha256(other.raw)).not.toBe(sha256(defaultTrain[0].raw));
    expect(other.seriesuid).not.toBe(defaultTrain[0].seriesuid);
    expect(new Set(defaultTrain.map((s) => sha256(s.raw))).size).toBe(defaultTrain.length);
  });

  it('scan i does not depend on how many scans are requested', () => {
    const fewer = [...generateScans('train', { ...SMALL, trainScans: 1 })];
    const more = [...generateScans('train', SMALL)];
    expect(fewer[0].mhd).toBe(more[0].mhd);
    expect(fewer[0].raw.equals(more[0].raw)).toBe(true);
  });

  it('uses distinct LUNA16-style series UIDs as file names, different between splits', () => {
    const all = [...defaultTrain, ...defaultTest];
    expect(new Set(all.map((s) => s.seriesuid)).size).toBe(all.length);
    for (const s of all) {
      expect(s.seriesuid).toMatch(/^1\.3\.6\.1\.4\.1\.14519\.5\.2\.1(\.(0|[1-9]\d*))+$/);
      expect(s.seriesuid.length).toBeLessThanOrEqual(64);
      expect(s.mhdFileName).toBe(`${s.seriesuid}.mhd`);
      expect(s.rawFileName).toBe(`${s.seriesuid}.raw`);
    }
    expect(defaultTrain.every((s) => s.seriesuid.includes('.7777.1.'))).toBe(true);
    expect(defaultTest.every((s) => s.seriesuid.includes('.7777.2.'))).toBe(true);
  });

  it('writes a LUNA16-style header with ElementDataFile last and varying geometry', () => {
    const s = defaultTrain[0];
    expect(s.mhd.endsWith('\n')).toBe(true);
    expect(s.mhd).not.toContain('\r');
    const fields = headerFields(s.mhd);
    expect(fields.map(([k]) => k)).toEqual([
      'ObjectType',
      'NDims',
      'BinaryData',
      'BinaryDataByteOrderMSB',
      'CompressedData',
      'TransformMatrix',
      'Offset',
      'CenterOfRotation',
      'AnatomicalOrientation',
      'ElementSpacing',
      'DimSize',
      'ElementType',
      'ElementDataFile',
    ]);
    const f = new Map(fields);
    expect(f.get('ObjectType')).toBe('Image');
    expect(f.get('NDims')).toBe('3');
    expect(f.get('BinaryDataByteOrderMSB')).toBe('False');
    expect(f.get('TransformMatrix')).toBe('1 0 0 0 1 0 0 0 1');
    expect(f.get('ElementType')).toBe('MET_SHORT');
    expect(f.get('ElementDataFile')).toBe(s.rawFileName);
    expect(f.get('DimSize')).toBe('128 128 80');
    expect(f.get('Offset')!.split(' ').map(Number)).toEqual(s.offset);
    expect(f.get('ElementSpacing')!.split(' ').map(Number)).toEqual(s.elementSpacing);

    const all = [...defaultTrain, ...defaultTest];
    for (const scan of all) {
      const [sx, sy, sz] = scan.elementSpacing;
      expect(sx).toBe(sy);
      expect(sx).toBeGreaterThanOrEqual(0.6);
      expect(sx).toBeLessThanOrEqual(0.8);
      expect(sz).toBeGreaterThanOrEqual(1);
      expect(sz).toBeLessThanOrEqual(2.5);
      expect(scan.offset[0]).toBeGreaterThanOrEqual(-220);
      expect(scan.offset[0]).toBeLessThanOrEqual(-180);
      expect(scan.offset[2]).toBeGreaterThanOrEqual(-340);
      expect(scan.offset[2]).toBeLessThanOrEqual(-260);
    }
    expect(new Set(all.map((x) => x.offset.join())).size).toBe(all.length);
    expect(new Set(all.map((x) => x.elementSpacing.join())).size).toBeGreaterThan(1);
  });

  it('has HU-like anatomy: air outside, soft tissue body wall, lungs', () => {
    const s = defaultTrain[0];
    const [nx, ny, nz] = s.dimSize;
    const within = (v: number, hu: number) => Math.abs(v - hu) <= DEMO_HU.noise;
    const zc = Math.floor(nz / 2);
    expect(within(voxel(s, 0, 0, zc), DEMO_HU.air)).toBe(true);
    expect(within(voxel(s, nx - 1, ny - 1, 0), DEMO_HU.air)).toBe(true);
    // Between the lungs (mediastinum) is soft tissue.
    expect(within(voxel(s, nx / 2, ny / 2, zc), DEMO_HU.softTissue)).toBe(true);
    // Each lung centre is lung (or nodule, if one happens to sit there).
    for (const x of [Math.round(nx * 0.3), Math.round(nx * 0.7)]) {
      const v = voxel(s, x, Math.round(ny * 0.5), zc);
      expect(within(v, DEMO_HU.lung) || within(v, DEMO_HU.nodule)).toBe(true);
    }
    // Every voxel belongs to one of the classes (nodule and soft tissue overlap in HU).
    const classes = [DEMO_HU.air, DEMO_HU.lung, DEMO_HU.softTissue, DEMO_HU.nodule];
    const counts = new Map<number, number>();
    for (let i = 0; i < s.raw.length; i += 2) {
      const v = s.raw.readInt16LE(i);
      const c = classes.find((hu) => within(v, hu));
      if (c === undefined) throw new Error(`voxel ${i / 2} = ${v} HU is in no class`);
      counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    expect(counts.get(DEMO_HU.air)).toBeGreaterThan(0);
    expect(counts.get(DEMO_HU.lung)).toBeGreaterThan(0);
    // There is noise: not every air voxel is exactly -1000.
    const sample = Array.from({ length: 100 }, (_, x) => voxel(s, x, 0, 0));
    expect(new Set(sample).size).toBeGreaterThan(5);
  });

  it('places 1-3 nodules per scan whose world centres are nodule voxels inside the lungs and the scan', () => {
    for (const s of [...defaultTrain, ...defaultTest, ...generateScans('train', SMALL), ...generateScans('test', SMALL)]) {
      expect(s.nodules.length).toBeGreaterThanOrEqual(1);
      expect(s.nodules.length).toBeLessThanOrEqual(3);
      for (const n of s.nodules) {
        expect(n.diameterMm).toBeGreaterThanOrEqual(NODULE_DIAMETER_RANGE_MM[0]);
        expect(n.diameterMm).toBeLessThanOrEqual(NODULE_DIAMETER_RANGE_MM[1]);
        const world: [number, number, number] = [n.coordX, n.coordY, n.coordZ];
        // Inside the world bounding box of voxel centres.
        world.forEach((w, i) => {
          expect(w).toBeGreaterThanOrEqual(s.offset[i]);
          expect(w).toBeLessThanOrEqual(s.offset[i] + (s.dimSize[i] - 1) * s.elementSpacing[i]);
        });
        const [x, y, z] = toIndex(s, world);
        // The world position is on a voxel centre (to the 1 µm rounding of the CSV).
        world.forEach((w, i) => expect(Math.abs(w - (s.offset[i] + [x, y, z][i] * s.elementSpacing[i]))).toBeLessThan(1e-3));
        expect(Math.abs(voxel(s, x, y, z) - DEMO_HU.nodule)).toBeLessThanOrEqual(DEMO_HU.noise);
        // Just beyond the rim the nodule ends and, in most directions, lung begins (a large
        // nodule near the edge of a lung may touch the body wall on one side).
        const probes: number[] = [];
        for (let axis = 0; axis < 3; axis++) {
          const beyond = Math.ceil(n.diameterMm / 2 / s.elementSpacing[axis]) + 1;
          for (const sign of [-1, 1]) {
            const p = [x, y, z];
            p[axis] += sign * beyond;
            if (p[axis] >= 0 && p[axis] < s.dimSize[axis]) probes.push(voxel(s, p[0], p[1], p[2]));
          }
        }
        expect(probes.filter((v) => Math.abs(v - DEMO_HU.lung) <= DEMO_HU.noise).length).toBeGreaterThanOrEqual(3);
      }
    }
  });

  it('writes annotations.csv in LUNA16 format', () => {
    const csv = annotationsCsv(defaultTrain);
    const lines = csv.split('\n');
    expect(lines[0]).toBe('seriesuid,coordX,coordY,coordZ,diameter_mm');
    expect(lines.at(-1)).toBe('');
    expect(csv).not.toContain('\r');
    const rows = lines.slice(1, -1).map((l) => l.split(','));
    expect(rows).toHaveLength(defaultTrain.reduce((n, s) => n + s.nodules.length, 0));
    const s0 = defaultTrain[0];
    const n0 = s0.nodules[0];
    expect(rows[0]).toEqual([s0.seriesuid, String(n0.coordX), String(n0.coordY), String(n0.coordZ), String(n0.diameterMm)]);
    for (const r of rows) for (const v of r.slice(1)) expect(Number.isFinite(Number(v))).toBe(true);
    expect(annotationsCsv([])).toBe('seriesuid,coordX,coordY,coordZ,diameter_mm\n');
  });

  it('rejects bad specs and splits', () => {
    expect(() => generateScans('train', { ...SMALL, dimSize: [8, 64, 40] }).next()).toThrow(RangeError);
    expect(() => generateScans('train', { ...SMALL, dimSize: [64.5, 64, 40] }).next()).toThrow(/dimSize/);
    expect(() => generateScans('train', { ...SMALL, trainScans: -1 }).next()).toThrow(/trainScans/);
    expect(() => generateScans('validation' as 'train', SMALL).next()).toThrow(/split/);
    expect(() => annotationsCsv([{ seriesuid: 'a,b', nodules: [] }])).toThrow(/CSV/);
  });
});

const PINNED = {
  raw: '31e4df117b63a8e8696336761e49e59aedcf7f134954d25c6d14d287f5827eac',
  mhd: '3be5afcd2490a8a89689ae3c1613a9c3470475f584b438538a67b267c0dfd60d',
  csv: '125a13c192dbf000b29c32543cb56d5ddb09e6917ad4f4f4ae54c33e2678888e',
};
