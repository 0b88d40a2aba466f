import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ANNEX_E_ROWS } from '../src/ingest/annex-e/table-e1-1.generated';
import { CT_KEEP } from '../src/ingest/annex-e/keep-list';
import { type IngestRun } from '../src/ingest/ingest-run.repository';
import { KEPT_METAIMAGE_KEYS } from '../src/ingest/metaimage-cleanse';
import { DB_KINDS } from './support/backends';
import { EXPORT_UID_ROOT, PHI, readDataset, syntheticDicom, vrOf } from './support/dicom';
import { DATASET, type Fixture, startFixture } from './support/fixture';
import { bearer, objectPath, rawRequest } from './support/http';
import { cage } from './cli/cli-harness';
import { SigV4TestClient } from './support/sigv4-client';
import { AuditRepository } from '../src/audit/audit.repository';
import { Clock } from '../src/clock/clock';
import { DatasetRepository } from '../src/datasets/dataset.repository';
import { GrantRepository } from '../src/grants/grant.repository';
import { IngestService } from '../src/ingest/ingest.service';
import { SeriesRepository } from '../src/datasets/series.repository';
import { ObjectStore } from '../src/storage/object-store.service';

const STUDY = '1.2.826.0.1.3680043.8.498.1';
const SERIES = `${STUDY}.1`;
const SOPS = [1, 2, 3].map((n) => `${SERIES}.${n}`);
const LUNA_UID = '1.3.6.1.4.1.14519.5.2.1.6279.6001.100225287222365663678666836860';
const PIXELS = SOPS.map((_, n) => new Uint16Array(64).map((_v, i) => (i * 31 + n * 7) & 0xffff));
const RAW = randomBytes(4 * 4 * 3 * 2);
const MHD = [
  'ObjectType = Image',
  'NDims = 3',
  'BinaryData = True',
  'BinaryDataByteOrderMSB = False',
  'CompressedData = False',
  'TransformMatrix = 1 0 0 0 1 0 0 0 1',
  'Offset = -195.5 -182.25 -307.75',
  'CenterOfRotation = 0 0 0',
  'AnatomicalOrientation = RAI',
  'ElementSpacing = 0.79 0.79 2.5',
  'PatientName = PHI Jane Patient',
  'PatientID = PHI-MRN-7',
  'StudyDate = 20190302',
  'Comment = PHI scanned at St Elsewhere',
  'DimSize = 4 4 3',
  'ElementType = MET_SHORT',
  `ElementDataFile = ${LUNA_UID}.raw`,
].join('\n');
const CSV = `seriesuid,coordX,coordY,coordZ,diameter_mm,patient_name,mrn\n${LUNA_UID},-100.5,20.25,-250,7.5,PHI Jane,PHI-MRN-7\n`;

/** The raw export a hospital hands over: DICOM, MetaImage, labels, and things that must not pass. */
function rawExport(root: string): void {
  const dir = join(root, 'export', 'Doe_Jane_PHI');
  mkdirSync(join(dir, 'ct'), { recursive: true });
  SOPS.forEach((sop, n) =>
    writeFileSync(
      join(dir, 'ct', `IM${n}.dcm`),
      syntheticDicom({
        study: STUDY,
        series: SERIES,
        sop,
        frameOfReference: `${STUDY}.9`,
        patientId: 'PHI-MRN-7',
        references: n > 0 ? SOPS[0] : undefined,
        studyDate: '20190302',
        acquisitionDate: '20190305',
        birthDate: '19500110',
        pixels: PIXELS[n],
      }),
    ),
  );
  writeFileSync(
    join(dir, 'ct', 'IM9.dcm'),
    syntheticDicom({
      study: STUDY,
      series: `${SERIES}.9`,
      sop: `${SERIES}.9.1`,
      frameOfReference: `${STUDY}.9`,
      patientId: 'PHI-MRN-7',
      studyDate: '20190302',
      acquisitionDate: '20190302',
      birthDate: '19500110',
      burnedIn: true,
      pixels: PIXELS[0],
    }),
  );
  writeFileSync(
    join(dir, 'ct', 'SC1.dcm'),
    syntheticDicom({
      study: STUDY,
      series: `${SERIES}.8`,
      sop: `${SERIES}.8.1`,
      frameOfReference: `${STUDY}.9`,
      patientId: 'PHI-MRN-7',
      studyDate: '20190302',
      acquisitionDate: '20190302',
      birthDate: '19500110',
      sopClass: '1.2.840.10008.5.1.4.1.1.7',
      pixels: PIXELS[0],
    }),
  );
  writeFileSync(
    join(dir, 'ct', 'JP1.dcm'),
    syntheticDicom({
      study: STUDY,
      series: `${SERIES}.6`,
      sop: `${SERIES}.6.1`,
      frameOfReference: `${STUDY}.9`,
      patientId: 'PHI-MRN-7',
      studyDate: '20190302',
      acquisitionDate: '20190302',
      birthDate: '19500110',
      transferSyntax: '1.2.840.10008.1.2.4.50',
      pixels: PIXELS[0],
    }),
  );
  writeFileSync(join(dir, `${LUNA_UID}.mhd`), MHD);
  writeFileSync(join(dir, `${LUNA_UID}.raw`), RAW);
  writeFileSync(join(dir, 'annotations.csv'), CSV);
  writeFileSync(join(dir, 'report.pdf'), '%PDF-1.4 PHI discharge letter');
  writeFileSync(join(dir, 'notes.txt'), 'PHI free text');
}

