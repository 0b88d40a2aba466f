import { createHash } from 'node:crypto';
import { type Readable, Transform } from 'node:stream';
import { MetaImageHeaderError, worldBoundingBox } from '../datasets/metaimage-header';
import { type SeriesEntry } from '../datasets/series.repository';
import { type ObjectStore } from '../storage/object-store.service';
import { deidentifyDicom, DicomRefusal, readDicom } from './dicom-deidentify';
import { type IngestSource, SourceError, type SourceFile } from './ingest-source';
import { cleanseCsv, type CsvRule, CsvRefusal } from './label-csv';
import { cleanseMetaImageHeader } from './metaimage-cleanse';
import { type PseudonymKind, type Pseudonym } from './pseudonym.repository';

/** One thing to cleanse: a MetaImage header with its voxel file, a DICOM file, a label CSV. */
export type IngestUnit =
  | { type: 'metaimage'; path: string; header: SourceFile; data: SourceFile }
  | { type: 'dicom'; path: string; file: SourceFile }
  | { type: 'csv'; path: string; file: SourceFile }
  | { type: 'refused'; path: string; reason: string };

/** How many objects a unit writes: a resumed run skips it only when all are there. */
export const OUTPUTS: Record<Exclude<IngestUnit['type'], 'refused'>, number> = { metaimage: 2, dicom: 1, csv: 1 };

const MAX_MHD_BYTES = 64 * 1024;
const MAX_DICOM_BYTES = 512 * 1024 * 1024;
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Groups a source listing into units; what is of no supported type is refused, never copied. */
export function planUnits(files: SourceFile[]): IngestUnit[] {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const claimed = new Set<string>();
  const units: IngestUnit[] = [];
  // Outputs are named by file name (MetaImage stem → pseudonym, CSV name): two sources of one
  // name would overwrite each other, so the second and later are refused.
  const names = new Set<string>();
  const duplicate = (f: SourceFile, name: string): boolean => {
    if (!names.has(name)) {
      names.add(name);
      return false;
    }
    units.push({ type: 'refused', path: f.path, reason: 'another file of the same name was taken first; outputs are named by file name' });
    return true;
  };
  for (const f of files) {
    if (!f.path.toLowerCase().endsWith('.mhd')) continue;
    const stem = f.path.slice(0, -4);
    const data = byPath.get(`${stem}.raw`) ?? byPath.get(`${stem}.zraw`);
    claimed.add(f.path);
    if (data === undefined) {
      units.push({ type: 'refused', path: f.path, reason: 'MetaImage header without its .raw voxel file' });
      continue;
    }
    claimed.add(data.path);
    if (duplicate(f, `mhd:${stem.slice(stem.lastIndexOf('/') + 1)}`)) continue;
    units.push({ type: 'metaimage', path: f.path, header: f, data });
  }
  for (const f of files) {
    if (claimed.has(f.path)) continue;
    const name = f.path.slice(f.path.lastIndexOf('/') + 1).toLowerCase();
    const ext = name.includes('.') ? name.slice(name.lastIndexOf('.')) : '';
    if (ext === '.csv') {
      if (!duplicate(f, `csv:${name}`)) units.push({ type: 'csv', path: f.path, file: f });
    } else if (ext === '.dcm' || ext === '.dicom' || ext === '') units.push({ type: 'dicom', path: f.path, file: f });
    else if (ext === '.raw' || ext === '.zraw') units.push({ type: 'refused', path: f.path, reason: 'voxel file without a .mhd header' });
    else
      units.push({
        type: 'refused',
        path: f.path,
        // The extension is the export's text: named only when it is a plain short one.
        reason: `unsupported file type${/^\.[a-z0-9]{1,8}$/.test(ext) ? ` ${JSON.stringify(ext)}` : ''} (DICOM, MetaImage .mhd/.raw and label .csv are ingested)`,
      });
  }
  return units.sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
}

export interface Written {
  key: string;
  sha256: string;
  size: number;
  etag: string;
}

