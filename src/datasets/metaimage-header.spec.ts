import { generateScans } from '../demo/synthetic-ct';
import {
  MAX_METAIMAGE_HEADER_BYTES,
  MET_ELEMENT_TYPE_BYTES,
  MetaImageHeaderError,
  parseMetaImageHeader,
  worldBoundingBox,
} from './metaimage-header';

/** A header in exactly the layout of LUNA16's subset*.mhd files (values chosen to be
 * hand-checkable). */
const LUNA_HEADER = [
  'ObjectType = Image',
  'NDims = 3',
  'BinaryData = True',
  'BinaryDataByteOrderMSB = False',
  'CompressedData = False',
  'TransformMatrix = 1 0 0 0 1 0 0 0 1',
  'Offset = -195 -195 -378',
  'CenterOfRotation = 0 0 0',
  'AnatomicalOrientation = RAI',
  'ElementSpacing = 0.75 0.75 2.5',
  'DimSize = 512 512 121',
  'ElementType = MET_SHORT',
  'ElementDataFile = 1.3.6.1.4.1.14519.5.2.1.6279.6001.100225287222365663678666836860.raw',
  '',
].join('\n');

/** Replaces (or with `null` removes) one `Key = ...` line of the LUNA header. */
function withLine(key: string, line: string | null, base = LUNA_HEADER): string {
  const lines = base.split('\n');
  const i = lines.findIndex((l) => l.startsWith(`${key} =`));
  if (i < 0) throw new Error(`no ${key} in base header`);
  if (line === null) lines.splice(i, 1);
  else lines[i] = line;
  return lines.join('\n');
}

/** Inserts lines before ElementDataFile (which must stay last). */
function withExtra(...extra: string[]): string {
  const lines = LUNA_HEADER.split('\n');
  lines.splice(lines.length - 2, 0, ...extra);
  return lines.join('\n');
}

