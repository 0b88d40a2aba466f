import { createHash } from 'node:crypto';
import { referenceConsistency, referenceInclusion, type ReferenceMemo, referenceRoot } from './reference';
import {
  consistencyProof,
  emptyRoot,
  inclusionProof,
  leafHash,
  MissingNodeError,
  newCompleteNodes,
  nodeHash,
  nodeKey,
  nodesForConsistency,
  nodesForInclusion,
  nodesForRange,
  nodesForRoot,
  nodesNeededToExtend,
  rightEdge,
  rangeHash,
  rootAt,
  verifyConsistency,
  verifyInclusion,
} from './rfc6962';
import { allComplete, appendLeaves, flipBit, pick, seededRandom } from './test-support';

const hex = (b: Buffer): string => b.toString('hex');
const hexes = (bs: Buffer[]): string[] => bs.map(hex);

/** ceil(log2(n)) for n ≥ 1. */
function ceilLog2(n: number): number {
  let l = 0;
  while (2 ** l < n) l++;
  return l;
}

/** Builds a store for `leaves` by appending them in the given batch sizes (cycled). */
function buildStore(leaves: Buffer[], batchSizes: number[]): Map<string, Buffer> {
  const store = new Map<string, Buffer>();
  let start = 0;
  let b = 0;
  while (start < leaves.length) {
    const k = Math.min(batchSizes[b++ % batchSizes.length], leaves.length - start);
    appendLeaves(store, start, leaves.slice(start, start + k));
    start += k;
  }
  return store;
}