describe.each(DB_KINDS)('ingest on %s', (db) => {
  let f: Fixture;
  const root = mkdtempSync(join(tmpdir(), 'cage-ingest-'));
  let bucket: string;

  beforeAll(async () => {
    rawExport(root);
    f = await startFixture({ db, env: { CAGE_INGEST_ROOT: root } });
    const gw = f.gateway;
    bucket = (await gw.get(DatasetRepository).get(DATASET))!.bucket;
    const now = gw.get(Clock).now();
    for (const id of ['ing', 'ing2', 'ing5']) {
      await gw
        .get(DatasetRepository)
        .insert({ id, bucket, prefix: `${id}/`, title: id, splits: [{ name: 'train', kind: 'train', prefix: 'train/' }] }, now, 'test');
      await gw.get(GrantRepository).insert(
        {
          id: `alpha-${id}`,
          team: 'alpha',
          dataset: id,
          split: 'train',
          notBefore: new Date(now.getTime() - 3600_000),
          notAfter: new Date(now.getTime() + 3600_000),
          byteQuota: null,
        },
        now,
        'test',
      );
    }
  });
  afterAll(async () => {
    await f?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  const organizer = () => bearer(f.organizerToken);
  const body = {
    source: 'export',
    target: 'train/',
    csvColumns: ['seriesuid', 'coordX', 'coordY', 'coordZ', 'diameter_mm'],
    csvPseudonymize: ['seriesuid'],
  };

  async function ingest(dataset: string, extra: Record<string, unknown> = {}): Promise<IngestRun> {
    const r = await rawRequest(
      f.gateway.controlUrl,
      'POST',
      `/v1/datasets/${dataset}/ingest`,
      { ...organizer(), 'content-type': 'application/json' },
      JSON.stringify({ ...body, ...extra }),
    );
    expect(r.status).toBe(202);
    const started = JSON.parse(r.body.toString()) as IngestRun;
    for (;;) {
      const run = JSON.parse(
        (await rawRequest(f.gateway.controlUrl, 'GET', `/v1/ingests/${started.id}`, organizer())).body.toString(),
      ) as IngestRun;
      if (run.state !== 'running') return run;
      await new Promise((res) => setTimeout(res, 50));
    }
  }

  async function stored(key: string, dataset = 'ing'): Promise<Buffer> {
    return f.gateway.get(ObjectStore).getBuffer(bucket, `${dataset}/${key}`, 64 * 1024 * 1024);
  }

  const manifest = async (dataset: string) =>
    (
      await f.db.query<{ key: string; sha256: string; size: string | number }>(
        'SELECT key, sha256, size FROM manifest_entries WHERE dataset_id = $1 ORDER BY key',
        [dataset],
      )
    ).rows.map((e) => ({ key: e.key, sha256: e.sha256, size: Number(e.size) }));

  let run: IngestRun;
  it('cleanses a raw export: every supported file written, refused ones reported, a summary of what was stripped', async () => {
    run = await ingest('ing');
    expect(run).toMatchObject({ state: 'done', filesWritten: 5, filesRefused: 5 });
    const refused = run.summary!.refused.map((r) => [r.path.split('/').pop(), r.reason]);
    expect(refused).toEqual(
      expect.arrayContaining([
        ['IM9.dcm', expect.stringContaining('Burned In Annotation')],
        ['SC1.dcm', expect.stringContaining('is not a CT image')],
        ['JP1.dcm', expect.stringContaining('not an uncompressed one')],
        ['report.pdf', expect.stringContaining('unsupported file type')],
        ['notes.txt', expect.stringContaining('unsupported file type')],
      ]),
    );
    expect(run.summary!.stripped).toMatchObject({
      'DICOM E.1-1 Z→pseudonym': expect.any(Number), // Patient Name: at the top and nested in sequences
      'DICOM E.1-1 X private': 6,
      'DICOM default deny': expect.any(Number),
      'MetaImage keys (X)': 4,
      'CSV columns (X)': 2,
    });
    const leaves = (await f.gateway.get(AuditRepository).find({ limit: 10_000 }))
      .map((l) => l.leaf)
      .filter((l) => l.action === 'dataset.ingest');
    const leaf = leaves.find((l) => (l.detail as { run?: string }).run === run.id);
    expect(leaf).toBeDefined();
    // What auditors read (the run as they get it, and its leaf): counts and reason codes, no word
    // of the export — no column name, header key, file name or value.
    const asAuditor = await rawRequest(f.gateway.controlUrl, 'GET', `/v1/ingests/${run.id}`, bearer(f.auditorToken));
    expect(asAuditor.status).toBe(200);
    for (const text of [asAuditor.body.toString(), JSON.stringify(leaf)])
      expect(text).not.toMatch(/mrn|patient_name|PatientName|StudyDate|Comment|Doe|Jane|PHI|IM\d|1\.3\.6\.1\.4\.1\.14519|annotations\.csv/);
  });

  it('should not copy a refused file, nor keep any source path or original identifier in a key', async () => {
    const keys = (await manifest('ing')).map((e) => e.key);
    expect(keys).toHaveLength(6);
    expect(keys.join('\n')).not.toMatch(/PHI|Doe|report|notes|IM\d|1\.3\.6\.1\.4\.1\.14519|1\.2\.826\.0\.1\.3680043\.8\.498/);
    const inBucket = (await f.gateway.get(ObjectStore).list(bucket, 'ing/', undefined, 1000)).objects.map((o) =>
      o.key.slice('ing/'.length),
    );
    expect(inBucket.sort()).toEqual([...keys].sort());
  });

  it('DICOM: every row of Table E.1-1 as its action says, at every depth; default deny beyond; no PHI byte served; pixels identical; UIDs consistent; dates keep their intervals', async () => {
    const keys = (await manifest('ing')).map((e) => e.key).filter((k) => k.endsWith('.dcm'));
    expect(keys).toHaveLength(3);
    // Read back as a job reads them: through the sandbox listener.
    const outs = await Promise.all(
      keys.map(async (k) => {
        const r = await rawRequest(f.gateway.sandboxUrl, 'GET', objectPath('ing', k), bearer(f.alpha.token));
        expect(r.status).toBe(200);
        return { key: k, bytes: r.body };
      }),
    );
    const datasets = outs.map((o) => readDataset(o.bytes));
    const filled = (el: { Value?: unknown[] } | undefined) => (el?.Value ?? []).filter((v) => v !== '' && v !== null);
    for (const [n, { bytes }] of outs.entries()) {
      // The marker every identifying value of the synthetic export carries (every row, nested two deep).
      expect(bytes.includes(PHI)).toBe(false);
      expect(bytes.includes(EXPORT_UID_ROOT)).toBe(false);
      const { dict, meta } = datasets[n];
      const wrong: string[] = [];
      for (const row of ANNEX_E_ROWS) {
        if (row.tagKind !== 'exact') continue;
        const el = row.tag.startsWith('0002') ? meta[row.tag] : dict[row.tag];
        const action = row.options.retainLongModifiedDates ?? row.basic;
        const values = filled(el);
        const absent = el === undefined;
        const empty = !absent && values.length === 0;
        const remapped = !absent && el.vr === 'UI' && values.length > 0 && values.every((v) => /^2\.25\.\d+$/.test(String(v)));
        const pseudonym = values.length === 1 && /PAT-/.test(JSON.stringify(values[0]));
        const ok: Record<string, boolean> = {
          X: absent,
          Z: empty || (['00100010', '00100020'].includes(row.tag) && pseudonym),
          D: !absent && (values.length > 0 || el.vr === 'SQ'),
          U: absent || remapped || el.vr !== 'UI',
          C: absent || (el.vr === 'TM' ? values.length > 0 : true),
          'X/Z': absent || empty,
          'X/D': absent || values.length > 0,
          'X/Z/D': true,
          'Z/D': !absent,
          'X/Z/U*': absent || empty || remapped,
        };
        // U: the synthetic export gives every UID attribute a value, so it must come out replaced.
        if (action === 'U' && !absent && el.vr === 'UI' && !remapped) wrong.push(`${row.tag} ${row.name}: U not replaced`);
        // Bytes of VR UN are removed whatever the table says (nothing can be cleaned in them).
        if (vrOf(row.tag, row.name) === 'UN') {
          if (!absent) wrong.push(`${row.tag} ${row.name}: UN kept`);
          continue;
        }
        if (ok[action] === false) wrong.push(`${row.tag} ${row.name}: ${action} gave ${JSON.stringify(el ?? null).slice(0, 120)}`);
      }
      expect(wrong).toEqual([]);
      // Beyond the table: private attributes, UN bytes in any group, trailing padding, the icon,
      // overlays, free text the table does not list: all gone.
      expect(Object.keys(dict).filter((t) => parseInt(t.slice(0, 4), 16) % 2 === 1)).toEqual([]);
      for (const tag of ['44440010', 'FFFCFFFC', '00880200', '00102000', '60004000', '60000010', '00321070'])
        expect([tag, dict[tag]]).toEqual([tag, undefined]);
      expect(Object.keys(meta).sort()).toEqual(
        ['00020000', '00020001', '00020002', '00020003', '00020010', '00020012', '00020013'].filter((t) => t in meta),
      );
      expect(meta['00020016']).toBeUndefined();
      expect(meta['00020102']).toBeUndefined();
      // A code sequence the keep list names keeps the listed code only, in the list's words.
      expect(
        (dict['00082218'].Value as Record<string, { Value: unknown[] }>[]).map((i) => [
          i['00080100'].Value[0],
          i['00080102'].Value[0],
          i['00080104'].Value[0],
        ]),
      ).toEqual([['51185008', 'SCT', 'Thorax']]);
      // Every attribute left is the table's, the keep list's, or the profile's own.
      const allowed = new Set([...ANNEX_E_ROWS.map((r) => r.tag), ...CT_KEEP.keys(), '00120062', '00120063', '00120064', '00280303']);
      expect(Object.keys(dict).filter((t) => !allowed.has(t))).toEqual([]);
      expect(String(dict['00083010'].Value![0])).toMatch(/^2\.25\./);
      expect(bytes.includes('20230514')).toBe(false);
      expect(dict['00280303'].Value).toEqual(['MODIFIED']);
      expect(filled(dict['00100030'])).toEqual([]);
      expect(filled(dict['00180010'])).toEqual([]); // Contrast/Bolus Agent: Z/D, Type 2 → empty
      expect(dict['00080016'].Value).toEqual(['1.2.840.10008.5.1.4.1.1.2']);
      expect(meta['00020010'].Value).toEqual(['1.2.840.10008.1.2.1']);
      expect(dict['00120062'].Value).toEqual(['YES']);
      // A reference sequence the table lets go (X/Z/U*, Type 3 in a CT image) is gone.
      expect(dict['00082112']).toBeUndefined();
    }
    const sop = (d: (typeof datasets)[number]) => d.dict['00080018'].Value![0] as string;
    const bySource = new Map(datasets.map((d) => [Buffer.from(d.dict['7FE00010'].Value![0] as ArrayBuffer).toString('hex'), d]));
    // Pixel data byte-identical, so each output can be matched to its source.
    const originals = PIXELS.map((p) => bySource.get(Buffer.from(p.buffer).toString('hex')));
    expect(originals.every((d) => d !== undefined)).toBe(true);
    const [first, second, third] = originals as (typeof datasets)[number][];
    for (const d of originals as (typeof datasets)[number][]) {
      expect(d.dict['0020000D'].Value).toEqual(first.dict['0020000D'].Value);
      expect(d.dict['0020000E'].Value).toEqual(first.dict['0020000E'].Value);
      expect(d.dict['00200052'].Value).toEqual(first.dict['00200052'].Value);
      expect(d.meta['00020003'].Value).toEqual([sop(d)]);
      expect(d.dict['00100020'].Value).toEqual(first.dict['00100020'].Value);
      expect(String(d.dict['00100020'].Value![0])).toMatch(/^PAT-/);
    }
    expect(first.dict['0020000D'].Value![0]).not.toBe(STUDY);
    expect(first.dict['0020000E'].Value![0]).not.toBe(SERIES);
    expect(new Set([first, second, third].map(sop)).size).toBe(3);
    expect(SOPS).not.toContain(sop(first));
    // Dates shifted, intervals kept: study − birth, acquisition − study.
    const day = (d: (typeof datasets)[number], tag: string) => {
      const v = String(d.dict[tag].Value![0]);
      return Date.UTC(Number(v.slice(0, 4)), Number(v.slice(4, 6)) - 1, Number(v.slice(6, 8))) / 86_400_000;
    };
    const at = (s: string) => Date.UTC(Number(s.slice(0, 4)), Number(s.slice(4, 6)) - 1, Number(s.slice(6, 8))) / 86_400_000;
    const shift = at('20190302') - day(first, '00080020');
    expect(shift).toBeGreaterThanOrEqual(365);
    expect(shift).toBeLessThanOrEqual(3650);
    expect(day(first, '00080022') - day(first, '00080020')).toBe(3);
    for (const d of [second, third]) expect(day(d, '00080020')).toBe(day(first, '00080020'));
  });

  it('MetaImage: only geometry keys survive, geometry intact, voxels identical, named by a pseudonym', async () => {
    const keys = (await manifest('ing')).map((e) => e.key);
    const mhdKey = keys.find((k) => k.endsWith('.mhd'))!;
    const header = (await stored(mhdKey)).toString();
    const fields = new Map(
      header
        .trim()
        .split('\n')
        .map((l) => l.split(' = ') as [string, string]),
    );
    expect([...fields.keys()].every((k) => KEPT_METAIMAGE_KEYS.includes(k) || k === 'ElementDataFile')).toBe(true);
    expect(header).not.toContain(PHI);
    for (const k of [
      'DimSize',
      'ElementSpacing',
      'Offset',
      'TransformMatrix',
      'ElementType',
      'AnatomicalOrientation',
      'CenterOfRotation',
    ]) {
      expect([k, fields.get(k)]).toEqual([
        k,
        MHD.split('\n')
          .find((l) => l.startsWith(`${k} = `))!
          .split(' = ')[1],
      ]);
    }
    const pseudo = mhdKey.slice('train/'.length, -'.mhd'.length);
    expect(fields.get('ElementDataFile')).toBe(`${pseudo}.raw`);
    expect((await stored(`train/${pseudo}.raw`)).equals(RAW)).toBe(true);
    // The label CSV: configured columns only, the series id mapped to the same pseudonym.
    const csv = (await stored('train/annotations.csv')).toString();
    expect(csv).toBe(`seriesuid,coordX,coordY,coordZ,diameter_mm\n${pseudo},-100.5,20.25,-250,7.5\n`);
    // The series index knows the scan under its pseudonym (predictions are checked against it).
    expect((await f.gateway.get(SeriesRepository).boxes([{ dataset: 'ing', split: 'train' }])).has(pseudo)).toBe(true);
  });

  it('serves only what the manifest lists: an object injected behind the gateway is 404, unlisted, and reported', async () => {
    const gw = f.gateway;
    const entry = (await manifest('ing')).find((e) => e.key.endsWith('.raw'))!;
    const ok = await rawRequest(f.gateway.sandboxUrl, 'GET', objectPath('ing', entry.key), bearer(f.alpha.token));
    expect(ok.status).toBe(200);
    await gw.get(ObjectStore).put(bucket, 'ing/train/injected.raw', Buffer.from('behind the gateway'));
    const injected = await rawRequest(f.gateway.sandboxUrl, 'GET', objectPath('ing', 'train/injected.raw'), bearer(f.alpha.token));
    expect(injected.status).toBe(404);
    const listing = JSON.parse(
      (await rawRequest(f.gateway.sandboxUrl, 'GET', '/v1/datasets/ing/objects?limit=1000', bearer(f.alpha.token))).body.toString(),
    ) as { objects: { key: string }[] };
    expect(listing.objects.map((o) => o.key).sort()).toEqual((await manifest('ing')).map((e) => e.key).sort());
    // The S3 door is no other: the injected object is NoSuchKey and missing from its listing too.
    const s3 = new SigV4TestClient(f.gateway.sandboxUrl, f.alpha);
    const viaS3 = await s3.send({ method: 'GET', path: '/ing/train/injected.raw', date: new Date() });
    expect(viaS3.status).toBe(404);
    expect(viaS3.body.toString()).toContain('<Code>NoSuchKey</Code>');
    const s3List = (
      await s3.send({ method: 'GET', path: '/ing', query: { 'list-type': '2', prefix: 'train/' }, date: new Date() })
    ).body.toString();
    expect([...s3List.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1]).sort()).toEqual((await manifest('ing')).map((e) => e.key).sort());
    // Replaced bytes under a listed key: not the object the manifest describes.
    await gw.get(ObjectStore).put(bucket, `ing/${entry.key}`, randomBytes(entry.size));
    const swapped = await rawRequest(f.gateway.sandboxUrl, 'GET', objectPath('ing', entry.key), bearer(f.alpha.token));
    expect(swapped.status).toBe(404);
    // Nor its size or a part of it: HEAD and a range are decided on what the store answered too.
    expect((await rawRequest(f.gateway.sandboxUrl, 'HEAD', objectPath('ing', entry.key), bearer(f.alpha.token))).status).toBe(404);
    const part = await rawRequest(f.gateway.sandboxUrl, 'GET', objectPath('ing', entry.key), {
      ...bearer(f.alpha.token),
      range: 'bytes=0-3',
    });
    expect(part.status).toBe(404);
    // Nor, through a range past its end, the size of other bytes put under the key (a 416 names it).
    await gw.get(ObjectStore).put(bucket, `ing/${entry.key}`, randomBytes(entry.size + 100));
    for (const range of [`bytes=${entry.size + 500}-`, `bytes=${entry.size + 50}-`]) {
      const past = await rawRequest(f.gateway.sandboxUrl, 'GET', objectPath('ing', entry.key), { ...bearer(f.alpha.token), range });
      expect(past.status).toBe(404);
      expect(past.headers['content-range']).toBeUndefined();
    }
    await gw.get(ObjectStore).put(bucket, `ing/${entry.key}`, randomBytes(entry.size));
    const leaves = (await gw.get(AuditRepository).find({ limit: 10_000 })).map((l) => l.leaf);
    // Policy refused both, and the leaves say which policy.
    expect(leaves.find((l) => l.requestId === injected.headers['x-request-id'])).toMatchObject({
      decision: 'deny',
      status: 404,
      policies: ['manifest-listed-only'],
      detail: { reason: 'not_in_manifest' },
    });
    expect(leaves.find((l) => l.requestId === swapped.headers['x-request-id'])).toMatchObject({
      decision: 'deny',
      status: 404,
      policies: ['manifest-listed-only'],
      detail: { reason: 'manifest_mismatch' },
    });
    // And the organizers' check of the whole bucket names both.
    const verify = await cage(['dataset', 'verify', 'ing'], { env: { CAGE_URL: f.gateway.controlUrl, CAGE_TOKEN: f.auditorToken } });
    expect(verify.code).toBe(1);
    expect(verify.stdout).toMatch(/unexpected \(never served\)\s*│?\s*train\/injected\.raw/);
    expect(verify.stdout).toContain(entry.key);
    const report = (await gw.get(AuditRepository).find({ limit: 10_000 }))
      .map((l) => l.leaf)
      .filter((l) => l.action === 'dataset.verify-manifest')
      .pop();
    expect(report).toMatchObject({ decision: 'deny', detail: { unexpected: ['train/injected.raw'], changed: [entry.key], missing: [] } });
  });

  it('should not read as done before its leaf is written and its dataset free: the next run starts at once', async () => {
    const start = () =>
      rawRequest(
        f.gateway.controlUrl,
        'POST',
        '/v1/datasets/ing5/ingest',
        { ...organizer(), 'content-type': 'application/json' },
        JSON.stringify(body),
      );
    const r = await start();
    expect(r.status).toBe(202);
    const id = (JSON.parse(r.body.toString()) as IngestRun).id;
    // Polled as a client polls it, as fast as it answers.
    let seen: IngestRun;
    do seen = JSON.parse((await rawRequest(f.gateway.controlUrl, 'GET', `/v1/ingests/${id}`, organizer())).body.toString()) as IngestRun;
    while (seen.state === 'running');
    expect(seen.state).toBe('done');
    // The moment it reads done: its leaf is there, and the dataset takes the next run.
    const leaves = (await f.gateway.get(AuditRepository).find({ limit: 10_000 })).map((l) => l.leaf);
    expect(leaves.filter((l) => l.action === 'dataset.ingest' && (l.detail as { run?: string }).run === id)).toHaveLength(1);
    const next = await start();
    expect(next.status).toBe(202);
    await f.gateway.get(IngestService).idle();
  });

  it('an interrupted ingest resumes and ends with the same manifest as an uninterrupted one', async () => {
    const partial = await ingest('ing2', { limit: 2 });
    expect(partial).toMatchObject({ state: 'partial', filesWritten: 2 });
    const resumed = await ingest('ing2');
    expect(resumed).toMatchObject({ state: 'done', filesSkipped: 2, filesWritten: 3 });
    const again = await ingest('ing2');
    expect(again).toMatchObject({ state: 'done', filesSkipped: 5, filesWritten: 0 });
    expect(await manifest('ing2')).toEqual(await manifest('ing'));
    expect((await manifest('ing2')).find((e) => e.key.endsWith('.raw'))?.sha256).toBe(createHash('sha256').update(RAW).digest('hex'));
    expect(again.summary!.manifestSha256).toBe(run.summary!.manifestSha256);
  });

  it('a run cancelled mid-way (as an operator stops it) resumes where it stopped, to the same manifest', async () => {
    const gw = f.gateway;
    // A larger export, so the run is still going when the cancel lands.
    const big = join(root, 'big');
    mkdirSync(big, { recursive: true });
    for (let n = 0; n < 40; n++) {
      writeFileSync(
        join(big, `IM${n}.dcm`),
        syntheticDicom({
          study: STUDY,
          series: `${SERIES}.7`,
          sop: `${SERIES}.7.${n}`,
          frameOfReference: `${STUDY}.9`,
          patientId: 'PHI-MRN-7',
          studyDate: '20190302',
          acquisitionDate: '20190303',
          birthDate: '19500110',
          pixels: PIXELS[n % 3],
        }),
      );
    }
    for (const id of ['big1', 'big2']) {
      await gw
        .get(DatasetRepository)
        .insert(
          { id, bucket, prefix: `${id}/`, title: id, splits: [{ name: 'train', kind: 'train', prefix: 'train/' }] },
          gw.get(Clock).now(),
          'test',
        );
    }
    const whole = await ingest('big1', { source: 'big' });
    expect(whole).toMatchObject({ state: 'done', filesWritten: 40 });
    const started = JSON.parse(
      (
        await rawRequest(
          f.gateway.controlUrl,
          'POST',
          '/v1/datasets/big2/ingest',
          { ...organizer(), 'content-type': 'application/json' },
          JSON.stringify({ ...body, source: 'big' }),
        )
      ).body.toString(),
    ) as IngestRun;
    for (;;) {
      const run = JSON.parse(
        (await rawRequest(f.gateway.controlUrl, 'GET', `/v1/ingests/${started.id}`, organizer())).body.toString(),
      ) as IngestRun;
      if (run.filesDone >= 3) break;
      await new Promise((res) => setTimeout(res, 5));
    }
    expect((await rawRequest(f.gateway.controlUrl, 'POST', `/v1/ingests/${started.id}/cancel`, organizer())).status).toBe(202);
    await gw.get(IngestService).idle();
    const cut = JSON.parse(
      (await rawRequest(f.gateway.controlUrl, 'GET', `/v1/ingests/${started.id}`, organizer())).body.toString(),
    ) as IngestRun;
    expect(cut.state).toBe('cancelled');
    expect(cut.filesWritten).toBeLessThan(40);
    const resumed = await ingest('big2', { source: 'big' });
    expect(resumed).toMatchObject({ state: 'done', filesSkipped: cut.filesWritten, filesWritten: 40 - cut.filesWritten });
    expect(await manifest('big2')).toEqual(await manifest('big1'));
  });

  it('ingests from s3://bucket/prefix on the raw-data store, to the same manifest as from a directory', async () => {
    const gw = f.gateway;
    const rawBucket = `raw-${randomBytes(4).toString('hex')}`;
    await gw.get(ObjectStore).ensureBucket(rawBucket);
    const dir = join(root, 'export', 'Doe_Jane_PHI');
    const files: [string, Buffer][] = [
      ...SOPS.map((_, n) => [`Doe_Jane_PHI/ct/IM${n}.dcm`, readFileSync(join(dir, 'ct', `IM${n}.dcm`))] as [string, Buffer]),
      ...['IM9', 'SC1', 'JP1'].map((n) => [`Doe_Jane_PHI/ct/${n}.dcm`, readFileSync(join(dir, 'ct', `${n}.dcm`))] as [string, Buffer]),
      [`Doe_Jane_PHI/${LUNA_UID}.mhd`, Buffer.from(MHD)],
      [`Doe_Jane_PHI/${LUNA_UID}.raw`, RAW],
      ['Doe_Jane_PHI/annotations.csv', Buffer.from(CSV)],
      ['Doe_Jane_PHI/report.pdf', Buffer.from('%PDF')],
      ['Doe_Jane_PHI/notes.txt', Buffer.from('PHI')],
    ];
    for (const [k, b] of files) await gw.get(ObjectStore).put(rawBucket, `hospital/export/${k}`, b);
    await gw
      .get(DatasetRepository)
      .insert(
        { id: 'ing-s3', bucket, prefix: 'ing-s3/', title: 'ing-s3', splits: [{ name: 'train', kind: 'train', prefix: 'train/' }] },
        gw.get(Clock).now(),
        'test',
      );
    const fromS3 = await ingest('ing-s3', { source: `s3://${rawBucket}/hospital/export` });
    expect(fromS3).toMatchObject({ state: 'done', filesWritten: 5, filesRefused: 5 });
    const fromDir = await manifest('ing2');
    expect(await manifest('ing-s3')).toEqual(fromDir);
    const missing = await rawRequest(
      f.gateway.controlUrl,
      'POST',
      '/v1/datasets/ing-s3/ingest',
      { ...organizer(), 'content-type': 'application/json' },
      JSON.stringify({ ...body, source: 's3://no-such-raw-bucket/x' }),
    );
    expect(missing.status).toBe(400);
  });

  it('cage ingest: a progress bar on a terminal, the summary, and a re-run that skips everything', async () => {
    const gw = f.gateway;
    await gw
      .get(DatasetRepository)
      .insert(
        { id: 'ing3', bucket, prefix: 'ing3/', title: 'ing3', splits: [{ name: 'train', kind: 'train', prefix: 'train/' }] },
        gw.get(Clock).now(),
        'test',
      );
    const env = { CAGE_URL: f.gateway.controlUrl, CAGE_TOKEN: f.organizerToken };
    const args = [
      'ingest',
      'ing3',
      'export',
      '--target',
      'train/',
      '--csv-columns',
      'seriesuid,coordX,coordY,coordZ,diameter_mm',
      '--csv-pseudonymize',
      'seriesuid',
    ];
    const first = await cage(args, { env, tty: true });
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/\[[#-]{28}\] \d+\/10 files/);
    expect(first.stdout).toContain('ingested ing3: 5 written, 0 skipped, 5 refused');
    expect(first.stdout).toContain('Burned In Annotation');
    expect(first.stdout).toMatch(/DICOM E\.1-1 X private\s*│?\s*6/);
    const second = await cage([...args, '--json'], { env });
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ state: 'done', filesSkipped: 5, filesWritten: 0, filesRefused: 5 });
    const runs = await cage(['ingest-runs', 'ing3', '--json'], { env });
    expect((JSON.parse(runs.stdout) as { runs: unknown[] }).runs).toHaveLength(2);
    expect((await cage(['ingest', 'ing3', 'export', '--target', 'nowhere/'], { env })).code).toBe(1);
    // Cleansed otherwise (a column less): nothing is skipped, and the new rule holds.
    const narrower = await cage(
      [
        'ingest',
        'ing3',
        'export',
        '--target',
        'train/',
        '--csv-columns',
        'seriesuid,coordX,coordY,coordZ',
        '--csv-pseudonymize',
        'seriesuid',
        '--json',
      ],
      { env },
    );
    expect(JSON.parse(narrower.stdout)).toMatchObject({ state: 'done', filesSkipped: 0, filesWritten: 5 });
    expect((await stored('train/annotations.csv', 'ing3')).toString()).toMatch(
      /^seriesuid,coordX,coordY,coordZ\n[^,]+,-100\.5,20\.25,-250\n$/,
    );
  });

  it('withdraws what a source no longer yields: a file deleted from the export stops being served', async () => {
    const gw = f.gateway;
    const small = join(root, 'small');
    mkdirSync(small, { recursive: true });
    SOPS.forEach((sop, n) =>
      writeFileSync(
        join(small, `IM${n}.dcm`),
        syntheticDicom({
          study: STUDY,
          series: SERIES,
          sop,
          frameOfReference: `${STUDY}.9`,
          patientId: 'PHI-MRN-7',
          studyDate: '20190302',
          acquisitionDate: '20190305',
          birthDate: '19500110',
          pixels: PIXELS[n],
        }),
      ),
    );
    await gw
      .get(DatasetRepository)
      .insert(
        { id: 'ing4', bucket, prefix: 'ing4/', title: 'ing4', splits: [{ name: 'train', kind: 'train', prefix: 'train/' }] },
        gw.get(Clock).now(),
        'test',
      );
    expect(await ingest('ing4', { source: 'small' })).toMatchObject({ state: 'done', filesWritten: 3 });
    const before = await manifest('ing4');
    rmSync(join(small, 'IM2.dcm'));
    const again = await ingest('ing4', { source: 'small' });
    expect(again).toMatchObject({ state: 'done', filesSkipped: 2, filesWritten: 0, summary: { withdrawn: 1 } });
    const after = await manifest('ing4');
    expect(after).toHaveLength(2);
    const gone = before.find((e) => !after.some((a) => a.key === e.key))!;
    expect((await rawRequest(f.gateway.sandboxUrl, 'GET', objectPath('ing4', gone.key), bearer(f.alpha.token))).status).toBe(404);
    expect(
      (await gw.get(ObjectStore).list(bucket, 'ing4/', undefined, 100)).objects.map((o) => o.key.slice('ing4/'.length)).sort(),
    ).toEqual(after.map((e) => e.key).sort());
  });

  it('should not ingest from outside the ingest root, into no split, or with bad input; nothing changes', async () => {
    const before = await manifest('ing');
    symlinkSync('/etc', join(root, 'escape'));
    const outbox = `s3://cage-outbox/`;
    for (const bad of [
      { source: '../../etc' },
      { source: '/etc' },
      { source: 'escape' },
      { source: outbox },
      { source: `s3://${bucket}/ing/` },
      { target: 'nowhere/' },
      { target: 'train' },
      { target: 'train/../x/' },
      { csvPseudonymize: ['mrn'] },
      { extra: 1 },
    ]) {
      const r = await rawRequest(
        f.gateway.controlUrl,
        'POST',
        '/v1/datasets/ing/ingest',
        { ...organizer(), 'content-type': 'application/json' },
        JSON.stringify({ ...body, ...bad }),
      );
      expect([JSON.stringify(bad), r.status]).toEqual([JSON.stringify(bad), 400]);
    }
    const job = await rawRequest(
      f.gateway.controlUrl,
      'POST',
      '/v1/datasets/ing/ingest',
      { ...bearer(f.auditorToken), 'content-type': 'application/json' },
      JSON.stringify(body),
    );
    expect(job.status).toBe(403);
    // Auditors see counts and reasons, not the source paths (folders named after patients).
    const seen = (await rawRequest(f.gateway.controlUrl, 'GET', `/v1/ingests/${run.id}`, bearer(f.auditorToken))).body.toString();
    expect(seen).not.toContain('Doe_Jane');
    expect(seen).toContain('Burned In Annotation');
    expect(await manifest('ing')).toEqual(before);
  });
});