export interface UnitContext {
  source: IngestSource;
  store: ObjectStore;
  bucket: string;
  /** Dataset prefix + target: where outputs go. */
  keyPrefix: string;
  /** Dataset-relative target prefix. */
  target: string;
  dataset: string;
  split: string | undefined;
  csv: CsvRule | undefined;
  pseudonyms: (kind: PseudonymKind, originals: Iterable<string>) => Promise<Map<string, Pseudonym>>;
  count: (what: string, n?: number) => void;
}

export interface UnitResult {
  written: Written[];
  series: SeriesEntry[];
}

/** A refusal of one unit: reported, nothing of it written. */
export class UnitRefusal extends Error {}

/** Opens a source file; a file that cannot be read is refused (by error code, never a path). */
async function openSource(ctx: UnitContext, file: SourceFile): Promise<Readable> {
  try {
    return await ctx.source.open(file);
  } catch (err) {
    if (err instanceof SourceError) throw new UnitRefusal(err.message);
    throw new UnitRefusal(`source file could not be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

async function readAll(stream: Readable, cap: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  stream.on('error', () => undefined);
  for await (const c of stream) {
    n += (c as Buffer).length;
    if (n > cap) {
      stream.destroy();
      throw new UnitRefusal(`larger than ${cap} bytes`);
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

/** readAll, with a read failure of the source refused rather than failing the run. */
async function readSource(stream: Readable, cap: number): Promise<Buffer> {
  try {
    return await readAll(stream, cap);
  } catch (err) {
    if (err instanceof UnitRefusal) throw err;
    throw new UnitRefusal(`source file could not be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

async function put(ctx: UnitContext, name: string, body: Buffer | Readable, size: number, contentType: string): Promise<Written> {
  const key = ctx.target + name;
  if (Buffer.isBuffer(body)) {
    const { etag } = await ctx.store.put(ctx.bucket, ctx.keyPrefix + name, body, contentType, size);
    return { key, sha256: createHash('sha256').update(body).digest('hex'), size, etag };
  }
  // Streamed (voxel files): hashed on the way, never held whole.
  const hash = createHash('sha256');
  let seen = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _e, done) {
      hash.update(chunk);
      seen += chunk.length;
      done(null, chunk);
    },
  });
  body.on('error', (err) => tap.destroy(err));
  const { etag } = await ctx.store.put(ctx.bucket, ctx.keyPrefix + name, body.pipe(tap), contentType, size);
  if (seen !== size) throw new UnitRefusal(`source changed while copying: ${seen} bytes read, ${size} listed`);
  return { key, sha256: hash.digest('hex'), size, etag };
}

export async function processUnit(unit: Exclude<IngestUnit, { type: 'refused' }>, ctx: UnitContext): Promise<UnitResult> {
  switch (unit.type) {
    case 'metaimage':
      return metaimage(unit, ctx);
    case 'dicom':
      return dicom(unit, ctx);
    case 'csv':
      return csv(unit, ctx);
  }
}

async function metaimage(unit: Extract<IngestUnit, { type: 'metaimage' }>, ctx: UnitContext): Promise<UnitResult> {
  const text = (await readSource(await openSource(ctx, unit.header), MAX_MHD_BYTES)).toString('utf8');
  const stem = unit.header.path.slice(unit.header.path.lastIndexOf('/') + 1, -4);
  const dataName = unit.data.path.slice(unit.data.path.lastIndexOf('/') + 1);
  const pseudo = (await ctx.pseudonyms('uid', [stem])).get(stem)!.pseudonym;
  const dataExt = dataName.slice(dataName.lastIndexOf('.'));
  let cleansed;
  try {
    cleansed = cleanseMetaImageHeader(text, `${pseudo}${dataExt}`);
  } catch (err) {
    // The parser's message may quote a header line (which may hold a name): not echoed.
    if (err instanceof MetaImageHeaderError)
      throw new UnitRefusal('MetaImage header refused: not a strict 3-D MetaImage header (see the geometry keys it needs)');
    throw err;
  }
  if (cleansed.sourceDataFile !== dataName) throw new UnitRefusal('ElementDataFile does not name the voxel file beside the header');
  if (cleansed.expectedRawBytes !== undefined && cleansed.expectedRawBytes !== unit.data.size) {
    throw new UnitRefusal(`voxel file is ${unit.data.size} bytes; the header describes ${cleansed.expectedRawBytes}`);
  }
  // Counts only: a header's keys are the export's words (a custom key may be a name).
  if (cleansed.dropped.length > 0) ctx.count('MetaImage keys (X)', cleansed.dropped.length);
  ctx.count('MetaImage file name (pseudonym)');
  const header = Buffer.from(cleansed.text, 'utf8');
  // Voxels first: a header is never in the bucket without its data.
  const raw = await put(ctx, `${pseudo}${dataExt}`, await openSource(ctx, unit.data), unit.data.size, 'application/octet-stream');
  const mhd = await put(ctx, `${pseudo}.mhd`, header, header.length, 'text/plain; charset=utf-8');
  const series =
    ctx.split === undefined ? [] : [{ dataset: ctx.dataset, split: ctx.split, seriesuid: pseudo, box: worldBoundingBox(cleansed.header) }];
  return { written: [raw, mhd], series };
}

