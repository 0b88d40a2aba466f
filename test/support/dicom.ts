import dcmjs from 'dcmjs';
import { ANNEX_E_ROWS } from '../../src/ingest/annex-e/table-e1-1.generated';

type Element = { vr: string; Value?: unknown[] };
type Dataset = Record<string, Element>;

const dictionary = (dcmjs.data.DicomMetaDictionary as unknown as { dictionary: Record<string, { vr: string } | undefined> }).dictionary;

/** The marker every identifying text value carries: none may survive de-identification. */
export const PHI = 'PHI';
/** The root of every UID the synthetic export makes up for the table's UID attributes. */
export const EXPORT_UID_ROOT = '1.2.826.0.1.3680043.999.';

/** The attribute's VR from dcmjs's dictionary; for one newer than it, a guess from its name. */
export function vrOf(tag: string, name = ''): string {
  const vr = dictionary[`(${tag.slice(0, 4)},${tag.slice(4)})`]?.vr;
  if (vr !== undefined) return vr.split(' or ')[0];
  if (/Sequence$/.test(name)) return 'SQ';
  if (/DateTime$/.test(name)) return 'DT';
  if (/Comment$/.test(name)) return 'LT';
  return 'LO';
}

/** A value of the VR that carries the PHI marker wherever the VR can hold text. */
function phiValue(tag: string, vr: string, keyword: string): Element {
  switch (vr) {
    case 'PN':
      return { vr, Value: [{ Alphabetic: `${PHI}^${keyword}` }] };
    case 'DA':
      return { vr, Value: ['19800101'] };
    case 'TM':
      return { vr, Value: ['101010'] };
    case 'DT':
      return { vr, Value: ['19800101101010'] };
    case 'DS':
      return { vr, Value: ['70.5'] };
    case 'IS':
      return { vr, Value: ['7'] };
    case 'AS':
      return { vr, Value: ['045Y'] };
    case 'CS':
      return { vr, Value: [`${PHI}`] };
    case 'SH':
    case 'AE':
      return { vr, Value: [`${PHI}-${tag.slice(4)}`] };
    case 'US':
    case 'UL':
    case 'SS':
    case 'SL':
      return { vr, Value: [7] };
    case 'UI':
      // A well-formed UID of the export's own root: none may survive.
      return { vr, Value: [`${EXPORT_UID_ROOT}${parseInt(tag, 16)}`] };
    case 'FL':
    case 'FD':
      return { vr, Value: [7.5] };
    case 'SV':
    case 'UV':
    case 'AT':
      return { vr: 'LO', Value: [`${PHI} ${keyword}`] };
    case 'OB':
    case 'OW':
    case 'OD':
    case 'OF':
    case 'OL':
    case 'OV':
    case 'UN': {
      const bytes = Buffer.from(`${PHI} ${keyword}`.padEnd(Math.ceil((PHI.length + keyword.length + 1) / 8) * 8, '_'));
      return { vr, Value: [bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)] };
    }
    case 'UR':
      return { vr, Value: [`http://${PHI}.example/${keyword}`] };
    case 'SQ':
      // Nested two deep: identity in an item, and in an item of a sequence in that item.
      return {
        vr,
        Value: [
          {
            '00100010': { vr: 'PN', Value: [{ Alphabetic: `${PHI}^In^${keyword}` }] },
            '00081030': { vr: 'LO', Value: [`${PHI} nested ${keyword}`] },
            '0040A730': {
              vr: 'SQ',
              Value: [
                {
                  '0040A123': { vr: 'PN', Value: [{ Alphabetic: `${PHI}^Deep^${keyword}` }] },
                  '00080100': { vr: 'SH', Value: [`${PHI}7`] },
                  '00080104': { vr: 'LO', Value: [`${PHI} deep meaning`] },
                },
              ],
            },
          },
        ],
      };
    default:
      return { vr, Value: [`${PHI} ${keyword}`] };
  }
}

export interface SyntheticInstance {
  study: string;
  series: string;
  sop: string;
  frameOfReference: string;
  patientId: string;
  /** ReferencedSOPInstanceUID (in a sequence the profile keeps, SourceImageSequence). */
  references?: string;
  studyDate: string;
  acquisitionDate: string;
  birthDate: string;
  burnedIn?: boolean;
  /** Default CT Image Storage. */
  sopClass?: string;
  /** Default explicit VR little endian. */
  transferSyntax?: string;
  pixels: Uint16Array;
}

/**
 * A CT image carrying PHI in every attribute of the profile, private tags, other person names
 * and nested sequences; what the ingest tests must see gone.
 */
