import { hash } from 'node:crypto';
import { referenceConsistency, referenceInclusion, type ReferenceMemo, referenceRoot } from './reference';
import {
  consistencyProof,
  inclusionProof,
  nodeKey,
  nodesForConsistency,
  nodesForInclusion,
  nodesForRoot,
  rootAt,
  verifyConsistency,
  verifyInclusion,
} from './rfc6962';
import { allComplete, appendLeaves, FlatStore, flipBit, pick, seededRandom } from './test-support';

/** Leaf hash i = SHA-256(i as 8-byte big-endian). */
function leafAt(i: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32BE(Math.floor(i / 2 ** 32), 0);
  b.writeUInt32BE(i % 2 ** 32, 4);
  return hash('sha256', b, 'buffer');
}

/** Leaf hashes 0..n-1, as views into one buffer (millions of separate Buffers slow the GC down). */
function leafHashes(n: number): Buffer[] {
  const flat = Buffer.alloc(n * 32);
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    leafAt(i).copy(flat, i * 32);
    out.push(flat.subarray(i * 32, i * 32 + 32));
  }
  return out;
}

/** A reference memo that keeps only subtrees of ≥ 64 leaves: bounded memory, cheap proofs. */
function coarseMemo(): ReferenceMemo {
  const kept = new Map<string, Buffer>();
  return {
    get: (key) => kept.get(key),
    set: (key, hash) => {
      const colon = key.indexOf(':');
      if (Number(key.slice(colon + 1)) - Number(key.slice(0, colon)) >= 64) kept.set(key, hash);
    },
  };
}

describe('a tree of a million leaves, grown in batches of 512', () => {
  const N = 2 ** 20 + 12345;
  const BATCH = 512;
  const leaves = leafHashes(N);
  const store = new FlatStore(N);
  const memo = coarseMemo();
  const rand = seededRandom(20);
  const sizes = [N, N - 1, 2 ** 20, 2 ** 20 - 1, 2 ** 20 + 1, 999_999, 2 ** 19 + 3, rand(N) + 1, rand(N) + 1];
  const roots = new Map<number, Buffer>();

  beforeAll(() => {
    for (let start = 0; start < N; start += BATCH) appendLeaves(store, start, leaves.slice(start, start + BATCH));
    // The reference, once over the whole tree; the memo makes the other sizes cheap (their
    // complete subtrees are shared), which is valid because they are prefixes of the same leaves.
    referenceRoot(leaves, memo);
    for (const s of sizes) roots.set(s, referenceRoot(leaves.slice(0, s), memo));
  });

  it('the store holds exactly the complete aligned nodes', () => {
    const popcount = N.toString(2).replace(/0/g, '').length;
    expect(store.size).toBe(2 * N - popcount);
    expect(store.get(nodeKey(20, 0))).toBeDefined();
    expect(store.get(nodeKey(20, 1))).toBeUndefined();
    expect(store.get(nodeKey(13, Math.floor(N / 2 ** 13) - 1))).toBeDefined();
    expect(store.get(nodeKey(13, Math.floor(N / 2 ** 13)))).toBeUndefined();
  });

  it('rootAt equals MTH at sizes in the millions, from O(log n) nodes', () => {
    for (const s of sizes) {
      const ids = nodesForRoot(s);
      expect(ids.length).toBeLessThanOrEqual(21);
      expect(rootAt(s, pick(store, ids)).toString('hex')).toBe(roots.get(s)!.toString('hex'));
    }
  });

  it('inclusion proofs equal PATH and verify; altered ones do not', () => {
    for (const s of sizes) {
      const slice = leaves.slice(0, s);
      const root = roots.get(s)!;
      for (const m of [0, s - 1, Math.floor(s / 2), rand(s), rand(s)]) {
        const ids = nodesForInclusion(m, s);
        expect(ids.length).toBeLessThanOrEqual(42);
        expect(allComplete(ids, s)).toBe(true);
        const proof = inclusionProof(m, s, pick(store, ids));
        expect(proof.map((h) => h.toString('hex'))).toEqual(referenceInclusion(m, slice, memo).map((h) => h.toString('hex')));
        expect(verifyInclusion(leaves[m], m, s, proof, root)).toBe(true);
        const bent = proof.slice();
        const i = rand(proof.length);
        bent[i] = flipBit(bent[i], rand(256));
        expect(verifyInclusion(leaves[m], m, s, bent, root)).toBe(false);
        expect(verifyInclusion(leaves[m], m === 0 ? 1 : m - 1, s, proof, root)).toBe(false);
        expect(verifyInclusion(leafAt(N + 1), m, s, proof, root)).toBe(false);
      }
    }
  });

  it('consistency proofs between the sizes equal PROOF and verify; altered ones do not', () => {
    const sorted = [...new Set(sizes)].sort((a, b) => a - b);
    for (let x = 0; x < sorted.length; x++) {
      for (let y = x; y < sorted.length; y++) {
        const [m, n] = [sorted[x], sorted[y]];
        const ids = nodesForConsistency(m, n);
        expect(ids.length).toBeLessThanOrEqual(43);
        expect(allComplete(ids, n)).toBe(true);
        const proof = consistencyProof(m, n, pick(store, ids));
        expect(proof.map((h) => h.toString('hex'))).toEqual(
          referenceConsistency(m, leaves.slice(0, n), memo).map((h) => h.toString('hex')),
        );
        expect(verifyConsistency(m, n, roots.get(m)!, roots.get(n)!, proof)).toBe(true);
        if (m < n) {
          const bent = proof.slice();
          const i = rand(proof.length);
          bent[i] = flipBit(bent[i], rand(256));
          expect(verifyConsistency(m, n, roots.get(m)!, roots.get(n)!, bent)).toBe(false);
          expect(verifyConsistency(m, n, flipBit(roots.get(m)!, 9), roots.get(n)!, proof)).toBe(false);
          expect(verifyConsistency(m, n, roots.get(m)!, flipBit(roots.get(n)!, 9), proof)).toBe(false);
        }
      }
    }
  });
});
