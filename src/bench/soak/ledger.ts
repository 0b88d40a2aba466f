import { type AuditLeaf } from '../../audit/audit-leaf';
import { verifyExport } from '../../audit/verify/offline-verifier';
import { type Observation } from './load';

/**
 * The soak suite's books: the audit log exported as a compliance officer exports it, verified
 * offline against the gateway's signed checkpoints, and held against what the clients saw.
 * Every answer that carried object bytes (a whole body or a cut one) must have exactly one
 * `allow` leaf with its request id, and every refusal exactly one `deny` leaf: nothing served
 * unlogged, no leaf lost, none doubled.
 */
export interface Books {
  leaves: number;
  covered: number;
  /** Answers with object bytes and no allow leaf (must be 0). */
  servedUnlogged: number;
  /** Decided answers (served or refused) without exactly one leaf (must be 0). */
  wrongLeafCount: number;
  /** The first few problems, for the report. */
  problems: string[];
  verifyError: string | undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function auditBooks(controlUrl: string, auditorToken: string, observed: Observation[]): Promise<Books> {
  const get = async (path: string) => {
    const res = await fetch(`${controlUrl}${path}`, { headers: { authorization: `Bearer ${auditorToken}` } });
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res;
  };
  type Cps = { checkpoints: { size: number; note: string }[] };
  // Quiet now: wait until the checkpoints stop growing, so the newest one covers every leaf.
  let cps = (await (await get('/v1/audit/checkpoints')).json()) as Cps;
  for (let stable = 0, i = 0; stable < 2 && i < 60; i++) {
    await sleep(1500);
    const next = (await (await get('/v1/audit/checkpoints')).json()) as Cps;
    stable = next.checkpoints[0]?.size === cps.checkpoints[0]?.size ? stable + 1 : 0;
    cps = next;
  }
  const latest = cps.checkpoints[0];
  if (latest === undefined) throw new Error('the gateway signed no checkpoint');
  const exported = await (await get(`/v1/audit/export?format=jsonl&to=${latest.size}`)).text();
  const hashes = await (await get(`/v1/audit/leaf-hashes?to=${latest.size}`)).text();
  const keys = (await (await get('/v1/audit/checkpoint/keys')).json()) as { keys: { verifierKey: string }[] };
  const lines = exported
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => Buffer.from(l));
  const leafHashes = new Map(
    hashes
      .trim()
      .split('\n')
      .map((l) => l.split(/\s+/))
      .map(([i, h]) => [Number(i), h ?? ''] as [number, string]),
  );
  const verdict = verifyExport(
    { lines, leafHashes, checkpoints: cps.checkpoints.map((c) => c.note) },
    keys.keys.map((k) => k.verifierKey),
  );

  const byRequest = new Map<string, AuditLeaf[]>();
  for (const l of lines) {
    const leaf = JSON.parse(l.toString()) as AuditLeaf;
    const list = byRequest.get(leaf.requestId);
    if (list === undefined) byRequest.set(leaf.requestId, [leaf]);
    else list.push(leaf);
  }
  const problems: string[] = [];
  let servedUnlogged = 0;
  let wrongLeafCount = 0;
  for (const o of observed) {
    const served = o.outcome === 'ok' || o.outcome === 'cut';
    if (!served && o.outcome !== 'refused') continue;
    if (o.status === 0) continue; // a cut before any answer carried no bytes
    const leaves = (o.requestId === undefined ? undefined : byRequest.get(o.requestId)) ?? [];
    const decisions = leaves.filter((l) => l.action === 'read');
    if (served && !decisions.some((l) => l.decision === 'allow' && (l.status === 200 || l.status === 206))) {
      servedUnlogged += 1;
      if (problems.length < 5) problems.push(`served without an allow leaf: ${JSON.stringify(o)}`);
    }
    if (decisions.length !== 1) {
      wrongLeafCount += 1;
      if (problems.length < 5) problems.push(`${decisions.length} read leaves for ${JSON.stringify(o)}`);
    }
  }
  return {
    leaves: lines.length,
    covered: verdict.ok ? verdict.covered : 0,
    servedUnlogged,
    wrongLeafCount,
    problems,
    verifyError: verdict.ok ? undefined : verdict.reason,
  };
}
