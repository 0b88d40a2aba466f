import { type MetaImageHeader, MET_ELEMENT_TYPE_BYTES, MetaImageHeaderError, parseMetaImageHeader } from '../datasets/metaimage-header';

/**
 * The MetaImage header keys that geometry and decoding need; every other key (PatientName,
 * StudyDate, Comment, AcquisitionDate, ObjectSubType — free text —, … whatever a converter wrote)
 * is dropped. Synonyms stay as written (the strict parser refuses two of them at once).
 */
export const KEPT_METAIMAGE_KEYS: readonly string[] = [
  'ObjectType',
  'NDims',
  'DimSize',
  'ElementType',
  'ElementNumberOfChannels',
  'ElementSpacing',
  'ElementSize',
  'Offset',
  'Origin',
  'Position',
  'TransformMatrix',
  'Rotation',
  'Orientation',
  'CenterOfRotation',
  'AnatomicalOrientation',
  'BinaryData',
  'BinaryDataByteOrderMSB',
  'ElementByteOrderMSB',
  'CompressedData',
  'CompressedDataSize',
  'HeaderSize',
];

const NUMBERS = (v: string) =>
  v
    .trim()
    .split(/\s+/)
    .every((t) => t !== '' && Number.isFinite(Number(t)));
const INTEGER = (v: string) => /^\s*\d+\s*$/.test(v);
const BOOLEAN = (v: string) => /^\s*(True|False)\s*$/i.test(v);

/** What each kept key's value may be: a value that is not (a name after a number, say) refuses the header. */
const VALUE_OK: Readonly<Record<string, (v: string) => boolean>> = {
  ObjectType: (v) => v.trim() === 'Image',
  NDims: (v) => v.trim() === '3',
  DimSize: NUMBERS,
  ElementType: (v) => /^\s*MET_[A-Z]+\s*$/.test(v),
  ElementNumberOfChannels: INTEGER,
  ElementSpacing: NUMBERS,
  ElementSize: NUMBERS,
  Offset: NUMBERS,
  Origin: NUMBERS,
  Position: NUMBERS,
  TransformMatrix: NUMBERS,
  Rotation: NUMBERS,
  Orientation: NUMBERS,
  CenterOfRotation: NUMBERS,
  AnatomicalOrientation: (v) => /^\s*[RLAPSI?]{3}\s*$/.test(v),
  BinaryData: BOOLEAN,
  BinaryDataByteOrderMSB: BOOLEAN,
  ElementByteOrderMSB: BOOLEAN,
  CompressedData: BOOLEAN,
  CompressedDataSize: INTEGER,
  HeaderSize: INTEGER,
};

export interface CleansedHeader {
  text: string;
  header: MetaImageHeader;
  /** The voxel file the source header named. */
  sourceDataFile: string;
  /** Keys dropped, as written in the source. */
  dropped: string[];
  /** What the voxel file must be, uncompressed: product of DimSize × element size. */
  expectedRawBytes: number | undefined;
}

/**
 * Rewrites a `.mhd` header to only the kept keys, in their original order, with
 * `ElementDataFile` (last, as MetaIO requires) renamed to `dataFile`. Throws
 * MetaImageHeaderError for a header the strict parser refuses.
 */
export function cleanseMetaImageHeader(source: string, dataFile: string): CleansedHeader {
  const header = parseMetaImageHeader(source);
  const lines: string[] = [];
  const dropped: string[] = [];
  for (const [key, value] of header.fields) {
    if (key === 'ElementDataFile') continue;
    if (!KEPT_METAIMAGE_KEYS.includes(key)) dropped.push(key);
    else if (VALUE_OK[key]?.(value) !== true) throw new MetaImageHeaderError(`the value of ${key} is not one it may have`);
    else lines.push(`${key} = ${value.trim()}`);
  }
  lines.push(`ElementDataFile = ${dataFile}`);
  const compressed = /^true$/i.test(header.fields.get('CompressedData') ?? 'False');
  const channels = Number(header.fields.get('ElementNumberOfChannels') ?? '1');
  const expectedRawBytes = compressed
    ? undefined
    : header.dimSize.reduce((n, d) => n * d, 1) * MET_ELEMENT_TYPE_BYTES[header.elementType] * channels;
  return {
    text: lines.join('\n') + '\n',
    header: parseMetaImageHeader(lines.join('\n')),
    sourceDataFile: header.elementDataFile,
    dropped,
    expectedRawBytes,
  };
}
