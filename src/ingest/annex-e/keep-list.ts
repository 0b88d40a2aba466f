/**
 * What a de-identified CT image keeps of the attributes PS3.15 Table E.1-1 does not name: the
 * image's definition (geometry, pixel description, acquisition parameters that identify no one),
 * and nothing else. An attribute that is on neither the table nor this list is removed, sequences
 * included, so an attribute new in next year's standard is removed until someone decides
 * otherwise. Add to this list only what a model needs and what cannot carry identity. Its values
 * are checked, not trusted: the VR the dictionary gives, at most the values its VM allows, numbers
 * that parse, code strings from TERMS; free text (manufacturer, model, kernel names) is not kept at
 * all, and nothing on this list is kept inside a sequence item (nested, it is default deny).
 */
export const CT_KEEP: ReadonlyMap<string, string> = new Map([
  // File meta information (dcmjs writes the group length).
  ['00020001', 'FileMetaInformationVersion'],
  ['00020002', 'MediaStorageSOPClassUID'],
  ['00020010', 'TransferSyntaxUID'],
  ['00020012', 'ImplementationClassUID'],
  // SOP common, general image and series.
  ['00080005', 'SpecificCharacterSet'],
  ['00080008', 'ImageType'],
  ['00080016', 'SOPClassUID'],
  ['00080060', 'Modality'],
  ['00180015', 'BodyPartExamined'],
  ['00185100', 'PatientPosition'],
  ['00200011', 'SeriesNumber'],
  ['00200012', 'AcquisitionNumber'],
  ['00200013', 'InstanceNumber'],
  ['00200020', 'PatientOrientation'],
  ['00200060', 'Laterality'],
  ['00280301', 'BurnedInAnnotation'],
  ['00282110', 'LossyImageCompression'],
  // Image plane.
  ['00180050', 'SliceThickness'],
  ['00180088', 'SpacingBetweenSlices'],
  ['00200032', 'ImagePositionPatient'],
  ['00200037', 'ImageOrientationPatient'],
  ['00201041', 'SliceLocation'],
  ['00280030', 'PixelSpacing'],
  // Image pixel.
  ['00280002', 'SamplesPerPixel'],
  ['00280004', 'PhotometricInterpretation'],
  ['00280006', 'PlanarConfiguration'],
  ['00280008', 'NumberOfFrames'],
  ['00280010', 'Rows'],
  ['00280011', 'Columns'],
  ['00280100', 'BitsAllocated'],
  ['00280101', 'BitsStored'],
  ['00280102', 'HighBit'],
  ['00280103', 'PixelRepresentation'],
  ['00280106', 'SmallestImagePixelValue'],
  ['00280107', 'LargestImagePixelValue'],
  ['00280120', 'PixelPaddingValue'],
  ['00281050', 'WindowCenter'],
  ['00281051', 'WindowWidth'],
  ['00281052', 'RescaleIntercept'],
  ['00281053', 'RescaleSlope'],
  ['00281054', 'RescaleType'],
  ['7FE00010', 'PixelData'],
  // CT image: acquisition and reconstruction.
  ['00180060', 'KVP'],
  ['00180090', 'DataCollectionDiameter'],
  ['00181100', 'ReconstructionDiameter'],
  ['00181110', 'DistanceSourceToDetector'],
  ['00181111', 'DistanceSourceToPatient'],
  ['00181120', 'GantryDetectorTilt'],
  ['00181130', 'TableHeight'],
  ['00181140', 'RotationDirection'],
  ['00181150', 'ExposureTime'],
  ['00181151', 'XRayTubeCurrent'],
  ['00181152', 'Exposure'],
  ['00181170', 'GeneratorPower'],
  ['00181190', 'FocalSpots'],
  ['00189306', 'SingleCollimationWidth'],
  ['00189307', 'TotalCollimationWidth'],
  ['00189309', 'TableSpeed'],
  ['00189310', 'TableFeedPerRotation'],
  ['00189311', 'SpiralPitchFactor'],
  ['00189345', 'CTDIvol'],
  // A code sequence, kept only with codes from CODES below.
  ['00082218', 'AnatomicRegionSequence'],
]);

/**
 * Code sequences the keep list names, and the codes each may carry: an item whose coding scheme
 * and code value are not listed is removed, and a listed one keeps exactly the scheme, the value
 * and the meaning written here (never the export's wording, which is free text).
 */
export const CODES: ReadonlyMap<string, readonly { scheme: string; value: string; meaning: string }[]> = new Map([
  [
    '00082218',
    [
      { scheme: 'SCT', value: '51185008', meaning: 'Thorax' },
      { scheme: 'SCT', value: '43799004', meaning: 'Chest' },
      { scheme: 'SCT', value: '416550000', meaning: 'Chest and Abdomen' },
      { scheme: 'SCT', value: '818981001', meaning: 'Abdomen' },
      { scheme: 'SCT', value: '39607008', meaning: 'Lung' },
      { scheme: 'SRT', value: 'T-D3000', meaning: 'Chest' },
      { scheme: 'SRT', value: 'T-28000', meaning: 'Lung' },
    ],
  ],
]);

/**
 * The Type (1: a value required, 2: the attribute required, maybe empty) of the attributes that
 * Table E.1-1 gives a conditional action (X/Z, X/D, X/Z/D, Z/D, X/Z/U*) and that the CT Image IOD
 * (PS3.3 A.3) requires; an attribute not here is Type 3 in a CT image, or not in one: X.
 */
export const CT_IOD_TYPE: ReadonlyMap<string, 1 | 2> = new Map([
  ['00100020', 2], // Patient ID (Patient)
  ['00080023', 2], // Content Date (General Image, 2C)
  ['00080033', 2], // Content Time (General Image, 2C)
  ['00180010', 2], // Contrast/Bolus Agent (Contrast/Bolus, when present)
]);

/** The values a kept code string (or short enumerated text) may take; any other value is refused. */
export const TERMS: ReadonlyMap<string, ReadonlySet<string>> = new Map(
  (
    [
      [
        '00080008',
        ['ORIGINAL', 'DERIVED', 'PRIMARY', 'SECONDARY', 'AXIAL', 'LOCALIZER', 'REFORMATTED', 'VOLUME', 'MPR', 'HELICAL', 'NONE'],
      ],
      ['00080060', ['CT']],
      ['00180015', ['CHEST', 'LUNG', 'THORAX', 'ABDOMEN', 'CHESTABDOMEN', 'CHEST_TO_PELVIS', 'WHOLEBODY', 'HEART', 'CHESTABDPELVIS']],
      ['00185100', ['HFS', 'FFS', 'HFP', 'FFP', 'HFDR', 'HFDL', 'FFDR', 'FFDL']],
      ['00200020', ['A', 'P', 'L', 'R', 'H', 'F', 'AL', 'AR', 'PL', 'PR', 'AF', 'AH', 'PF', 'PH', 'LF', 'LH', 'RF', 'RH']],
      ['00200060', ['R', 'L']],
      ['00280004', ['MONOCHROME1', 'MONOCHROME2']],
      ['00280301', ['NO']],
      ['00282110', ['00', '01']],
      ['00181140', ['CW', 'CC']],
      ['00281054', ['HU', 'US', 'OD']],
    ] as const
  ).map(([tag, terms]) => [tag, new Set<string>(terms)]),
);
