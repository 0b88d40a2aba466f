/**
 * DICOM PS3.15 Annex E, Table E.1-1: the Basic Application Level Confidentiality Profile, with
 * the "Retain Longitudinal Temporal Information with Modified Dates" option (dates shifted by a
 * per-patient offset, so intervals survive). Each attribute the profile lists that a CT export
 * carries, with what the gateway does to it:
 *
 * - `X` remove · `Z` keep the attribute, empty · `D` replace with a dummy (the patient's pseudonym)
 * - `U` replace the UID with a new one, the same new UID for the same old one (across a series,
 *   a study and every later ingest into the same pseudonym domain)
 *
 * Beyond the table, because a blocklist always has gaps: every private attribute (odd group),
 * overlay and curve groups (60xx, 50xx), private file-meta information, every person name (PN),
 * and every free-text attribute (LO, SH, LT, ST, UT, UC, UR, AE) not on KEPT_TEXT are removed;
 * every UID that is not a DICOM registry UID (1.2.840.10008.*) is replaced; every date (DA, DT)
 * is shifted; the birth date is emptied. Only uncompressed CT images are taken: another SOP
 * class, a secondary capture or screen save, a compressed transfer syntax (dcmjs would re-frame
 * the fragments) or Burned In Annotation = YES is refused whole.
 */
export type ProfileAction = 'X' | 'Z' | 'D' | 'U';

export interface ProfileEntry {
  tag: string;
  keyword: string;
  action: ProfileAction;
}

const e = (tag: string, keyword: string, action: ProfileAction): ProfileEntry => ({ tag, keyword, action });

export const BASIC_PROFILE: readonly ProfileEntry[] = [
  // Patient
  e('00100010', 'PatientName', 'D'),
  e('00100020', 'PatientID', 'D'),
  e('00100030', 'PatientBirthDate', 'Z'),
  e('00100021', 'IssuerOfPatientID', 'X'),
  e('00100032', 'PatientBirthTime', 'X'),
  e('00100040', 'PatientSex', 'Z'),
  e('00101000', 'OtherPatientIDs', 'X'),
  e('00101001', 'OtherPatientNames', 'X'),
  e('00101002', 'OtherPatientIDsSequence', 'X'),
  e('00101005', 'PatientBirthName', 'X'),
  e('00101010', 'PatientAge', 'X'),
  e('00101020', 'PatientSize', 'X'),
  e('00101030', 'PatientWeight', 'X'),
  e('00101040', 'PatientAddress', 'X'),
  e('00101060', 'PatientMotherBirthName', 'X'),
  e('00101080', 'MilitaryRank', 'X'),
  e('00101081', 'BranchOfService', 'X'),
  e('00101090', 'MedicalRecordLocator', 'X'),
  e('00102154', 'PatientTelephoneNumbers', 'X'),
  e('00102160', 'EthnicGroup', 'X'),
  e('00102180', 'Occupation', 'X'),
  e('001021B0', 'AdditionalPatientHistory', 'X'),
  e('001021F0', 'PatientReligiousPreference', 'X'),
  e('00102203', 'PatientSexNeutered', 'X'),
  e('00104000', 'PatientComments', 'X'),
  e('00380010', 'AdmissionID', 'X'),
  e('00380300', 'CurrentPatientLocation', 'X'),
  e('00380400', 'PatientInstitutionResidence', 'X'),
  e('00380500', 'PatientState', 'X'),
  e('00384000', 'VisitComments', 'X'),
  // Study, visit, request
  e('00080050', 'AccessionNumber', 'Z'),
  e('00080201', 'TimezoneOffsetFromUTC', 'X'),
  e('00081030', 'StudyDescription', 'X'),
  e('00081080', 'AdmittingDiagnosesDescription', 'X'),
  e('00081084', 'AdmittingDiagnosesCodeSequence', 'X'),
  e('00081110', 'ReferencedStudySequence', 'X'),
  e('00081111', 'ReferencedPerformedProcedureStepSequence', 'X'),
  e('00081120', 'ReferencedPatientSequence', 'X'),
  e('00200010', 'StudyID', 'Z'),
  e('00321032', 'RequestingPhysician', 'X'),
  e('00321033', 'RequestingService', 'X'),
  e('00321060', 'RequestedProcedureDescription', 'X'),
  e('00324000', 'StudyComments', 'X'),
  e('00400006', 'ScheduledPerformingPhysicianName', 'X'),
  e('00400241', 'PerformedStationAETitle', 'X'),
  e('00400242', 'PerformedStationName', 'X'),
  e('00400243', 'PerformedLocation', 'X'),
  e('00400253', 'PerformedProcedureStepID', 'X'),
  e('00400254', 'PerformedProcedureStepDescription', 'X'),
  e('00400280', 'CommentsOnThePerformedProcedureStep', 'X'),
  e('00401001', 'RequestedProcedureID', 'X'),
  e('00401400', 'RequestedProcedureComments', 'X'),
  e('00402016', 'PlacerOrderNumberImagingServiceRequest', 'X'),
  e('00402017', 'FillerOrderNumberImagingServiceRequest', 'X'),
  e('00402400', 'ImagingServiceRequestComments', 'X'),
  e('0040A730', 'ContentSequence', 'X'),
  e('40080114', 'PhysicianApprovingInterpretation', 'X'),
  e('04000561', 'OriginalAttributesSequence', 'X'),
  // Institution and people
  e('00080080', 'InstitutionName', 'X'),
  e('00080081', 'InstitutionAddress', 'X'),
  e('00080082', 'InstitutionCodeSequence', 'X'),
  e('00080090', 'ReferringPhysicianName', 'Z'),
  e('00080092', 'ReferringPhysicianAddress', 'X'),
  e('00080094', 'ReferringPhysicianTelephoneNumbers', 'X'),
  e('00080096', 'ReferringPhysicianIdentificationSequence', 'X'),
  e('00081040', 'InstitutionalDepartmentName', 'X'),
  e('00081048', 'PhysiciansOfRecord', 'X'),
  e('00081049', 'PhysiciansOfRecordIdentificationSequence', 'X'),
  e('00081050', 'PerformingPhysicianName', 'X'),
  e('00081052', 'PerformingPhysicianIdentificationSequence', 'X'),
  e('00081060', 'NameOfPhysiciansReadingStudy', 'X'),
  e('00081062', 'PhysiciansReadingStudyIdentificationSequence', 'X'),
  e('00081070', 'OperatorsName', 'X'),
  e('00081072', 'OperatorIdentificationSequence', 'X'),
  // Equipment
  e('00081010', 'StationName', 'X'),
  e('00181000', 'DeviceSerialNumber', 'X'),
  e('00181004', 'PlateID', 'X'),
  e('00181005', 'GeneratorID', 'X'),
  e('00181007', 'CassetteID', 'X'),
  e('00181008', 'GantryID', 'X'),
  e('0018700A', 'DetectorID', 'X'),
  e('00181400', 'AcquisitionDeviceProcessingDescription', 'X'),
  // Series and image free text
  e('0008103E', 'SeriesDescription', 'X'),
  e('00082111', 'DerivationDescription', 'X'),
  e('00181030', 'ProtocolName', 'X'),
  e('00204000', 'ImageComments', 'X'),
  // UIDs
  e('00080014', 'InstanceCreatorUID', 'U'),
  e('00080018', 'SOPInstanceUID', 'U'),
  e('00081155', 'ReferencedSOPInstanceUID', 'U'),
  e('0020000D', 'StudyInstanceUID', 'U'),
  e('0020000E', 'SeriesInstanceUID', 'U'),
  e('00200052', 'FrameOfReferenceUID', 'U'),
  e('00200200', 'SynchronizationFrameOfReferenceUID', 'U'),
  e('00880140', 'StorageMediaFileSetUID', 'U'),
  e('30060024', 'ReferencedFrameOfReferenceUID', 'U'),
  e('00020003', 'MediaStorageSOPInstanceUID', 'U'),
];

