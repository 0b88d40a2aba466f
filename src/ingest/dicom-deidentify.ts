/**
 * De-identification of one DICOM file with dcmjs, by the profile in annex-e/profile.ts. Two steps,
 * because pseudonyms live in the database: `readDicom` parses and says which UIDs and which
 * patient the file carries; the caller resolves those to their pseudonyms; `deidentifyDicom`
 * then rewrites the dataset synchronously and writes it. Pixel data is passed through as the
 * same bytes. A DICOM file is parsed whole (the format has no streaming parser here); the
 * caller bounds its size.
 */
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
  REGISTRY_UID_ROOT,
  SOP_CLASS_UID,
  TRANSFER_SYNTAX_UID,
  UNCOMPRESSED_SYNTAXES,
} from './dicom-profile';
import { decide } from './annex-e/profile';

type DicomElement = { vr: string; Value?: unknown[]; _rawValue?: unknown };
type DicomDataset = Record<string, DicomElement>;

/** A file the profile refuses (burned-in annotation) or that is not DICOM Part 10. */
export class DicomRefusal extends Error {
  constructor(
    readonly code: 'burned_in_annotation' | 'not_dicom' | 'not_ct_image' | 'compressed',
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
  } catch (err) {
    throw new DicomRefusal('not_dicom', `DICOM does not parse: ${(err as Error).message}`);
  }
  const syntax = stringValue(parsed.meta[TRANSFER_SYNTAX_UID])?.trim() ?? '';
  if (!UNCOMPRESSED_SYNTAXES.has(syntax))
    throw new DicomRefusal(
      'compressed',
      `transfer syntax ${syntax || '(none)'} is not uncompressed: its pixel data could not be kept byte for byte`,
    );
  const sopClass = stringValue(parsed.dict[SOP_CLASS_UID])?.trim() ?? '';
  if (!CT_SOP_CLASSES.has(sopClass))
    throw new DicomRefusal(
      'not_ct_image',
      `SOP class ${sopClass || '(none)'} is not a CT image (screen captures and documents may carry identity)`,
    );
  const imageType = (parsed.dict[IMAGE_TYPE]?.Value ?? []).map(String).map((v) => v.trim().toUpperCase());
  if (imageType.includes('SECONDARY') || imageType.includes('SCREEN SAVE'))
    throw new DicomRefusal('not_ct_image', 'Image Type is SECONDARY or SCREEN SAVE: a capture may carry identity in its pixels');
  const burned = stringValue(parsed.dict[BURNED_IN_ANNOTATION]);
  if (burned?.trim().toUpperCase() === 'YES') {
    throw new DicomRefusal('burned_in_annotation', 'Burned In Annotation is YES: the pixels may carry identifying text');
  }
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
  rewrite(p.meta, ps, count);
  rewrite(p.dict, ps, count);
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
function rewrite(ds: DicomDataset, ps: DicomPseudonyms, count: (k: string) => void): void {
  for (const tag of Object.keys(ds)) {
    const el = ds[tag];
    const { treatment, reason } = decide(tag, el.vr);
    count(reason);
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
        if (el.vr === 'SQ') cleanItems(el, ps, count, true);
        else if (!dummy(el, tag, ps)) delete ds[tag];
        break;
      case 'uid':
        if (el.vr === 'SQ') cleanItems(el, ps, count, false);
        else if (el.vr === 'UI') remapUids(el, ps);
        else delete ds[tag];
        break;
      case 'clean':
        if (!clean(el, tag, ps)) delete ds[tag];
        break;
      case 'keep':
        if (el.vr === 'SQ') cleanItems(el, ps, count, false);
        else if (el.vr === 'UI') remapUids(el, ps);
        else if ((el.vr === 'DA' || el.vr === 'DT') && !shiftValues(el, ps.shiftDays)) delete ds[tag];
        break;
      case 'codes':
        keepListedCodes(el, treatment.allowed);
        if ((el.Value ?? []).length === 0) delete ds[tag];
        break;
    }
  }
}

/** A sequence's items, each cleaned by the same rules; `nonEmpty`: one empty item if none is left (D). */
function cleanItems(el: DicomElement, ps: DicomPseudonyms, count: (k: string) => void, nonEmpty: boolean): void {
  const items = Array.isArray(el.Value) ? (el.Value as DicomDataset[]) : [];
  for (const item of items) rewrite(item, ps, count);
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
  else if (el.vr === 'UI') el.Value = [ps.uid(`dummy:${tag}`)];
  else if (text[el.vr] !== undefined) el.Value = [text[el.vr]];
  else if (['US', 'SS', 'UL', 'SL', 'FL', 'FD', 'UV', 'SV'].includes(el.vr)) el.Value = [0];
  else if (['OB', 'OW'].includes(el.vr)) el.Value = [new Uint8Array(2).buffer];
  else return false;
  return true;
}

/** The option's "C" for dates and times: a date moved by the patient's days, a time kept, the zone +0000. */
function clean(el: DicomElement, tag: string, ps: DicomPseudonyms): boolean {
  if (el.vr === 'DA' || el.vr === 'DT') return shiftValues(el, ps.shiftDays);
  if (el.vr === 'TM') return true;
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
    if (typeof v !== 'string' || v.trim() === '' || v.trim().startsWith(REGISTRY_UID_ROOT)) return v;
    changed = true;
    return ps.uid(v.trim());
  });
  delete el._rawValue;
  return changed;
}

function collectUid(el: DicomElement, into: Set<string>): void {
  if (el.vr !== 'UI') return;
  for (const v of el.Value ?? [])
    if (typeof v === 'string' && v.trim() !== '' && !v.trim().startsWith(REGISTRY_UID_ROOT)) into.add(v.trim());
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
    out.push(
      `${shifted.getUTCFullYear().toString().padStart(4, '0')}${String(shifted.getUTCMonth() + 1).padStart(2, '0')}${String(shifted.getUTCDate()).padStart(2, '0')}${m[4]}`,
    );
  }
  delete el._rawValue;
  el.Value = out;
  return true;
}