describe('RFC 6962 known answers', () => {
  // The leaf inputs and expected values of the RFC 6962 test data used by certificate-transparency
  // and transparency-dev/merkle.
  const inputs = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'];
  const leaves = inputs.map((h) => leafHash(Buffer.from(h, 'hex')));
  const roots = [
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
    'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
    '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
    'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
    '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
  ];
  const store = buildStore(leaves, [3]);

  it('roots of sizes 0..8', () => {
    expect(hex(rootAt(0, new Map()))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(hex(referenceRoot([]))).toBe(hex(emptyRoot()));
    roots.forEach((r, i) => {
      expect(hex(rootAt(i + 1, store))).toBe(r);
      expect(hex(referenceRoot(leaves.slice(0, i + 1)))).toBe(r);
    });
  });

  it('inclusion and consistency proofs', () => {
    expect(hexes(inclusionProof(0, 8, store))).toEqual([
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ]);
    expect(hexes(consistencyProof(1, 8, store))).toEqual([
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ]);
    expect(hexes(consistencyProof(6, 8, store))).toEqual([
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ]);
    expect(hexes(consistencyProof(2, 5, store))).toEqual([
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ]);
    expect(consistencyProof(8, 8, store)).toEqual([]);
    expect(consistencyProof(0, 8, store)).toEqual([]);
  });

  it('node hash is SHA-256(0x01 ‖ l ‖ r)', () => {
    const l = leaves[0];
    const r = leaves[1];
    expect(hex(nodeHash(l, r))).toBe(
      hex(
        createHash('sha256')
          .update(Buffer.concat([Buffer.from([1]), l, r]))
          .digest(),
      ),
    );
    expect(hex(nodeHash(l, r))).toBe(roots[1]);
  });
});

describe('storage-based trees equal the RFC definitions', () => {
  const N = 2000;
  const leaves = Array.from({ length: N }, (_, i) => leafHash(`{"leaf":${i}}`));
  const rand = seededRandom(6962);
  // Irregular batches, so nodes get completed across batch boundaries.
  const store = buildStore(leaves, [1, 7, 2, 64, 3, 100, 1, 513, 5, 31]);
  // A fork: same sizes, leaf 0 different, so no tree of it is a prefix of a tree of `leaves`.
  const forkLeaves = leaves.slice();
  forkLeaves[0] = leafHash('{"forged":0}');
  const forkStore = buildStore(forkLeaves, [N]);
  // A later fork: leaves differ from index 977 on.
  const lateFork = leaves.slice();
  lateFork[977] = leafHash('{"forged":977}');
  const lateForkStore = buildStore(lateFork, [250]);
  const memo: ReferenceMemo = new Map();
  const forkMemo: ReferenceMemo = new Map();
  const roots: Buffer[] = [emptyRoot()];
  for (let n = 1; n <= N; n++) roots.push(referenceRoot(leaves.slice(0, n), memo));
  const forkRoots = Array.from({ length: N + 1 }, (_, n) => rootAt(n, forkStore));

  it('building in one batch or many gives the same store', () => {
    const oneBatch = buildStore(leaves, [N]);
    expect(oneBatch.size).toBe(store.size);
    for (const [k, v] of store) expect(oneBatch.get(k)?.equals(v)).toBe(true);
    // 2N - popcount(N) complete aligned nodes (leaves included).
    expect(store.size).toBe(2 * N - N.toString(2).replace(/0/g, '').length);
  });

  it(`every size 1..${N}: rootAt = MTH, from only the planned nodes`, () => {
    for (let n = 1; n <= N; n++) {
      const ids = nodesForRoot(n);
      expect(ids.length).toBeLessThanOrEqual(ceilLog2(n) + 1);
      if (!allComplete(ids, n)) throw new Error(`size ${n}: root plan names an incomplete node`);
      const got = rootAt(n, pick(store, ids));
      if (!got.equals(roots[n])) throw new Error(`size ${n}: root ${hex(got)} != ${hex(roots[n])}`);
    }
  });

  it(`every size 1..${N}: sampled inclusion proofs equal PATH, verify, and fail when altered`, () => {
    let checked = 0;
    for (let n = 1; n <= N; n++) {
      const slice = leaves.slice(0, n);
      const indexes = new Set([0, n - 1, rand(n), rand(n)]);
      for (const m of indexes) {
        const ids = nodesForInclusion(m, n);
        if (ids.length > 2 * ceilLog2(n)) throw new Error(`(${m}, ${n}): ${ids.length} nodes`);
        if (!allComplete(ids, n)) throw new Error(`(${m}, ${n}): plan names an incomplete node`);
        const proof = inclusionProof(m, n, pick(store, ids));
        const expected = referenceInclusion(m, slice, memo);
        if (hexes(proof).join() !== hexes(expected).join()) throw new Error(`(${m}, ${n}): proof differs from PATH`);
        const root = roots[n];
        const leaf = leaves[m];
        const fail = (why: string): never => {
          throw new Error(`inclusion (${m}, ${n}): ${why}`);
        };
        if (!verifyInclusion(leaf, m, n, proof, root)) fail('does not verify');
        if (verifyInclusion(flipBit(leaf, rand(256)), m, n, proof, root)) fail('verifies another leaf');
        if (verifyInclusion(leaf, m, n, proof, flipBit(root, rand(256)))) fail('verifies against another root');
        if (proof.length > 0) {
          const i = rand(proof.length);
          const bent = proof.slice();
          bent[i] = flipBit(bent[i], rand(256));
          if (verifyInclusion(leaf, m, n, bent, root)) fail(`verifies with a bit of element ${i} flipped`);
        }
        if (verifyInclusion(leaf, m, n, [...proof, leaf], root)) fail('verifies lengthened');
        for (const other of [m + 1 < n ? m + 1 : m - 1, rand(n)]) {
          if (other !== m && other >= 0 && other < n && verifyInclusion(leaf, other, n, proof, root)) fail(`verifies at index ${other}`);
        }
        for (const other of [n + 1, rand(N) + 1]) {
          // A proof binds the size through the root: the wrong size with that size's root fails.
          if (other !== n && other > m && other <= N && verifyInclusion(leaf, m, other, proof, roots[other]))
            fail(`verifies at size ${other}`);
        }
        if (verifyInclusion(leaf, m, n, proof, forkRoots[n])) fail('verifies against the fork');
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(3 * N);
  });

  it(`every size 1..${N}: sampled consistency proofs equal PROOF, verify, and fail when altered or forked`, () => {
    let checked = 0;
    for (let n = 1; n <= N; n++) {
      const slice = leaves.slice(0, n);
      const froms = new Set([1, n, n - 1, rand(n) + 1, rand(n) + 1]);
      for (const m of froms) {
        if (m < 1) continue;
        const ids = nodesForConsistency(m, n);
        if (ids.length > 2 * ceilLog2(n) + 1) throw new Error(`(${m}, ${n}): ${ids.length} nodes`);
        if (!allComplete(ids, n)) throw new Error(`(${m}, ${n}): plan names an incomplete node`);
        const proof = consistencyProof(m, n, pick(store, ids));
        const expected = referenceConsistency(m, slice, memo);
        if (hexes(proof).join() !== hexes(expected).join()) throw new Error(`(${m}, ${n}): proof differs from PROOF`);
        const fail = (why: string): never => {
          throw new Error(`consistency (${m}, ${n}): ${why}`);
        };
        const [rm, rn] = [roots[m], roots[n]];
        if (!verifyConsistency(m, n, rm, rn, proof)) fail('does not verify');
        if (m === n) {
          if (proof.length !== 0) fail('not empty for equal sizes');
        } else {
          const i = rand(proof.length);
          const bent = proof.slice();
          bent[i] = flipBit(bent[i], rand(256));
          if (verifyConsistency(m, n, rm, rn, bent)) fail(`verifies with a bit of element ${i} flipped`);
          if (verifyConsistency(m, n, rm, rn, proof.slice(1))) fail('verifies without its first element');
          if (verifyConsistency(m, n, rm, rn, [...proof, rn])) fail('verifies lengthened');
          if (verifyConsistency(m, n, rm, rn, [])) fail('verifies empty');
          for (const other of [m + 1]) {
            if (other >= 1 && other <= n && other !== m && verifyConsistency(other, n, roots[other], rn, proof))
              fail(`verifies from ${other}`);
          }
          for (const other of [n + 1]) {
            if (other >= m && other <= N && other !== n && verifyConsistency(m, other, rm, roots[other], proof))
              fail(`verifies to ${other}`);
          }
        }
        if (verifyConsistency(m, n, flipBit(rm, 3), rn, proof)) fail('verifies another first root');
        if (verifyConsistency(m, n, rm, flipBit(rn, 200), proof)) fail('verifies another second root');

        // Forks: the fork's first m leaves differ (leaf 0), so neither its proof nor ours may link
        // its size-m tree to our size-n tree, nor our size-m tree to its size-n tree.
        const [forkM, forkN] = [forkRoots[m], forkRoots[n]];
        const forkProof = consistencyProof(m, n, forkStore);
        if (hexes(forkProof).join() !== hexes(referenceConsistency(m, forkLeaves.slice(0, n), forkMemo)).join())
          fail('fork proof differs from PROOF');
        if (!verifyConsistency(m, n, forkM, forkN, forkProof)) fail('the fork does not verify against itself');
        if (verifyConsistency(m, n, forkM, rn, proof) || verifyConsistency(m, n, forkM, rn, forkProof)) fail('links the fork to our tree');
        if (verifyConsistency(m, n, rm, forkN, proof) || verifyConsistency(m, n, rm, forkN, forkProof)) fail('links our tree to the fork');
        // Two different trees of the same size.
        if (verifyConsistency(n, n, rn, forkN, [])) fail('two trees of the same size are consistent');
        // The late fork shares leaves [0, 977): consistent with us only while m ≤ 977.
        if (n > 977) {
          const lateN = rootAt(n, lateForkStore);
          const linked = verifyConsistency(m, n, rm, lateN, consistencyProof(m, n, lateForkStore));
          if (linked !== m <= 977) fail(`late fork: linked = ${linked}`);
        }
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(3 * N);
  });

  it('exhaustively for sizes up to 40: every index and every from', () => {
    for (let n = 1; n <= 40; n++) {
      const slice = leaves.slice(0, n);
      const fail = (why: string): never => {
        throw new Error(`size ${n}: ${why}`);
      };
      for (let m = 0; m < n; m++) {
        const proof = inclusionProof(m, n, pick(store, nodesForInclusion(m, n)));
        if (hexes(proof).join() !== hexes(referenceInclusion(m, slice, memo)).join()) fail(`inclusion of ${m} differs from PATH`);
        if (!verifyInclusion(leaves[m], m, n, proof, roots[n])) fail(`inclusion of ${m} does not verify`);
        for (let other = 0; other < n; other++) {
          if (other !== m && verifyInclusion(leaves[m], other, n, proof, roots[n])) fail(`inclusion of ${m} verifies at ${other}`);
        }
      }
      for (let m = 0; m <= n; m++) {
        const proof = consistencyProof(m, n, pick(store, nodesForConsistency(m, n)));
        if (hexes(proof).join() !== hexes(referenceConsistency(m, slice, memo)).join()) fail(`consistency from ${m} differs from PROOF`);
        if (!verifyConsistency(m, n, roots[m], roots[n], proof)) fail(`consistency from ${m} does not verify`);
        for (let other = 1; other <= n; other++) {
          if (other !== m && m > 0 && verifyConsistency(other, n, roots[other], roots[n], proof))
            fail(`consistency from ${m} verifies from ${other}`);
        }
      }
    }
  });

  it('aligned ranges hash like the definition; misaligned ones are refused', () => {
    for (const [a, b] of [
      [0, 0],
      [0, 1],
      [512, 1024],
      [1024, 1999],
      [1536, 1800],
      [1999, 2000],
      [0, 2000],
    ] as const) {
      expect(hex(rangeHash(a, b, pick(store, nodesForRange(a, b))))).toBe(hex(referenceRoot(leaves.slice(a, b))));
    }
    expect(() => nodesForRange(3, 6)).toThrow(/not aligned/);
    expect(() => rangeHash(512, 1025, store)).toThrow(/not aligned/);
  });
});

describe('incremental maintenance', () => {
  const leaves = Array.from({ length: 300 }, (_, i) => leafHash(`x${i}`));

  it('needs only O(log n) stored nodes, never a node it creates, and names them exactly', () => {
    const store = new Map<string, Buffer>();
    let start = 0;
    const rand = seededRandom(1);
    while (start < leaves.length) {
      const k = Math.min(1 + rand(20), leaves.length - start);
      const needed = nodesNeededToExtend(start, k);
      expect(needed.length).toBeLessThanOrEqual(ceilLog2(start + k) + 1);
      expect(allComplete(needed, start)).toBe(true);
      const created = newCompleteNodes(start, leaves.slice(start, start + k), pick(store, needed));
      for (const id of needed) expect(created.has(nodeKey(id.level, id.index))).toBe(false);
      // Each needed node is really read: without it, the computation fails.
      for (const id of needed) {
        const partial = pick(store, needed);
        partial.delete(nodeKey(id.level, id.index));
        expect(() => newCompleteNodes(start, leaves.slice(start, start + k), partial)).toThrow(MissingNodeError);
      }
      // The created nodes are exactly the level ≥ 1 nodes that end in (start, start + k].
      for (const key of created.keys()) {
        const [level, index] = key.split(':').map(Number) as [number, number];
        expect(level).toBeGreaterThanOrEqual(1);
        const end = (index + 1) * 2 ** level;
        expect(end > start && end <= start + k).toBe(true);
      }
      appendLeaves(store, start, leaves.slice(start, start + k));
      start += k;
    }
    expect(hex(rootAt(300, store))).toBe(hex(referenceRoot(leaves)));
  });

  it('the right edge holds every node any extension reads, and a writer keeping only it appends without reading', () => {
    for (let size = 0; size <= 300; size++) {
      const edge = new Set(rightEdge(size).map((id) => nodeKey(id.level, id.index)));
      expect(edge.size).toBeLessThanOrEqual(ceilLog2(size + 1) + 1);
      expect(allComplete(rightEdge(size), size)).toBe(true);
      for (const k of [1, 2, 3, 7, 64, 300])
        for (const id of nodesNeededToExtend(size, k)) expect(edge.has(nodeKey(id.level, id.index))).toBe(true);
    }
    // A writer that keeps the edge and nothing else builds the same tree as the definition.
    let edge = new Map<string, Buffer>();
    const store = new Map<string, Buffer>();
    const rand = seededRandom(7);
    let start = 0;
    while (start < leaves.length) {
      const k = Math.min(1 + rand(20), leaves.length - start);
      const batch = leaves.slice(start, start + k);
      const created = newCompleteNodes(start, batch, edge);
      appendLeaves(store, start, batch);
      const known = new Map([...edge, ...created, ...batch.map((h, i) => [nodeKey(0, start + i), h] as const)]);
      start += k;
      edge = new Map(rightEdge(start).map((id) => [nodeKey(id.level, id.index), known.get(nodeKey(id.level, id.index))!]));
      for (const h of edge.values()) expect(h).toBeDefined();
    }
    expect(hex(rootAt(300, store))).toBe(hex(referenceRoot(leaves)));
    expect(rightEdge(0)).toEqual([]);
    expect(rightEdge(1)).toEqual([{ level: 0, index: 0 }]);
    expect(rightEdge(6)).toEqual([
      { level: 1, index: 2 },
      { level: 2, index: 0 },
    ]);
  });

  it('an empty batch creates nothing; a missing node is reported with its position', () => {
    expect(newCompleteNodes(5, [], new Map()).size).toBe(0);
    expect(nodesNeededToExtend(5, 0)).toEqual([]);
    expect(() => newCompleteNodes(1, [leaves[1]], new Map())).toThrow(/level 0 index 0 is missing/);
    expect(() => rootAt(3, new Map())).toThrow(MissingNodeError);
    expect(() => newCompleteNodes(0, [Buffer.alloc(31)], new Map())).toThrow(/32 bytes/);
  });
});

describe('argument checks', () => {
  it('refuses impossible requests and never throws while verifying', () => {
    expect(() => nodesForInclusion(5, 5)).toThrow(RangeError);
    expect(() => nodesForInclusion(-1, 5)).toThrow(RangeError);
    expect(() => nodesForConsistency(6, 5)).toThrow(RangeError);
    expect(() => nodesForRoot(1.5)).toThrow(RangeError);
    expect(() => nodeKey(0, -1)).toThrow(RangeError);
    expect(nodesForRoot(0)).toEqual([]);
    expect(nodesForConsistency(0, 9)).toEqual([]);
    expect(nodesForConsistency(9, 9)).toEqual([]);
    const h = leafHash('a');
    expect(verifyInclusion(h, 0, 1, [], h)).toBe(true);
    expect(verifyInclusion(h, 1, 1, [], h)).toBe(false);
    expect(verifyInclusion(h, 0, 0, [], h)).toBe(false);
    expect(verifyInclusion(h, -1, 1, [], h)).toBe(false);
    expect(verifyInclusion(h, 0, 2, [Buffer.alloc(31)], h)).toBe(false);
    expect(verifyInclusion(Buffer.alloc(0), 0, 1, [], h)).toBe(false);
    expect(verifyConsistency(0, 5, emptyRoot(), h, [])).toBe(true);
    expect(verifyConsistency(0, 5, h, h, [])).toBe(false);
    expect(verifyConsistency(0, 5, emptyRoot(), h, [h])).toBe(false);
    expect(verifyConsistency(3, 3, h, h, [])).toBe(true);
    expect(verifyConsistency(3, 3, h, h, [h])).toBe(false);
    expect(verifyConsistency(4, 3, h, h, [h])).toBe(false);
  });

  it('sizes beyond 2^32 are planned with exact arithmetic', () => {
    const size = 2 ** 40 + 2 ** 33 + 5;
    expect(nodesForRoot(size)).toEqual([
      { level: 40, index: 0 },
      { level: 33, index: 128 },
      { level: 2, index: (2 ** 40 + 2 ** 33) / 4 },
      { level: 0, index: 2 ** 40 + 2 ** 33 + 4 },
    ]);
    const ids = nodesForInclusion(2 ** 40 + 2 ** 33 + 1, size);
    expect(allComplete(ids, size)).toBe(true);
    expect(ids.length).toBeLessThanOrEqual(2 * 42);
    expect(allComplete(nodesForConsistency(2 ** 35 + 3, size), size)).toBe(true);
  });
});
