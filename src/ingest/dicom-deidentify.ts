/**
 * De-identification of one DICOM file with dcmjs, by the profile in annex-e/profile.ts. Two steps,
 * because pseudonyms live in the database: `readDicom` parses and says which UIDs and which
 * patient the file carries; the caller resolves those to their pseudonyms; `deidentifyDicom`
 * then rewrites the dataset synchronously and writes it. Pixel data is passed through as the
 * same bytes. A DICOM file is parsed whole (the format has no streaming parser here); the
 * caller bounds its size.
 */
import { createHash } from 'node:crypto';
import dcmjs from 'dcmjs';
import {
  BURNED_IN_ANNOTATION,
  CT_SOP_CLASSES,
  DEIDENTIFICATION_CODES,
  DEIDENTIFICATION_METHOD,
  IMAGE_TYPE,
  ISSUER_OF_PATIENT_ID,
  LONGITUDINAL_TEMPORAL_INFORMATION_MODIFIED,
  PATIENT_ID,
  CAGE_IMPLEMENTATION_CLASS_UID,
  REGISTRY_UIDS_KEPT,
  SOP_CLASS_UID,
  TRANSFER_SYNTAX_UID,
  UNCOMPRESSED_SYNTAXES,
} from './dicom-profile';
import { decide } from './annex-e/profile';
import { TERMS } from './annex-e/keep-list';

type DicomElement = { vr: string; Value?: unknown[]; _rawValue?: unknown };
type DicomDataset = Record<string, DicomElement>;

/** A file the profile refuses (burned-in annotation) or that is not DICOM Part 10. */
export class DicomRefusal extends Error {
  constructor(
    readonly code: 'burned_in_annotation' | 'not_dicom' | 'not_ct_image' | 'compressed' | 'pixel_data',
    message: string,
  ) {
    super(message);
  }
}

export interface ParsedDicom {
  meta: DicomDataset;
  dict: DicomDataset;
  /** Every UID that is replaced (all but DICOM registry UIDs), as found. */
  uids: Set<string>;
  /** Issuer and PatientID (empty when absent: all such files share one pseudonymous patient). */
  patientId: string;
}

export interface DicomPseudonyms {
  /** The replacement for an original UID (same in, same out). */
  uid: (original: string) => string;
  /** The pseudonymous patient id (also the new PatientName). */
  patient: string;
  /** Whole days every date of this patient moves by. */
  shiftDays: number;
}

export interface DeidentifiedDicom {
  bytes: Buffer;
  seriesUid: string;
  sopInstanceUid: string;
  /** How many attributes each rule applied to, by reason code (`E.1-1 X`, `default deny`, …): never a value. */
  stripped: Record<string, number>;
}

const { DicomDict, DicomMessage } = dcmjs.data;
const TIMEZONE_OFFSET_FROM_UTC = '00080201';
const CODE_VALUE = '00080100';
const CODING_SCHEME_DESIGNATOR = '00080102';
const CODE_MEANING = '00080104';
const DICOM_MAGIC_OFFSET = 128;

export function isDicom(head: Buffer): boolean {
  return head.length >= DICOM_MAGIC_OFFSET + 4 && head.subarray(DICOM_MAGIC_OFFSET, DICOM_MAGIC_OFFSET + 4).toString('latin1') === 'DICM';
}