export function syntheticDicom(i: SyntheticInstance): Buffer {
  const ds: Dataset = {};
  // Every attribute Table E.1-1 names (its exact rows) carries PHI.
  for (const row of ANNEX_E_ROWS) {
    if (row.tagKind !== 'exact' || row.tag.startsWith('0002')) continue;
    ds[row.tag] = phiValue(row.tag, vrOf(row.tag, row.name), row.name.replace(/\W+/g, ''));
  }
  Object.assign(ds, {
    '00080016': { vr: 'UI', Value: [i.sopClass ?? '1.2.840.10008.5.1.4.1.1.2'] },
    '00080018': { vr: 'UI', Value: [i.sop] },
    '00080014': { vr: 'UI', Value: ['1.2.826.0.1.3680043.999.1'] },
    '00080020': { vr: 'DA', Value: [i.studyDate] },
    '00080022': { vr: 'DA', Value: [i.acquisitionDate] },
    '00080030': { vr: 'TM', Value: ['083000'] },
    '00080060': { vr: 'CS', Value: ['CT'] },
    '00080070': { vr: 'LO', Value: ['Scanner Co'] },
    '00100010': { vr: 'PN', Value: [{ Alphabetic: `${PHI}^Jane^Patient` }] },
    '00100020': { vr: 'LO', Value: [i.patientId] },
    '00100030': { vr: 'DA', Value: [i.birthDate] },
    '00321070': { vr: 'PN', Value: [{ Alphabetic: `${PHI}^Other^Person` }] },
    '0020000D': { vr: 'UI', Value: [i.study] },
    '0020000E': { vr: 'UI', Value: [i.series] },
    '00200052': { vr: 'UI', Value: [i.frameOfReference] },
    '00200013': { vr: 'IS', Value: ['1'] },
    '00280002': { vr: 'US', Value: [1] },
    '00280004': { vr: 'CS', Value: ['MONOCHROME2'] },
    '00280010': { vr: 'US', Value: [8] },
    '00280011': { vr: 'US', Value: [8] },
    '00280100': { vr: 'US', Value: [16] },
    '00280101': { vr: 'US', Value: [16] },
    '00280102': { vr: 'US', Value: [15] },
    '00280103': { vr: 'US', Value: [0] },
    '00280301': { vr: 'CS', Value: [i.burnedIn === true ? 'YES' : 'NO'] },
    // Beyond Table E.1-1 as listed: free text, a vendor UID embedding a date, an overlay.
    '00102000': { vr: 'LO', Value: [`${PHI} medical alert`] },
    '00180010': { vr: 'LO', Value: [`${PHI} contrast given by Dr Smith`] },
    '00083010': { vr: 'UI', Value: ['1.2.826.0.1.3680043.20230514.77'] },
    '60000010': { vr: 'US', Value: [8] },
    '60004000': { vr: 'LT', Value: [`${PHI} overlay comment`] },
    // Bytes the file does not type (a non-standard even group, VR UN), and trailing padding.
    '44440010': { vr: 'UN', Value: [Buffer.from(`${PHI} untyped bytes.`).buffer.slice(0, 18)] },
    FFFCFFFC: { vr: 'OB', Value: [Buffer.from(`${PHI} trailing padding`).buffer.slice(0, 20)] },
    // A thumbnail whose pixels could hold burned-in text.
    '00880200': {
      vr: 'SQ',
      Value: [
        {
          '00280010': { vr: 'US', Value: [2] },
          '00280011': { vr: 'US', Value: [4] },
          '7FE00010': { vr: 'OB', Value: [Buffer.from(`${PHI}ICON`).buffer.slice(0, 8)] },
        },
      ],
    },
    // A code sequence the keep list names: one listed code (worded by the export), one not.
    '00082218': {
      vr: 'SQ',
      Value: [
        {
          '00080100': { vr: 'SH', Value: ['51185008'] },
          '00080102': { vr: 'SH', Value: ['SCT'] },
          '00080104': { vr: 'LO', Value: [`${PHI} chest of Jane`] },
        },
        {
          '00080100': { vr: 'SH', Value: [`${PHI}77`] },
          '00080102': { vr: 'SH', Value: ['99PHI'] },
          '00080104': { vr: 'LO', Value: ['x'] },
        },
      ],
    },
    // Private block: creator and data.
    '00090010': { vr: 'LO', Value: ['ACME HOSPITAL'] },
    '00091001': { vr: 'LO', Value: [`${PHI} private MRN`] },
    '7FE00010': { vr: 'OW', Value: [i.pixels.buffer.slice(i.pixels.byteOffset, i.pixels.byteOffset + i.pixels.byteLength)] },
  });
  ds['00082112'] = {
    vr: 'SQ',
    Value:
      i.references === undefined
        ? []
        : [{ '00081150': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] }, '00081155': { vr: 'UI', Value: [i.references] } }],
  };
  const meta: Dataset = {
    '00020001': { vr: 'OB', Value: [new Uint8Array([0, 1]).buffer] },
    '00020002': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] },
    '00020003': { vr: 'UI', Value: [i.sop] },
    '00020010': { vr: 'UI', Value: [i.transferSyntax ?? '1.2.840.10008.1.2.1'] },
    '00020012': { vr: 'UI', Value: ['1.2.826.0.1.3680043.999.2'] },
    '00020016': { vr: 'AE', Value: ['HOSPITALPACS'] },
    '00020013': { vr: 'SH', Value: [`${PHI}SITE`] },
    '00020100': { vr: 'UI', Value: ['1.2.826.0.1.3680043.999.3'] },
    '00020102': { vr: 'OB', Value: [Buffer.from(`${PHI} private meta`).buffer.slice(0, 16)] },
  };
  const dict = new dcmjs.data.DicomDict(meta);
  dict.dict = ds;
  return Buffer.from(dict.write());
}

export function readDataset(bytes: Buffer): { meta: Dataset; dict: Dataset } {
  return dcmjs.data.DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer);
}
