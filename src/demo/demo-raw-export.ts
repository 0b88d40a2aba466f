import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_DEMO_SPEC, generateScans, type SyntheticScan } from './synthetic-ct';

export const DEMO_EXPORT_DIR = 'demo-export';

/**
 * A small "hospital export" under the ingest root, to try `cage ingest` on: MetaImage scans whose
 * headers carry made-up identifying keys, labels with name and MRN columns, and a file of a type
 * that is refused. Everything in it is synthetic. Written once; never overwritten.
 */
export function writeDemoRawExport(ingestRoot: string): string | undefined {
  const dir = join(ingestRoot, DEMO_EXPORT_DIR);
  if (existsSync(dir)) return undefined;
  mkdirSync(dir, { recursive: true });
  const scans: SyntheticScan[] = [];
  for (const scan of generateScans('train', { ...DEFAULT_DEMO_SPEC, seed: 61, trainScans: 3 })) {
    scans.push(scan);
    const n = scans.length;
    const identifying = [
      `PatientName = Example^Patient^${n}`,
      `PatientID = MRN-00${n}417`,
      'StudyDate = 20250301',
      'InstitutionName = St. Example General Hospital',
      `Comment = scanned for Dr. Sample, ward ${n}`,
    ];
    const mhd = scan.mhd.replace(/^ElementDataFile = /m, `${identifying.join('\n')}\nElementDataFile = `);
    writeFileSync(join(dir, scan.mhdFileName), mhd);
    writeFileSync(join(dir, scan.rawFileName), scan.raw);
  }
  const rows = scans.flatMap((s, i) =>
    s.nodules.map((n) => `${s.seriesuid},${n.coordX},${n.coordY},${n.coordZ},${n.diameterMm},Example^Patient^${i + 1},MRN-00${i + 1}417`),
  );
  writeFileSync(join(dir, 'annotations.csv'), ['seriesuid,coordX,coordY,coordZ,diameter_mm,patient_name,mrn', ...rows].join('\n') + '\n');
  writeFileSync(join(dir, 'referral-letter.txt'), 'Dear colleague, please scan Example Patient (MRN-001417) ...\n');
  return dir;
}