export function readDicom(bytes: Buffer): ParsedDicom {
  if (!isDicom(bytes)) throw new DicomRefusal('not_dicom', 'not a DICOM Part 10 file (no DICM preamble)');
  let parsed: { meta: DicomDataset; dict: DicomDataset };
  try {
    parsed = DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer);
  } catch {
    throw new DicomRefusal('not_dicom', 'DICOM does not parse');
  }
  const syntax = stringValue(parsed.meta[TRANSFER_SYNTAX_UID])?.trim() ?? '';
  if (!UNCOMPRESSED_SYNTAXES.has(syntax))
    // Fixed messages: a value of the export (which may be any text) is never quoted.
    throw new DicomRefusal('compressed', 'the transfer syntax is not an uncompressed one: its pixel data could not be kept byte for byte');
  const sopClass = stringValue(parsed.dict[SOP_CLASS_UID])?.trim() ?? '';
  if (!CT_SOP_CLASSES.has(sopClass))
    throw new DicomRefusal('not_ct_image', 'the SOP class is not a CT image (screen captures and documents may carry identity)');
  const imageType = (parsed.dict[IMAGE_TYPE]?.Value ?? []).map(String).map((v) => v.trim().toUpperCase());
  if (imageType.includes('SECONDARY') || imageType.includes('SCREEN SAVE'))
    throw new DicomRefusal('not_ct_image', 'Image Type is SECONDARY or SCREEN SAVE: a capture may carry identity in its pixels');
  const burned = stringValue(parsed.dict[BURNED_IN_ANNOTATION]);
  if (burned?.trim().toUpperCase() === 'YES') {
    throw new DicomRefusal('burned_in_annotation', 'Burned In Annotation is YES: the pixels may carry identifying text');
  }
  checkPixelData(parsed.dict);
  const uids = new Set<string>();
  walk(parsed.meta, (_tag, el) => collectUid(el, uids));
  walk(parsed.dict, (_tag, el) => collectUid(el, uids));
  const issuer = (stringValue(parsed.dict[ISSUER_OF_PATIENT_ID]) ?? '').trim();
  const id = (stringValue(parsed.dict[PATIENT_ID]) ?? '').trim();
  return { meta: parsed.meta, dict: parsed.dict, uids, patientId: issuer === '' ? id : `${issuer}\u0000${id}` };
}

export function deidentifyDicom(p: ParsedDicom, ps: DicomPseudonyms): DeidentifiedDicom {
  const stripped: Record<string, number> = {};
  const count = (k: string) => (stripped[k] = (stripped[k] ?? 0) + 1);
  rewrite(p.meta, ps, count, { meta: true, depth: 0 });
  rewrite(p.dict, ps, count, { meta: false, depth: 0 });
  // The file meta says what the file is and who wrote it: these values, not the export's.
  p.meta['00020001'] = { vr: 'OB', Value: [new Uint8Array([0, 1]).buffer] };
  p.meta['00020002'] = { vr: 'UI', Value: [stringValue(p.dict[SOP_CLASS_UID]) ?? ''] };
  p.meta['00020012'] = { vr: 'UI', Value: [CAGE_IMPLEMENTATION_CLASS_UID] };
  maskUnusedPixelBits(p.dict, stringValue(p.meta[TRANSFER_SYNTAX_UID]) === BIG_ENDIAN);
  p.dict[LONGITUDINAL_TEMPORAL_INFORMATION_MODIFIED] = { vr: 'CS', Value: ['MODIFIED'] };
  p.dict['00120062'] = { vr: 'CS', Value: ['YES'] }; // PatientIdentityRemoved
  p.dict['00120063'] = { vr: 'LO', Value: [DEIDENTIFICATION_METHOD] };
  p.dict['00120064'] = {
    vr: 'SQ',
    Value: DEIDENTIFICATION_CODES.map((c) => ({
      '00080100': { vr: 'SH', Value: [c.value] },
      '00080102': { vr: 'SH', Value: ['DCM'] },
      '00080104': { vr: 'LO', Value: [c.meaning] },
    })),
  };
  const dict = new DicomDict(p.meta);
  dict.dict = p.dict;
  return {
    bytes: Buffer.from(dict.write()),
    seriesUid: stringValue(p.dict['0020000E']) ?? '',
    sopInstanceUid: stringValue(p.dict['00080018']) ?? '',
    stripped,
  };
}

