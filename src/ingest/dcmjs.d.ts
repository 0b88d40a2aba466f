// dcmjs ships no type declarations; these are the parts the ingest uses.
declare module 'dcmjs' {
  type Dataset = Record<string, { vr: string; Value?: unknown[]; _rawValue?: unknown }>;
  interface DicomDictInstance {
    meta: Dataset;
    dict: Dataset;
    write(options?: Record<string, unknown>): ArrayBuffer;
  }
  const dcmjs: {
    data: {
      DicomDict: new (meta: Dataset) => DicomDictInstance;
      DicomMessage: { readFile(buffer: ArrayBuffer, options?: Record<string, unknown>): { meta: Dataset; dict: Dataset } };
      DicomMetaDictionary: {
        denaturalizeDataset(ds: Record<string, unknown>): Dataset;
        naturalizeDataset(ds: Dataset): Record<string, unknown>;
      };
    };
    log: { setLevel(level: string): void };
  };
  export default dcmjs;
}
