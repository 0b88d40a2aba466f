import dcmjs from 'dcmjs';
import { BASIC_PROFILE } from '../../src/ingest/dicom-profile';

type Element = { vr: string; Value?: unknown[] };
type Dataset = Record<string, Element>;

const dictionary = (dcmjs.data.DicomMetaDictionary as unknown as { dictionary: Record<string, { vr: string } | undefined> }).dictionary;

/** The marker every identifying text value carries: none may survive de-identification. */
export const PHI = 'PHI';

function vrOf(tag: string): string {
  const vr = dictionary[`(${tag.slice(0, 4)},${tag.slice(4)})`]?.vr ?? 'LO';
  return vr.split(' or ')[0];
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
    case 'SQ':
      return {
        vr,
        Value: [
          {
            '00100010': { vr: 'PN', Value: [{ Alphabetic: `${PHI}^In^${keyword}` }] },
            '00081030': { vr: 'LO', Value: [`${PHI} nested ${keyword}`] },
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
  for (const p of BASIC_PROFILE) {
    if (p.tag.startsWith('0002')) continue;
    ds[p.tag] = phiValue(p.tag, vrOf(p.tag), p.keyword);
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
  };
  const dict = new dcmjs.data.DicomDict(meta);
  dict.dict = ds;
  return Buffer.from(dict.write());
}

export function readDataset(bytes: Buffer): { meta: Dataset; dict: Dataset } {
  return dcmjs.data.DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer);
}
