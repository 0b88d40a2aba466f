import { hash } from 'node:crypto';

/**
 * Naive RFC 6962 §2.1 definitions, written straight from the recursive text and sharing no code
 * with rfc6962.ts, as the oracle for its tests. D is the list of LEAF HASHES (MTH({d0}) = d0 here).
 *
 * `memo`, optional (a Map will do), caches MTH(D[a:b]) under the key `${a}:${b}` (it may keep
 * only some). The hash of a range depends only on the leaves in it, so one memo may be shared by
 * calls over prefixes of the same leaf sequence (and only those).
 */
export interface ReferenceMemo {
  get(key: string): Buffer | undefined;
  set(key: string, hash: Buffer): unknown;
}

function sha256(...parts: Buffer[]): Buffer {
  return hash('sha256', Buffer.concat(parts), 'buffer');
}

/** k: the largest power of two smaller than n (n > 1). */
function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function mth(d: readonly Buffer[], a: number, b: number, memo?: ReferenceMemo): Buffer {
  const n = b - a;
  // MTH({}) = SHA-256().
  if (n === 0) return sha256();
  // MTH({d0}) = SHA-256(0x00 || d0): the leaf hash, which D already holds.
  if (n === 1) return d[a];
  const key = `${a}:${b}`;
  const cached = memo?.get(key);
  if (cached !== undefined) return cached;
  // MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])).
  const k = largestPowerOfTwoBelow(n);
  const h = sha256(Buffer.from([1]), mth(d, a, a + k, memo), mth(d, a + k, b, memo));
  memo?.set(key, h);
  return h;
}

/** MTH(D[n]) for n = leafHashes.length. */
export function referenceRoot(leafHashes: readonly Buffer[], memo?: ReferenceMemo): Buffer {
  return mth(leafHashes, 0, leafHashes.length, memo);
}

/** PATH(m, D[n]) for n = leafHashes.length. */
export function referenceInclusion(m: number, leafHashes: readonly Buffer[], memo?: ReferenceMemo): Buffer[] {
  if (!(m >= 0 && m < leafHashes.length)) throw new RangeError('m out of range');
  const path = (m: number, a: number, b: number): Buffer[] => {
    const n = b - a;
    // PATH(0, {d0}) = {}.
    if (n === 1) return [];
    const k = largestPowerOfTwoBelow(n);
    // m < k: PATH(m, D[0:k]) : MTH(D[k:n]); m >= k: PATH(m - k, D[k:n]) : MTH(D[0:k]).
    if (m < k) return [...path(m, a, a + k), mth(leafHashes, a + k, b, memo)];
    return [...path(m - k, a + k, b), mth(leafHashes, a, a + k, memo)];
  };
  return path(m, 0, leafHashes.length);
}

/** PROOF(m, D[n]) = SUBPROOF(m, D[n], true) for n = leafHashes.length; {} when m is 0 or n. */
export function referenceConsistency(m: number, leafHashes: readonly Buffer[], memo?: ReferenceMemo): Buffer[] {
  if (!(m >= 0 && m <= leafHashes.length)) throw new RangeError('m out of range');
  if (m === 0) return [];
  const subproof = (m: number, a: number, b: number, whole: boolean): Buffer[] => {
    const n = b - a;
    // SUBPROOF(m, D[m], true) = {}; SUBPROOF(m, D[m], false) = {MTH(D[m])}.
    if (m === n) return whole ? [] : [mth(leafHashes, a, b, memo)];
    const k = largestPowerOfTwoBelow(n);
    // m <= k: SUBPROOF(m, D[0:k], b) : MTH(D[k:n]).
    if (m <= k) return [...subproof(m, a, a + k, whole), mth(leafHashes, a + k, b, memo)];
    // m > k: SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k]).
    return [...subproof(m - k, a + k, b, false), mth(leafHashes, a, a + k, memo)];
  };
  return subproof(m, 0, leafHashes.length, true);
}
