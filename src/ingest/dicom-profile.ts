/**
 * What the DICOM ingest takes and what it says about its output. The profile itself — every row
 * of PS3.15 Annex E Table E.1-1 and the CT keep list — is in annex-e/ (profile.ts). Only
 * uncompressed CT images are taken: another SOP class, a secondary capture or screen save, a
 * compressed transfer syntax (dcmjs would re-frame the fragments) or Burned In Annotation = YES
 * is refused whole.
 */
export const BURNED_IN_ANNOTATION = '00280301';
export const PATIENT_ID = '00100020';

/** What the output says about itself (PS3.15 E.1.1, PS3.16 CID 7050). */
/** At most 64 characters (LO). */
export const DEIDENTIFICATION_METHOD = 'Cage PS3.15 E.1-1 2025e Basic Profile, Modified Dates';

/** The storage classes taken: CT images (a screen capture may carry a name in its pixels). */
export const CT_SOP_CLASSES: ReadonlySet<string> = new Set([
  '1.2.840.10008.5.1.4.1.1.2',
  '1.2.840.10008.5.1.4.1.1.2.1',
  '1.2.840.10008.5.1.4.1.1.2.2',
]);
/** Uncompressed transfer syntaxes: implicit and explicit little endian, explicit big endian. */
export const UNCOMPRESSED_SYNTAXES: ReadonlySet<string> = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.2']);
export const REGISTRY_UID_ROOT = '1.2.840.10008.';
/**
 * The DICOM registry UIDs a CT output keeps as they are (its SOP classes, transfer syntaxes, the
 * DCM coding scheme). Any other UID is replaced, one under the registry's root included: a made-up
 * "1.2.840.10008.999.<data>" is no registry UID.
 */
export const REGISTRY_UIDS_KEPT: ReadonlySet<string> = new Set([
  ...CT_SOP_CLASSES,
  ...UNCOMPRESSED_SYNTAXES,
  '1.2.840.10008.2.16.4', // DICOM Controlled Terminology (DCM)
]);
/** The ImplementationClassUID the output names: Cage's own (a UUID-derived UID), not the exporting system's. */
export const CAGE_IMPLEMENTATION_CLASS_UID = '2.25.229817512371394106117473637498286120915';
export const SOP_CLASS_UID = '00080016';
export const IMAGE_TYPE = '00080008';
export const TRANSFER_SYNTAX_UID = '00020010';
export const ISSUER_OF_PATIENT_ID = '00100021';
export const LONGITUDINAL_TEMPORAL_INFORMATION_MODIFIED = '00280303';
export const DEIDENTIFICATION_CODES: readonly { value: string; meaning: string }[] = [
  { value: '113100', meaning: 'Basic Application Confidentiality Profile' },
  { value: '113107', meaning: 'Retain Longitudinal Temporal Information Modified Dates Option' },
];
