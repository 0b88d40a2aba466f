import { CODES, CT_IOD_TYPE, CT_KEEP } from './keep-list';
import { ANNEX_E_EDITION, ANNEX_E_ROWS, type AnnexEAction, type AnnexERow } from './table-e1-1.generated';

/**
 * PS3.15 Annex E as the gateway applies it to a CT image: the Basic Application Level
 * Confidentiality Profile with the Retain Longitudinal Temporal Information with Modified Dates
 * option (dates moved by a per-patient number of days, so intervals survive), every row of Table
 * E.1-1 (generated from the standard: table-e1-1.generated.ts), at every depth of a data set;
 * what the table does not name, default deny (keep-list.ts).
 *
 * What each action does here:
 * - X: removed (a sequence with its items);
 * - Z: kept, empty (a sequence with no items);
 * - D: a dummy of the attribute's VR (Patient Name and Patient ID: the patient's pseudonym); a
 *   sequence keeps its items, each cleaned by these same rules (one empty item if none is left);
 * - U: every UID outside the DICOM registry replaced, the same new UID for the same old one;
 * - C (the option's dates and times): a date moved by the patient's days, a time kept (whole days
 *   move no clock), the time zone offset set to +0000, anything else (a binary timestamp) removed;
 * - K: kept; a sequence's items cleaned;
 * - X/Z, X/D, X/Z/D, Z/D, X/Z/U*: the first action unless the CT Image IOD needs a value or the
 *   attribute (CT_IOD_TYPE: Type 1 → D or U*, Type 2 → Z), the standard's rule for these codes.
 * Beyond the table: private attributes (odd groups) are removed (the table's own row); an
 * attribute of VR UN, in any group, is removed unless the keep list names its tag.
 */

export type Treatment =
  | { do: 'remove' }
  | { do: 'empty' }
  | { do: 'dummy' }
  | { do: 'pseudonym' }
  | { do: 'uid' }
  | { do: 'clean' }
  | { do: 'keep' }
  | { do: 'codes'; allowed: readonly { scheme: string; value: string; meaning: string }[] };

export interface Decision {
  treatment: Treatment;
  /** A reason code for counts (never a value): `E.1-1 X`, `E.1-1 X/Z→Z`, `keep list`, `default deny`, `UN`. */
  reason: string;
}

export const PROFILE_EDITION = ANNEX_E_EDITION;

const EXACT = new Map<string, AnnexERow>();
const MASKS: AnnexERow[] = [];
let PRIVATE: AnnexERow | undefined;
for (const row of ANNEX_E_ROWS) {
  if (row.tagKind === 'exact') EXACT.set(row.tag, row);
  else if (row.tagKind === 'mask') MASKS.push(row);
  else PRIVATE = row;
}

/** Patient Name and Patient ID become the patient's pseudonym (a dummy that keeps a patient's series together). */
const PSEUDONYMOUS = new Set(['00100010', '00100020']);

/** The row of Table E.1-1 for a tag ('GGGGEEEE', upper-case hex), if the table names it. */
export function rowOf(tag: string): AnnexERow | undefined {
  const exact = EXACT.get(tag);
  if (exact !== undefined) return exact;
  if (parseInt(tag.slice(0, 4), 16) % 2 === 1) return PRIVATE;
  return MASKS.find((m) => [...m.tag].every((c, i) => c === 'x' || c === tag[i]));
}

/** The action the profile takes for a row: the option's, where its column has one. */
export function actionOf(row: AnnexERow): AnnexEAction {
  return row.options.retainLongModifiedDates ?? row.basic;
}

/** What is done to one attribute (of VR `vr`, as the file says) wherever it appears. */
export function decide(tag: string, vr: string): Decision {
  // Bytes whose meaning the file does not say are not cleaned but removed, whatever their tag.
  if (vr === 'UN' && !CT_KEEP.has(tag)) return { treatment: { do: 'remove' }, reason: 'UN' };
  const row = rowOf(tag);
  if (row !== undefined) {
    const action = actionOf(row);
    if (PSEUDONYMOUS.has(tag)) return { treatment: { do: 'pseudonym' }, reason: `E.1-1 ${action}→pseudonym` };
    const resolved = resolve(tag, action);
    const which = row.tagKind === 'private' ? ' private' : row.tagKind === 'mask' ? ` ${row.tagText}` : '';
    return { treatment: treatmentOf(resolved), reason: `E.1-1 ${resolved === action ? action : `${action}→${resolved}`}${which}` };
  }
  if (!CT_KEEP.has(tag)) return { treatment: { do: 'remove' }, reason: 'default deny' };
  const allowed = CODES.get(tag);
  if (allowed !== undefined) return { treatment: { do: 'codes', allowed }, reason: 'keep list, codes checked' };
  return { treatment: { do: 'keep' }, reason: 'keep list' };
}

type Simple = 'X' | 'Z' | 'D' | 'U' | 'U*' | 'C' | 'K';

/** A conditional code resolved for a CT image (PS3.15 Table E.1-1a). */
function resolve(tag: string, action: AnnexEAction): Simple {
  const type = CT_IOD_TYPE.get(tag);
  switch (action) {
    case 'X/Z':
      return type === undefined ? 'X' : 'Z';
    case 'X/D':
      return type === undefined ? 'X' : 'D';
    case 'X/Z/D':
      return type === undefined ? 'X' : type === 1 ? 'D' : 'Z';
    case 'Z/D':
      return type === 1 ? 'D' : 'Z';
    case 'X/Z/U*':
      return type === undefined ? 'X' : type === 1 ? 'U*' : 'Z';
    case 'X':
    case 'Z':
    case 'D':
    case 'U':
    case 'C':
    case 'K':
      return action;
  }
}

function treatmentOf(action: Simple): Treatment {
  switch (action) {
    case 'X':
      return { do: 'remove' };
    case 'Z':
      return { do: 'empty' };
    case 'D':
      return { do: 'dummy' };
    case 'U':
    case 'U*':
      return { do: 'uid' };
    case 'C':
      return { do: 'clean' };
    case 'K':
      return { do: 'keep' };
  }
}