export const PROFILE_BY_TAG: ReadonlyMap<string, ProfileEntry> = new Map(BASIC_PROFILE.map((p) => [p.tag, p]));

export const BURNED_IN_ANNOTATION = '00280301';
export const PATIENT_ID = '00100020';

/** What the output says about itself (PS3.15 E.1.1, PS3.16 CID 7050). */
/** At most 64 characters (LO). */
export const DEIDENTIFICATION_METHOD = 'Cage PS3.15 E.1 Basic Profile, Modified Dates';

/** Free-text attributes a CT needs and that carry no identity: every other one is removed. */
export const KEPT_TEXT: ReadonlySet<string> = new Set([
  '00080070', // Manufacturer
  '00081090', // ManufacturerModelName
  '00181020', // SoftwareVersions
  '00181160', // FilterType
  '00181210', // ConvolutionKernel
  '00281054', // RescaleType
  '00281055', // WindowCenterWidthExplanation
  '00120063', // DeidentificationMethod (ours)
  '00080100', // CodeValue
  '00080102', // CodingSchemeDesignator
  '00080104', // CodeMeaning
]);
export const TEXT_VRS: ReadonlySet<string> = new Set(['LO', 'SH', 'LT', 'ST', 'UT', 'UC', 'UR', 'AE']);

/** The storage classes taken: CT images (a screen capture may carry a name in its pixels). */
export const CT_SOP_CLASSES: ReadonlySet<string> = new Set([
  '1.2.840.10008.5.1.4.1.1.2',
  '1.2.840.10008.5.1.4.1.1.2.1',
  '1.2.840.10008.5.1.4.1.1.2.2',
]);
/** Uncompressed transfer syntaxes: implicit and explicit little endian, explicit big endian. */
export const UNCOMPRESSED_SYNTAXES: ReadonlySet<string> = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.2']);
export const REGISTRY_UID_ROOT = '1.2.840.10008.';
export const SOP_CLASS_UID = '00080016';
export const IMAGE_TYPE = '00080008';
export const TRANSFER_SYNTAX_UID = '00020010';
export const ISSUER_OF_PATIENT_ID = '00100021';
export const LONGITUDINAL_TEMPORAL_INFORMATION_MODIFIED = '00280303';
export const DEIDENTIFICATION_CODES: readonly { value: string; meaning: string }[] = [
  { value: '113100', meaning: 'Basic Application Confidentiality Profile' },
  { value: '113107', meaning: 'Retain Longitudinal Temporal Information Modified Dates Option' },
];