/** Every attribute of a data set, at every depth, by the profile (annex-e/profile.ts). */
function rewrite(ds: DicomDataset, ps: DicomPseudonyms, count: (k: string) => void, where: { meta: boolean; depth: number }): void {
  for (const tag of Object.keys(ds)) {
    const el = ds[tag];
    // The file's VR is the export's word: an attribute written with a VR its tag never has (text
    // as a sequence, a date as a time) is removed, whatever the rules would do with it.
    const expected = dictionaryVrs(tag);
    if (expected !== undefined && el.vr !== 'UN' && !expected.includes(el.vr)) {
      delete ds[tag];
      count('VR not the dictionary’s');
      continue;
    }
    // File meta belongs in the file meta; the keep list and code lists are for the top level only.
    if (tag.startsWith('0002') !== where.meta) {
      delete ds[tag];
      count('file meta out of place');
      continue;
    }
    let { treatment, reason } = decide(tag, el.vr);
    if (where.depth > 0 && (treatment.do === 'keep' || treatment.do === 'codes')) {
      treatment = { do: 'remove' };
      reason = 'default deny (nested)';
    }
    count(reason);
    const inner = { meta: false, depth: where.depth + 1 };
    switch (treatment.do) {
      case 'remove':
        delete ds[tag];
        break;
      case 'empty':
        delete el._rawValue;
        el.Value = [];
        break;
      case 'pseudonym':
        delete el._rawValue;
        el.Value = el.vr === 'PN' ? [{ Alphabetic: ps.patient }] : [ps.patient];
        break;
      case 'dummy':
        if (el.vr === 'SQ') cleanItems(el, ps, count, true, inner);
        else if (!dummy(el, tag, ps)) delete ds[tag];
        break;
      case 'uid':
        if (el.vr === 'SQ') cleanItems(el, ps, count, false, inner);
        else if (el.vr === 'UI') remapUids(el, ps);
        else delete ds[tag];
        break;
      case 'clean':
        if (!clean(el, tag, ps)) delete ds[tag];
        break;
      case 'keep':
        if (el.vr === 'SQ') cleanItems(el, ps, count, false, inner);
        else if (el.vr === 'UI') remapUids(el, ps);
        else if (!keepChecked(el, tag)) {
          delete ds[tag];
          count('keep list, value refused');
        }
        break;
      case 'codes':
        keepListedCodes(el, treatment.allowed);
        if ((el.Value ?? []).length === 0) delete ds[tag];
        break;
    }
  }
}

/** A sequence's items, each cleaned by the same rules; `nonEmpty`: one empty item if none is left (D). */
function cleanItems(
  el: DicomElement,
  ps: DicomPseudonyms,
  count: (k: string) => void,
  nonEmpty: boolean,
  where: { meta: boolean; depth: number },
): void {
  const items = Array.isArray(el.Value) ? (el.Value as DicomDataset[]) : [];
  for (const item of items) rewrite(item, ps, count, where);
  el.Value = nonEmpty && items.length === 0 ? [{}] : items;
}

/**
 * A dummy value of the element's VR (PS3.15 "D": non-zero length, consistent with the VR);
 * false for a VR no dummy can be written for (the caller removes the attribute).
 */
function dummy(el: DicomElement, tag: string, ps: DicomPseudonyms): boolean {
  delete el._rawValue;
  const text: Record<string, string> = {
    AE: 'ANONYMOUS',
    CS: 'ANONYMOUS',
    LO: 'ANONYMOUS',
    SH: 'ANONYMOUS',
    LT: 'ANONYMOUS',
    ST: 'ANONYMOUS',
    UT: 'ANONYMOUS',
    UC: 'ANONYMOUS',
    UR: 'urn:x-cage:removed',
    DA: '19000101',
    DT: '19000101000000',
    TM: '000000',
    AS: '000Y',
    IS: '0',
    DS: '0',
  };
  if (el.vr === 'PN') el.Value = [{ Alphabetic: 'ANONYMOUS' }];
  // A dummy UID of the patient's pseudonym and the tag: the same on every ingest, naming nothing of the export.
  else if (el.vr === 'UI')
    el.Value = [
      `2.25.${BigInt(`0x${createHash('sha256').update(`cage dummy UID\u0000${ps.patient}\u0000${tag}`).digest('hex').slice(0, 32)}`)}`,
    ];
  else if (text[el.vr] !== undefined) el.Value = [text[el.vr]];
  else if (['US', 'SS', 'UL', 'SL', 'FL', 'FD', 'UV', 'SV'].includes(el.vr)) el.Value = [0];
  else if (['OB', 'OW'].includes(el.vr)) el.Value = [new Uint8Array(2).buffer];
  else return false;
  return true;
}

/** The option's "C" for dates and times: a date moved by the patient's days, a time kept, the zone +0000. */
function clean(el: DicomElement, tag: string, ps: DicomPseudonyms): boolean {
  if (el.vr === 'DA' || el.vr === 'DT') return shiftValues(el, ps.shiftDays);
  if (el.vr === 'TM') {
    // A time is kept only as a time (a TM value can hold any 16 characters the export put in it).
    const values = el.Value ?? [];
    if (values.length > 1 || !values.every((v) => typeof v === 'string' && TIME.test(v.trim()))) return false;
    delete el._rawValue;
    el.Value = values.map((v) => String(v).trim());
    return true;
  }
  if (tag === TIMEZONE_OFFSET_FROM_UTC) {
    delete el._rawValue;
    el.Value = ['+0000'];
    return true;
  }
  return false;
}