function expectHeaderError(text: string, ...fragments: (string | RegExp)[]): void {
  let caught: unknown;
  try {
    parseMetaImageHeader(text);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(MetaImageHeaderError);
  const message = (caught as Error).message;
  for (const f of fragments) expect(message).toMatch(f);
}

describe('parseMetaImageHeader', () => {
  it('parses a LUNA16-style header', () => {
    const h = parseMetaImageHeader(LUNA_HEADER);
    expect(h.nDims).toBe(3);
    expect(h.dimSize).toEqual([512, 512, 121]);
    expect(h.elementSpacing).toEqual([0.75, 0.75, 2.5]);
    expect(h.offset).toEqual([-195, -195, -378]);
    expect(h.transformMatrix).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    expect(h.elementType).toBe('MET_SHORT');
    expect(h.elementDataFile).toBe('1.3.6.1.4.1.14519.5.2.1.6279.6001.100225287222365663678666836860.raw');
    expect([...h.fields.keys()]).toEqual([
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
    expect(h.fields.get('AnatomicalOrientation')).toBe('RAI');
    expect(h.fields.get('BinaryDataByteOrderMSB')).toBe('False');
  });

  it('parses real-world number spellings (float32 noise, exponents, signs)', () => {
    const h = parseMetaImageHeader(
      withLine(
        'ElementSpacing',
        'ElementSpacing = 0.7617189884185791 7.617189884185791e-1 +2.5',
        withLine('Offset', 'Offset = -198.100006 -195.000000 -335.209991'),
      ),
    );
    expect(h.elementSpacing).toEqual([0.7617189884185791, 0.7617189884185791, 2.5]);
    expect(h.offset).toEqual([-198.100006, -195, -335.209991]);
  });

  it('tolerates \\r\\n line ends, blank lines, missing final newline and extra spaces', () => {
    const messy = LUNA_HEADER.trimEnd()
      .split('\n')
      .map((l) => `  ${l.replace(' = ', '   =\t')}  `)
      .join('\r\n')
      .replace('NDims', '\r\nNDims');
    const h = parseMetaImageHeader(messy);
    expect(h).toEqual(parseMetaImageHeader(LUNA_HEADER));
  });

  it('falls back to ElementSize and accepts Origin / Position for Offset', () => {
    const sizeOnly = withLine('ElementSpacing', 'ElementSize = 0.5 0.5 1');
    expect(parseMetaImageHeader(sizeOnly).elementSpacing).toEqual([0.5, 0.5, 1]);
    // ElementSpacing wins when both are present (ElementSize may be larger, e.g. slice gaps).
    expect(parseMetaImageHeader(withExtra('ElementSize = 9 9 9')).elementSpacing).toEqual([0.75, 0.75, 2.5]);
    expect(parseMetaImageHeader(withLine('Offset', 'Origin = 1 2 3')).offset).toEqual([1, 2, 3]);
    expect(parseMetaImageHeader(withLine('Offset', 'Position = 4 5 6')).offset).toEqual([4, 5, 6]);
    expect(parseMetaImageHeader(withLine('TransformMatrix', 'Rotation = 1 0 0 0 1 0 0 0 1')).transformMatrix).toEqual([
      1, 0, 0, 0, 1, 0, 0, 0, 1,
    ]);
  });

  it('defaults offset to 0, spacing to 1 and direction to identity when absent', () => {
    const h = parseMetaImageHeader(withLine('Offset', null, withLine('ElementSpacing', null, withLine('TransformMatrix', null))));
    expect(h.offset).toEqual([0, 0, 0]);
    expect(h.elementSpacing).toEqual([1, 1, 1]);
    expect(h.transformMatrix).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
  });

  describe('rejects', () => {
    it.each(['NDims', 'DimSize', 'ElementType', 'ElementDataFile'])('a header without %s', (key) => {
      expectHeaderError(withLine(key, null), key, /missing/);
    });

    it('keys in the wrong case (keys are case-sensitive)', () => {
      expectHeaderError(withLine('NDims', 'ndims = 3'), 'NDims', /missing/);
    });

    it('an empty required value', () => {
      expectHeaderError(withLine('ElementType', 'ElementType ='), 'ElementType', /empty/);
    });

    it.each([
      ['Offset', 'Offset = -195 NaN -378'],
      ['Offset', 'Offset = 1e999 0 0'],
      ['Offset', 'Offset = 0x10 0 0'],
      ['ElementSpacing', 'ElementSpacing = 0.75 Infinity 2.5'],
      ['ElementSpacing', 'ElementSpacing = 0.75 0.75 2.5mm'],
      ['TransformMatrix', 'TransformMatrix = 1 0 0 0 1 0 0 0 -'],
      ['DimSize', 'DimSize = 512 five 121'],
    ])('a non-finite or malformed number in %s: %s', (key, line) => {
      expectHeaderError(withLine(key, line), key, /non-finite or malformed/);
    });

    it.each([
      ['DimSize', 'DimSize = 512 512'],
      ['Offset', 'Offset = 1 2 3 4'],
      ['ElementSpacing', 'ElementSpacing = 0.75'],
      ['TransformMatrix', 'TransformMatrix = 1 0 0 0 1 0 0 0'],
    ])('the wrong count of numbers in %s: %s', (key, line) => {
      expectHeaderError(withLine(key, line), key, /must have \d+ numbers/);
    });

    it.each(['NDims = 2', 'NDims = 4', 'NDims = 3.0', 'NDims = three'])('%s (only 3-D scans)', (line) => {
      expectHeaderError(withLine('NDims', line), 'NDims', /must be 3/);
    });

    it.each(['DimSize = 512 0 121', 'DimSize = 512 512.5 121', 'DimSize = -512 512 121', 'DimSize = 512 512 1e20'])('%s', (line) => {
      expectHeaderError(withLine('DimSize', line), 'DimSize', /positive integers/);
    });

    it.each([
      ['ElementSpacing', 'ElementSpacing = 0 0.75 2.5'],
      ['ElementSpacing', 'ElementSpacing = 0.75 -0.75 2.5'],
      ['ElementSize', 'ElementSize = 0.75 0.75 0'],
    ])('non-positive spacing in %s: %s', (key, line) => {
      expectHeaderError(withLine('ElementSpacing', line), key, /> 0/);
    });

    it('duplicate keys', () => {
      expectHeaderError(withExtra('Offset = 0 0 0'), 'Offset', /more than once/);
    });

    it('two synonyms for the same field', () => {
      expectHeaderError(withExtra('Origin = 0 0 0'), 'Offset', 'Origin', /synonyms/);
      expectHeaderError(withExtra('Orientation = 1 0 0 0 1 0 0 0 1'), 'TransformMatrix', 'Orientation', /synonyms/);
    });

    it.each(['this is not a field', '= 3', 'NDims: 3', '1Key = x', 'Two Words = x', 'Key-Name = x'])(
      'a line that is not Key = Value: %s',
      (line) => {
        expectHeaderError(withExtra(line), /line \d+ is not "Key = Value"/);
      },
    );

    it('fields after ElementDataFile', () => {
      expectHeaderError(LUNA_HEADER + 'Offset2 = 1 2 3\n', 'ElementDataFile', /last/, 'Offset2');
    });

    it.each(['../other.raw', 'sub/dir.raw', 'C:\\scan.raw', 'LOCAL', 'LIST', 'LIST 2D', 'slice%03d.raw 1 100 1', '..'])(
      'ElementDataFile = %s',
      (file) => {
        expectHeaderError(withLine('ElementDataFile', `ElementDataFile = ${file}`), 'ElementDataFile');
      },
    );

    it('an unknown ElementType', () => {
      expectHeaderError(withLine('ElementType', 'ElementType = MET_SHORT_ARRAY'), 'ElementType', /not a supported/);
      expectHeaderError(withLine('ElementType', 'ElementType = toString'), 'ElementType', /not a supported/);
    });

    it('a header over 64 KiB', () => {
      const padding = `Comment = ${'x'.repeat(MAX_METAIMAGE_HEADER_BYTES)}`;
      expect(MAX_METAIMAGE_HEADER_BYTES).toBe(65536);
      expectHeaderError(withExtra(padding), /over the 65536-byte limit/);
      // Exactly at the limit is fine.
      const base = withExtra('Comment = ');
      const exact = withExtra(`Comment = ${'y'.repeat(MAX_METAIMAGE_HEADER_BYTES - Buffer.byteLength(base))}`);
      expect(Buffer.byteLength(exact)).toBe(MAX_METAIMAGE_HEADER_BYTES);
      expect(() => parseMetaImageHeader(exact)).not.toThrow();
    });
  });
});

describe('worldBoundingBox', () => {
  it('covers voxel centres for an identity direction (Offset + index x spacing)', () => {
    // x, y: -195 + 511 * 0.75 = 188.25; z: -378 + 120 * 2.5 = -78.
    expect(worldBoundingBox(parseMetaImageHeader(LUNA_HEADER))).toEqual({ min: [-195, -195, -378], max: [188.25, 188.25, -78] });
  });

  it('is a single point for a one-voxel image', () => {
    const h = parseMetaImageHeader(withLine('DimSize', 'DimSize = 1 1 1'));
    expect(worldBoundingBox(h)).toEqual({ min: [-195, -195, -378], max: [-195, -195, -378] });
  });

  it('handles flipped axes (LPS-style direction)', () => {
    const h = parseMetaImageHeader(
      withLine(
        'TransformMatrix',
        'TransformMatrix = -1 0 0 0 -1 0 0 0 1',
        withLine(
          'Offset',
          'Offset = 100 100 0',
          withLine('ElementSpacing', 'ElementSpacing = 0.5 0.5 2', withLine('DimSize', 'DimSize = 201 101 11')),
        ),
      ),
    );
    // x: 100 - 200 * 0.5 = 0; y: 100 - 100 * 0.5 = 50; z: 0 + 10 * 2 = 20.
    expect(worldBoundingBox(h)).toEqual({ min: [0, 50, 0], max: [100, 100, 20] });
  });

  it('treats triple i of TransformMatrix as the direction of index axis i (ITK convention)', () => {
    // 90 degrees about z: index axis 0 runs along +y, index axis 1 along -x.
    const h = parseMetaImageHeader(
      withLine(
        'TransformMatrix',
        'TransformMatrix = 0 1 0 -1 0 0 0 0 1',
        withLine('Offset', 'Offset = 0 0 0', withLine('ElementSpacing', 'ElementSpacing = 1 2 3', withLine('DimSize', 'DimSize = 11 6 5'))),
      ),
    );
    // axis 0: 10 voxels x 1 mm along +y; axis 1: 5 x 2 mm along -x; axis 2: 4 x 3 mm along +z.
    expect(worldBoundingBox(h)).toEqual({ min: [-10, 0, 0], max: [0, 10, 12] });
  });

  it('takes min/max over all 8 corners for an oblique direction', () => {
    const c = Math.SQRT1_2;
    const h = parseMetaImageHeader(
      withLine(
        'TransformMatrix',
        `TransformMatrix = ${c} ${c} 0 ${-c} ${c} 0 0 0 1`,
        withLine(
          'Offset',
          'Offset = 0 0 5',
          withLine('ElementSpacing', 'ElementSpacing = 1 1 1', withLine('DimSize', 'DimSize = 11 11 2')),
        ),
      ),
    );
    const box = worldBoundingBox(h);
    // Corners in the xy-plane: 0, 10(c, c), 10(-c, c), 10(0, 2c).
    const expected = { min: [-10 * c, 0, 5], max: [10 * c, 20 * c, 6] };
    for (let i = 0; i < 3; i++) {
      expect(box.min[i]).toBeCloseTo(expected.min[i], 12);
      expect(box.max[i]).toBeCloseTo(expected.max[i], 12);
    }
  });
});

describe('round trip with the synthetic demo generator', () => {
  it('parses every generated header and its box contains that scan and its nodules', () => {
    const spec = { seed: 3, trainScans: 3, testScans: 2, dimSize: [48, 40, 24] as [number, number, number] };
    const scans = [...generateScans('train'), ...generateScans('test'), ...generateScans('train', spec), ...generateScans('test', spec)];
    for (const s of scans) {
      const h = parseMetaImageHeader(s.mhd);
      expect(h.dimSize).toEqual(s.dimSize);
      expect(h.elementSpacing).toEqual(s.elementSpacing);
      expect(h.offset).toEqual(s.offset);
      expect(h.elementDataFile).toBe(s.rawFileName);
      expect(h.dimSize.reduce((a, b) => a * b, 1) * MET_ELEMENT_TYPE_BYTES[h.elementType]).toBe(s.raw.length);
      const box = worldBoundingBox(h);
      expect(box.min).toEqual(s.offset);
      for (const n of s.nodules) {
        [n.coordX, n.coordY, n.coordZ].forEach((w, i) => {
          expect(w).toBeGreaterThanOrEqual(box.min[i]);
          expect(w).toBeLessThanOrEqual(box.max[i]);
        });
      }
    }
  });
});
