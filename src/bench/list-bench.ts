import { type Answer, type GatewayClient } from './http-load';
import { processCpuUs } from './processes';
import { type FigureResult, type RowId } from './report';
import { type Rig } from './rig';
import { distribution, fmt, nowNs, nsToMs } from './stats';

/**
 * Figure 10: a listing page against the dataset's size. Two datasets are registered through the
 * control API over the rig's bucket, one of 20 keys and one of 10,000, indexed, and granted to
 * the demo team; the same page of 10 keys is then listed from each, in alternating blocks, so
 * both see the same machine. A listing read from the dataset's index costs the same whatever
 * the dataset's size; one that lists the store does not (the direct column: the store's own
 * ListObjectsV2 of 10 keys under the big prefix).
 */

export const LIST_ROW: RowId = {
  id: 'list-vs-size',
  figure: '10. list 10 keys: 10,000-key dataset vs 20-key',
  target: 'independent of dataset size (≤ 1.25×)',
};

const SIZES = { small: 20, big: 10_000 } as const;
const BLOCKS = 10;
const PER_BLOCK = 40;
const PUT_CONCURRENCY = 32;

async function control(rig: Rig, method: string, path: string, body?: unknown): Promise<Answer> {
  const t0 = nowNs();
  const r = await fetch(`${rig.control.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${rig.control.organizerToken}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, body: Buffer.from(await r.arrayBuffer()), totalNs: nowNs() - t0 };
}

function ok(what: string, a: Answer, ...statuses: number[]): Answer {
  if (!statuses.includes(a.status)) throw new Error(`${what}: status ${a.status}: ${a.body.toString().slice(0, 300)}`);
  return a;
}

/** A dataset of `keys` one-byte objects in the rig's bucket, registered, indexed and granted to the demo team. */
async function dataset(rig: Rig, id: string, keys: number): Promise<void> {
  let next = 0;
  const body = Buffer.from('k');
  await Promise.all(
    Array.from({ length: PUT_CONCURRENCY }, async () => {
      while (next < keys) {
        const i = next++;
        await rig.store.put(rig.bucket, `${id}/train/k-${String(i).padStart(6, '0')}`, body, 'application/octet-stream', 1);
      }
    }),
  );
  ok(
    `register ${id}`,
    await control(rig, 'POST', '/v1/datasets', {
      id,
      bucket: rig.bucket,
      prefix: `${id}/`,
      splits: [{ name: 'train', kind: 'train', prefix: 'train/' }],
    }),
    201,
  );
  ok(`index ${id}`, await control(rig, 'POST', `/v1/datasets/${id}/index`), 202);
  for (let i = 0; ; i++) {
    const run = JSON.parse(ok(`index ${id}`, await control(rig, 'GET', `/v1/datasets/${id}/index`), 200).body.toString()) as {
      state: string;
      objectsSeen: number;
      error: string | null;
    };
    if (run.state === 'done' && run.objectsSeen === keys) break;
    if (run.state !== 'running' || i > 1200) throw new Error(`index ${id}: ${run.state}, ${run.objectsSeen} objects, ${run.error ?? ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const now = Date.now();
  ok(
    `grant ${id}`,
    await control(rig, 'POST', '/v1/grants', {
      team: rig.control.team,
      dataset: id,
      split: 'train',
      notBefore: new Date(now - 3600_000).toISOString(),
      notAfter: new Date(now + 86_400_000).toISOString(),
    }),
    201,
  );
}

export async function listFigure(rig: Rig, log: (msg: string) => void): Promise<FigureResult> {
  log(`listing: two datasets of ${SIZES.small} and ${SIZES.big.toLocaleString('en-US')} keys`);
  await dataset(rig, 'list-small', SIZES.small);
  await dataset(rig, 'list-big', SIZES.big);
  const gw: GatewayClient = rig.gw.fresh();
  try {
    const list = async (id: string) => {
      const a = await gw.send('GET', `/v1/datasets/${id}/objects?prefix=train%2F&limit=10`);
      const page = JSON.parse(a.body.toString()) as { objects?: unknown[] };
      if (a.status !== 200 || page.objects?.length !== 10)
        throw new Error(`list ${id}: status ${a.status}, ${page.objects?.length ?? 0} keys`);
      return nsToMs(a.totalNs);
    };
    // The new grants reach the team's cached grants within a second.
    for (let i = 0; ; i++) {
      try {
        await list('list-small');
        await list('list-big');
        break;
      } catch (err) {
        if (i > 50) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const ms = { small: [] as number[], big: [] as number[] };
    const cpu = { small: 0, big: 0 };
    for (let b = 0; b < BLOCKS; b++) {
      for (const which of b % 2 === 0 ? (['small', 'big'] as const) : (['big', 'small'] as const)) {
        const c0 = processCpuUs(rig.gateway.pid);
        for (let i = 0; i < PER_BLOCK; i++) ms[which].push(await list(`list-${which}`));
        cpu[which] += processCpuUs(rig.gateway.pid) - c0;
      }
    }
    const direct: number[] = [];
    for (let i = 0; i < 50; i++) {
      const s = nowNs();
      await rig.store.list(rig.bucket, 'list-big/train/', undefined, 10);
      direct.push(nsToMs(nowNs() - s));
    }
    const n = BLOCKS * PER_BLOCK;
    const small = { ...distribution(ms.small), cpu: cpu.small / n };
    const big = { ...distribution(ms.big), cpu: cpu.big / n };
    const ratio = big.p50 / small.p50;
    const cpuRatio = big.cpu / small.cpu;
    return {
      ...LIST_ROW,
      measured:
        `${SIZES.big.toLocaleString('en-US')} keys: p50 ${fmt(big.p50, 2)} ms, ${fmt(big.cpu, 0)} µs CPU; ` +
        `${SIZES.small} keys: p50 ${fmt(small.p50, 2)} ms, ${fmt(small.cpu, 0)} µs CPU (×${fmt(ratio, 2)} time, ×${fmt(cpuRatio, 2)} CPU)`,
      direct: `store ListObjectsV2 of 10 keys under the big prefix: p50 ${fmt(distribution(direct).p50, 2)} ms`,
      pass: ratio <= 1.25 && cpuRatio <= 1.25,
      values: {
        unit: 'ms',
        listingsEach: n,
        smallDatasetKeys: SIZES.small,
        bigDatasetKeys: SIZES.big,
        smallP50Ms: small.p50,
        smallP99Ms: small.p99,
        smallCpuUsPerListing: small.cpu,
        bigP50Ms: big.p50,
        bigP99Ms: big.p99,
        bigCpuUsPerListing: big.cpu,
        timeRatio: ratio,
        cpuRatio,
        directStoreListP50Ms: distribution(direct).p50,
      },
    };
  } finally {
    gw.close();
  }
}