/** A code sequence keeps the items whose code the keep list names, in the list's own words. */
function keepListedCodes(el: DicomElement, allowed: readonly { scheme: string; value: string; meaning: string }[]): void {
  const items = Array.isArray(el.Value) ? (el.Value as DicomDataset[]) : [];
  el.Value = items.flatMap((item) => {
    const scheme = (stringValue(item[CODING_SCHEME_DESIGNATOR]) ?? '').trim();
    const value = (stringValue(item[CODE_VALUE]) ?? '').trim();
    const code = allowed.find((c) => c.scheme === scheme && c.value === value);
    return code === undefined
      ? []
      : [
          {
            [CODE_VALUE]: { vr: 'SH', Value: [code.value] },
            [CODING_SCHEME_DESIGNATOR]: { vr: 'SH', Value: [code.scheme] },
            [CODE_MEANING]: { vr: 'LO', Value: [code.meaning] },
          },
        ];
  });
}

/** Every UID but the DICOM registry's (SOP classes, transfer syntaxes, coding schemes) is replaced. */
function remapUids(el: DicomElement, ps: DicomPseudonyms): boolean {
  let changed = false;
  el.Value = (el.Value ?? []).map((v) => {
    if (typeof v !== 'string' || v.trim() === '' || REGISTRY_UIDS_KEPT.has(v.trim())) return v;
    changed = true;
    return ps.uid(v.trim());
  });
  delete el._rawValue;
  return changed;
}

function collectUid(el: DicomElement, into: Set<string>): void {
  if (el.vr !== 'UI') return;
  for (const v of el.Value ?? []) if (typeof v === 'string' && v.trim() !== '' && !REGISTRY_UIDS_KEPT.has(v.trim())) into.add(v.trim());
}

function walk(ds: DicomDataset, visit: (tag: string, el: DicomElement) => void): void {
  for (const [tag, el] of Object.entries(ds)) {
    visit(tag, el);
    if (el.vr === 'SQ' && Array.isArray(el.Value)) for (const item of el.Value as DicomDataset[]) walk(item, visit);
  }
}

function stringValue(el: DicomElement | undefined): string | undefined {
  const v = el?.Value?.[0];
  return typeof v === 'string' ? v : undefined;
}

/** Shifts every DA/DT value by whole days; false when one does not parse (the caller removes it). */
function shiftValues(el: DicomElement, days: number): boolean {
  const values = el.Value ?? [];
  const out: string[] = [];
  for (const v of values) {
    if (typeof v !== 'string') return false;
    const s = v.trim();
    if (s === '') {
      out.push(s);
      continue;
    }
    // DA is exactly YYYYMMDD; DT may go on with time, fraction and offset. Anything else (text
    // after a date, a range) is not a date this can shift, and is removed by the caller.
    const m = (el.vr === 'DA' ? /^(\d{4})(\d{2})(\d{2})()$/ : /^(\d{4})(\d{2})(\d{2})((?:\d{2}){0,3}(?:\.\d{1,6})?(?:[+-]\d{4})?)$/).exec(
      s,
    );
    if (m === null) return false;
    const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
    const d = new Date(t);
    if (d.getUTCMonth() !== Number(m[2]) - 1 || d.getUTCDate() !== Number(m[3])) return false;
    const shifted = new Date(t + days * 86_400_000);
    // A time zone offset says where the patient was: dropped (the time reads as local).
    const time = m[4].replace(/[+-]\d{4}$/, '');
    out.push(
      `${shifted.getUTCFullYear().toString().padStart(4, '0')}${String(shifted.getUTCMonth() + 1).padStart(2, '0')}${String(shifted.getUTCDate()).padStart(2, '0')}${time}`,
    );
  }
  delete el._rawValue;
  el.Value = out;
  return true;
}

const TIME = /^\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?$/;
const BIG_ENDIAN = '1.2.840.10008.1.2.2';
const MAX_VALUES = 16;
const dictionary = (dcmjs.data.DicomMetaDictionary as unknown as { dictionary: Record<string, { vr?: string; vm?: string } | undefined> })
  .dictionary;

function dictionaryEntry(tag: string): { vr?: string; vm?: string } | undefined {
  return dictionary[`(${tag.slice(0, 4)},${tag.slice(4)})`];
}

