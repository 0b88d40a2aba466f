#!/usr/bin/env node
// A sample contestant job. It runs inside the sandbox, where the gateway is the only door:
// it reads the demo CT scans through the sandbox API, finds nodule candidates with a very
// simple detector, scores itself on the train split, submits its predictions for the test
// split to the leaderboard (scored inside the cage: only the score comes back) and aggregate
// metrics as egress. No dependencies: Node 20's fetch only.
//
//   CAGE_SANDBOX_URL=http://127.0.0.1:8081 CAGE_JOB_TOKEN=... node examples/nodule-job.mjs
// or, next to a local `npm start`, with nothing set (reads ./.cage/bootstrap.json).
import { readFileSync } from 'node:fs';

const boot = process.env.CAGE_JOB_TOKEN
  ? undefined
  : JSON.parse(readFileSync(process.env.CAGE_BOOTSTRAP ?? '.cage/bootstrap.json', 'utf8'));
const SANDBOX = process.env.CAGE_SANDBOX_URL ?? boot.sandboxUrl;
const TOKEN = process.env.CAGE_JOB_TOKEN ?? boot.demoJob.token;
const DATASET = process.env.CAGE_DATASET ?? 'lung-demo';
const auth = { authorization: `Bearer ${TOKEN}` };

async function get(path, init = {}) {
  const r = await fetch(`${SANDBOX}${path}`, { ...init, headers: { ...auth, ...(init.headers ?? {}) } });
  if (!r.ok) throw new Error(`GET ${path}: ${r.status} ${await r.text()}`);
  return r;
}

async function listKeys(prefix) {
  const keys = [];
  let cursor = null;
  do {
    const q = new URLSearchParams({ prefix, limit: '1000', ...(cursor ? { cursor } : {}) });
    const page = await (await get(`/v1/datasets/${DATASET}/objects?${q}`)).json();
    keys.push(...page.objects.map((o) => o.key));
    cursor = page.nextCursor;
  } while (cursor);
  return keys;
}

function parseHeader(text) {
  const h = Object.fromEntries(
    text
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(' = ').map((s) => s.trim())),
  );
  const nums = (k) => h[k].split(/\s+/).map(Number);
  return { dim: nums('DimSize'), spacing: nums('ElementSpacing'), offset: nums('Offset'), file: h.ElementDataFile };
}

/** Bright blobs surrounded by lung: voxels above -300 HU with lung ~15 mm away in all six directions. */
function detect(vox, dim, spacing, offset) {
  const [nx, ny, nz] = dim;
  const at = (x, y, z) => vox[x + nx * (y + ny * z)];
  const cells = new Map();
  const dx = Math.max(1, Math.round(15 / spacing[0]));
  const dy = Math.max(1, Math.round(15 / spacing[1]));
  const dz = Math.max(1, Math.round(15 / spacing[2]));
  const lung = (v) => v < -600;
  for (let z = dz; z < nz - dz; z++)
    for (let y = dy; y < ny - dy; y++)
      for (let x = dx; x < nx - dx; x++) {
        if (at(x, y, z) <= -300) continue;
        if (!lung(at(x - dx, y, z)) || !lung(at(x + dx, y, z)) || !lung(at(x, y - dy, z)) || !lung(at(x, y + dy, z))) continue;
        if (!lung(at(x, y, z - dz)) || !lung(at(x, y, z + dz))) continue;
        const key = `${Math.floor(x / 8)},${Math.floor(y / 8)},${Math.floor(z / 8)}`;
        const c = cells.get(key) ?? { x: 0, y: 0, z: 0, n: 0 };
        c.x += x;
        c.y += y;
        c.z += z;
        c.n += 1;
        cells.set(key, c);
      }
  return [...cells.values()]
    .filter((c) => c.n >= 8)
    .map((c) => ({
      coordX: offset[0] + (c.x / c.n) * spacing[0],
      coordY: offset[1] + (c.y / c.n) * spacing[1],
      coordZ: offset[2] + (c.z / c.n) * spacing[2],
      probability: Math.min(0.99, c.n / 200),
    }));
}