async function dicom(unit: Extract<IngestUnit, { type: 'dicom' }>, ctx: UnitContext): Promise<UnitResult> {
  const bytes = await readSource(await openSource(ctx, unit.file), MAX_DICOM_BYTES);
  let parsed;
  try {
    parsed = readDicom(bytes);
  } catch (err) {
    if (err instanceof DicomRefusal)
      throw new UnitRefusal(
        err.code === 'not_dicom' ? 'unsupported file type: not a DICOM Part 10 file, or one that does not parse' : err.message,
      );
    throw err;
  }
  const uids = await ctx.pseudonyms('uid', parsed.uids);
  const patient = (await ctx.pseudonyms('patient', [parsed.patientId])).get(parsed.patientId)!;
  let out;
  try {
    out = deidentifyDicom(parsed, {
      uid: (u) => {
        // Fails closed: a UID without its pseudonym is never written as it was.
        const p = uids.get(u)?.pseudonym;
        if (p === undefined) throw new Error('a UID has no pseudonym');
        return p;
      },
      patient: patient.pseudonym,
      shiftDays: patient.shiftDays ?? 0,
    });
  } catch {
    // dcmjs refuses to write some malformed values (an over-long TM, UI, DA): the file is refused, its values are not echoed.
    throw new UnitRefusal('DICOM could not be rewritten (a malformed value)');
  }
  for (const [k, n] of Object.entries(out.stripped)) ctx.count(`DICOM ${k}`, n);
  if (out.seriesUid === '' || out.sopInstanceUid === '') throw new UnitRefusal('DICOM file without SeriesInstanceUID or SOPInstanceUID');
  return {
    written: [await put(ctx, `${out.seriesUid}/${out.sopInstanceUid}.dcm`, out.bytes, out.bytes.length, 'application/dicom')],
    series: [],
  };
}

async function csv(unit: Extract<IngestUnit, { type: 'csv' }>, ctx: UnitContext): Promise<UnitResult> {
  if (ctx.csv === undefined) throw new UnitRefusal('label CSV refused: no columns are configured to survive (--csv-columns)');
  const name = unit.path.slice(unit.path.lastIndexOf('/') + 1);
  if (!SAFE_NAME.test(name)) throw new UnitRefusal('label CSV name must be letters, digits, ".", "_" or "-"');
  let out;
  try {
    out = await cleanseCsv(await openSource(ctx, unit.file), ctx.csv, async (ids) => {
      const m = await ctx.pseudonyms('uid', ids);
      return new Map([...m].map(([k, v]) => [k, v.pseudonym]));
    });
  } catch (err) {
    if (err instanceof CsvRefusal) throw new UnitRefusal(`label CSV refused: ${err.message}`); // CsvRefusal messages quote no cell
    throw err;
  }
  // Counts only: column names are the export's words (`patient_name`, or a name itself).
  if (out.droppedColumns.length > 0) ctx.count('CSV columns (X)', out.droppedColumns.length);
  if (ctx.csv.pseudonymize.length > 0) ctx.count('CSV identifiers (pseudonym)', out.rows * ctx.csv.pseudonymize.length);
  return { written: [await put(ctx, name, out.bytes, out.bytes.length, 'text/csv; charset=utf-8')], series: [] };
}