/** The VRs the data dictionary allows for a tag ('US or SS' → both), or undefined for a tag it does not know. */
function dictionaryVrs(tag: string): string[] | undefined {
  const vr = dictionaryEntry(tag)?.vr;
  if (vr === undefined || vr === '') return undefined;
  // dcmjs writes the dictionary's "OB or OW" and "US or SS" as ox and xs.
  const pseudo: Record<string, string[]> = { ox: ['OB', 'OW'], xs: ['US', 'SS'] };
  if (pseudo[vr] !== undefined) return pseudo[vr];
  if (!/^[A-Z]{2}( or [A-Z]{2})*$/.test(vr)) return undefined;
  return vr.split(' or ');
}

/** How many values the dictionary's VM allows ('1' → 1, '1-n' → MAX_VALUES). */
function maxValues(tag: string): number {
  const vm = dictionaryEntry(tag)?.vm ?? '1-n';
  const fixed = /^(\d+)$/.exec(vm) ?? /^\d+-(\d+)$/.exec(vm);
  return fixed === null ? MAX_VALUES : Math.min(Number(fixed[1]), MAX_VALUES);
}

/**
 * A kept attribute's values, checked rather than trusted: no more than its VM allows, numbers
 * that are numbers (dcmjs keeps a DS/IS's original text and would write it back), code strings
 * from the keep list's terms. Whatever dcmjs kept of the original text is dropped, so what is
 * written is what was checked.
 */
function keepChecked(el: DicomElement, tag: string): boolean {
  if (tag === PIXEL_DATA) return true;
  const values = el.Value ?? [];
  if (values.length > maxValues(tag)) return false;
  delete el._rawValue;
  switch (el.vr) {
    case 'DS':
      return values.every((v) => typeof v === 'number' && Number.isFinite(v));
    case 'IS':
      return values.every((v) => typeof v === 'number' && Number.isInteger(v));
    case 'US':
    case 'SS':
    case 'UL':
    case 'SL':
    case 'FL':
    case 'FD':
      return values.every((v) => typeof v === 'number' && Number.isFinite(v));
    case 'CS':
    case 'LO':
    case 'SH': {
      const terms = TERMS.get(tag);
      if (terms === undefined) return false;
      el.Value = values.map((v) => String(v).trim().toUpperCase());
      return (el.Value as string[]).every((v) => terms.has(v));
    }
    default:
      return false;
  }
}

const PIXEL_DATA = '7FE00010';
const num = (ds: DicomDataset, tag: string): number => Number(ds[tag]?.Value?.[0] ?? Number.NaN);

/** Pixel data of exactly the size its description gives (nothing appended after the image). */
function checkPixelData(ds: DicomDataset): void {
  const el = ds[PIXEL_DATA];
  if (el === undefined) return;
  const bytes = (el.Value ?? []).reduce<number>((n, v) => n + (v instanceof ArrayBuffer ? v.byteLength : Number.NaN), 0);
  const frames = ds['00280008'] === undefined ? 1 : num(ds, '00280008');
  const expected = num(ds, '00280010') * num(ds, '00280011') * num(ds, '00280002') * (num(ds, '00280100') / 8) * frames;
  if (!Number.isInteger(expected) || (bytes !== expected && bytes !== expected + 1))
    throw new DicomRefusal('pixel_data', 'pixel data is not the size the image description gives');
  const stored = num(ds, '00280101');
  const high = num(ds, '00280102');
  if (num(ds, '00280100') === 16 && stored < 16 && high !== stored - 1)
    throw new DicomRefusal('pixel_data', 'pixel data with its stored bits not at the bottom of each word');
}

/**
 * The bits of each 16-bit word above the stored ones can hold an image of their own (an overlay
 * with a name in it): they are set to what the stored value implies (zero, or the sign).
 */
function maskUnusedPixelBits(ds: DicomDataset, bigEndian: boolean): void {
  const el = ds[PIXEL_DATA];
  if (el === undefined || num(ds, '00280100') !== 16) return;
  const stored = num(ds, '00280101');
  if (!(stored > 0 && stored < 16)) return;
  const signed = num(ds, '00280103') === 1;
  const shift = 32 - stored;
  for (const buffer of el.Value ?? []) {
    if (!(buffer instanceof ArrayBuffer)) continue;
    const view = new DataView(buffer);
    for (let i = 0; i + 1 < view.byteLength; i += 2) {
      const w = view.getUint16(i, !bigEndian);
      const v = signed ? ((w << shift) >> shift) & 0xffff : (w << shift) >>> shift;
      if (v !== w) view.setUint16(i, v, !bigEndian);
    }
  }
  delete el._rawValue;
}