async function scan(split, uid) {
  const header = parseHeader(await (await get(`/v1/datasets/${DATASET}/objects/${split}/${uid}.mhd`)).text());
  const raw = Buffer.from(await (await get(`/v1/datasets/${DATASET}/objects/${split}/${header.file}`)).arrayBuffer());
  const vox = new Int16Array(raw.buffer, raw.byteOffset, raw.length / 2);
  return detect(vox, header.dim, header.spacing, header.offset);
}

const uids = async (split) => [
  ...new Set((await listKeys(`${split}/`)).filter((k) => k.endsWith('.mhd')).map((k) => k.slice(split.length + 1, -4))),
];

// Score on the train split: a nodule is found if a candidate lies within its radius.
const annotations = (await (await get(`/v1/datasets/${DATASET}/objects/train/annotations.csv`)).text())
  .trim()
  .split('\n')
  .slice(1)
  .map((l) => l.split(','));
let found = 0;
let falsePositives = 0;
const trainUids = await uids('train');
for (const uid of trainUids) {
  const candidates = await scan('train', uid);
  const truth = annotations.filter((a) => a[0] === uid).map(([, x, y, z, d]) => ({ x: +x, y: +y, z: +z, r: +d / 2 }));
  for (const t of truth)
    if (candidates.some((c) => Math.hypot(c.coordX - t.x, c.coordY - t.y, c.coordZ - t.z) <= Math.max(t.r, 3))) found += 1;
  falsePositives += candidates.filter(
    (c) => !truth.some((t) => Math.hypot(c.coordX - t.x, c.coordY - t.y, c.coordZ - t.z) <= Math.max(t.r, 3)),
  ).length;
}
const sensitivity = annotations.length === 0 ? 0 : found / annotations.length;
console.log(`train: ${found}/${annotations.length} nodules found, ${falsePositives} false positives over ${trainUids.length} scans`);

// Predict on the test split.
const rows = [];
for (const uid of await uids('test')) {
  for (const c of await scan('test', uid))
    rows.push([uid, c.coordX.toFixed(3), c.coordY.toFixed(3), c.coordZ.toFixed(3), c.probability.toFixed(4)].join(','));
}
const csv = ['seriesuid,coordX,coordY,coordZ,probability', ...rows].join('\n') + '\n';

async function post(path, body, type) {
  const r = await fetch(`${SANDBOX}${path}`, { method: 'POST', headers: { ...auth, 'content-type': type }, body });
  const receipt = await r.json();
  if (r.status !== 201 && r.status !== 202) process.exitCode = 1;
  return { status: r.status, receipt };
}
async function egress(kind, body, type) {
  const { status, receipt } = await post(`/v1/egress/${kind}`, body, type);
  console.log(`egress ${kind}: ${status} ${JSON.stringify(receipt)}`);
}
// The predictions never leave: the leaderboard scores them on its public test scans and
// answers with the team's score as its Ladder shows it.
const submitted = await post('/v1/submissions', csv, 'text/csv');
console.log(
  submitted.status === 201
    ? `submission: 201 public score ${submitted.receipt.score.public}${submitted.receipt.score.improved ? ' (improved)' : ''} ${JSON.stringify(submitted.receipt)}`
    : `submission: ${submitted.status} ${JSON.stringify(submitted.receipt)}`,
);
await egress(
  'metrics',
  JSON.stringify({
    n: annotations.length,
    metrics: { sensitivity, precision: found + falsePositives === 0 ? 0 : found / (found + falsePositives) },
  }),
  'application/json',
);
const budget = await (await get('/v1/egress/budget')).json();
console.log(`budget: ${budget.bitsRemaining} bits and ${budget.submissions.submissions.remaining} submissions left today`);
